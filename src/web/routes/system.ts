import type { RoutePlugin } from './index.js';

export const systemRoutes: RoutePlugin = async (app, { desk, requireRole }) => {
  app.get('/api/v1/health', {
    schema: {
      tags: ['system'], summary: 'Liveness and database reachability', security: [],
      response: { 200: { type: 'object', properties: { status: { type: 'string' }, database: { type: 'string' } }, required: ['status', 'database'] } },
    },
  }, async () => {
    await desk.db.query('SELECT 1');
    return { status: 'ok', database: desk.db.kind };
  });

  app.get('/api/v1/whoami', {
    onRequest: requireRole('admin', 'operator', 'legal', 'reporter', 'customer'),
    schema: {
      tags: ['system'], summary: 'The API key in use: its name, roles and whom it speaks for',
      response: { 200: { type: 'object', properties: {
        key_id: { type: 'integer' }, name: { type: 'string' }, roles: { type: 'array', items: { type: 'string' } },
        reporter_id: { type: ['string', 'null'] }, customer_id: { type: ['string', 'null'] },
      } } },
    },
  }, async (req) => {
    const p = req.principal!;
    return { key_id: p.keyId, name: p.name, roles: p.roles, reporter_id: p.reporterId, customer_id: p.customerId };
  });
};
