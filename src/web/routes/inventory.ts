import { importInventory, rowsFromText } from '../../inventory/import.js';
import type { RoutePlugin } from './index.js';

const attributionSchema = {
  type: 'object',
  properties: {
    input: { type: 'string' },
    at: { type: 'string' },
    customer_id: { type: ['string', 'null'] },
    service_id: { type: ['string', 'null'] },
    service_type: { type: ['string', 'null'] },
    brand: { type: ['string', 'null'] },
    resource: { type: ['string', 'null'] },
  },
  required: ['input', 'customer_id', 'service_id', 'service_type', 'brand'],
};

export const inventoryRoutes: RoutePlugin = async (app, { desk, requireRole }) => {
  app.get('/api/v1/attribute', {
    preHandler: requireRole('operator', 'legal'),
    schema: {
      tags: ['inventory'], summary: 'Who holds (or held at a time) an address, range, domain, host name or URL',
      querystring: { type: 'object', properties: { resource: { type: 'string', minLength: 1, maxLength: 2048 }, at: { type: 'string', format: 'date-time' } }, required: ['resource'] },
      response: { 200: attributionSchema },
    },
  }, async (req) => {
    const q = req.query as { resource: string; at?: string };
    await desk.attribution.refresh();
    const at = q.at ? Date.parse(q.at) : Date.now();
    const a = desk.attribution.attribute(q.resource, at);
    return { input: q.resource, at: new Date(at).toISOString(), customer_id: a?.customer_id ?? null, service_id: a?.service_id ?? null,
      service_type: a?.service_type ?? null, brand: a?.brand ?? null, resource: a?.resource ?? null };
  });

  // The raw file is the body: text/csv, application/x-ndjson or application/json.
  for (const type of ['text/csv', 'application/x-ndjson']) {
    app.addContentTypeParser(type, { parseAs: 'string' }, (_req, body, done) => done(null, body));
  }
  app.post('/api/v1/inventory/import', {
    preHandler: requireRole('admin'),
    schema: {
      tags: ['inventory'], summary: 'Import or sync the inventory (all-or-nothing); same formats as `madoguchi inventory import`',
      querystring: { type: 'object', properties: { sync: { type: 'boolean', default: false } } },
      response: {
        200: { type: 'object', additionalProperties: true, properties: { ok: { type: 'boolean' }, rows: { type: 'integer' }, changed: { type: 'integer' } } },
        422: { type: 'object', additionalProperties: true, properties: { ok: { type: 'boolean' }, errors: { type: 'array', items: { type: 'object', properties: { line: { type: 'integer' }, reason: { type: 'string' } } } } } },
      },
    },
  }, async (req, reply) => {
    const ct = String(req.headers['content-type'] ?? '').split(';')[0].trim();
    const format = ct === 'text/csv' ? 'csv' : ct === 'application/x-ndjson' ? 'jsonl' : 'json';
    const text = typeof req.body === 'string' ? req.body : JSON.stringify(req.body);
    const r = await importInventory(desk.db, rowsFromText(text, format), {
      timezone: desk.config.desk.timezone, sync: (req.query as { sync?: boolean }).sync, source: `api:${req.principal?.name}`,
    });
    if (r.ok) await desk.attribution.refresh();
    return reply.code(r.ok ? 200 : 422).send(r);
  });
};
