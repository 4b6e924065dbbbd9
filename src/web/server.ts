// The HTTP side of the desk: the REST API (OpenAPI document at /api/openapi.json, generated from
// the JSON schemas every route declares) and the operators' web pages.
import { readFileSync } from 'node:fs';
import Fastify, { type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import type { Desk } from '../desk.js';
import { authenticator } from './auth.js';
import { routes } from './routes/index.js';
const pkgVersion = (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

export async function buildServer(desk: Desk): Promise<FastifyInstance> {
  const app = Fastify({
    logger: false,
    bodyLimit: desk.config.http.body_limit,
    // A path parameter (a case number, a report id) is short; a longer one is a 404, not work.
    routerOptions: { maxParamLength: 500 },
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: false } },
  });
  app.addHook('onResponse', async (req, reply) => {
    desk.log.debug({ method: req.method, url: req.url, status: reply.statusCode, ms: reply.elapsedTime }, 'http');
  });
  app.setErrorHandler((err: Error & { statusCode?: number; validation?: unknown }, req, reply) => {
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500;
    if (status >= 500) desk.log.error({ err, url: req.url }, 'request failed');
    reply.code(status).send({ error: status >= 500 ? 'internal error' : err.message });
  });
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'Madoguchi abuse desk API', version: pkgVersion, description: 'Report intake, attribution, cases and blocklist watch for a hosting abuse desk.' },
      components: {
        securitySchemes: {
          apiKey: { type: 'http', scheme: 'bearer', description: 'An API key made with `madoguchi apikey create`' },
        },
      },
      security: [{ apiKey: [] }],
    },
  });
  const requireRole = authenticator(desk.db);
  for (const plugin of routes) await app.register(async (scope) => plugin(scope, { desk, requireRole }));
  app.get('/api/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  return app;
}
