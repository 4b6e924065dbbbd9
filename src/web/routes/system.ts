import type { RoutePlugin } from './index.js';

export const systemRoutes: RoutePlugin = async (app, { desk }) => {
  app.get('/api/v1/health', {
    schema: {
      tags: ['system'], summary: 'Liveness and database reachability', security: [],
      response: { 200: { type: 'object', properties: { status: { type: 'string' }, database: { type: 'string' } }, required: ['status', 'database'] } },
    },
  }, async () => {
    await desk.db.query('SELECT 1');
    return { status: 'ok', database: desk.db.kind };
  });
};
