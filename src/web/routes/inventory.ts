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

const customerSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' }, name: { type: 'string' }, language: { type: 'string' }, brand: { type: 'string' },
    emails: { type: 'array', items: { type: 'string' } },
    services: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          id: { type: 'string' }, type: { type: 'string' }, plan: { type: ['string', 'null'] },
          resources: {
            type: 'array',
            items: { type: 'object', properties: { resource: { type: 'string' }, kind: { type: 'string' }, valid_from: { type: 'string' }, valid_to: { type: ['string', 'null'] } } },
          },
        },
      },
    },
  },
};

export const inventoryRoutes: RoutePlugin = async (app, { desk, requireRole }) => {
  app.get('/api/v1/customers', {
    onRequest: requireRole('operator', 'legal'),
    schema: {
      tags: ['inventory'], summary: 'Customers whose id, name or e-mail contains the query',
      querystring: { type: 'object', properties: { q: { type: 'string', maxLength: 200 }, limit: { type: 'integer', minimum: 1, maximum: 500, default: 50 } } },
      response: { 200: { type: 'object', properties: { customers: { type: 'array', items: { type: 'object', properties: { id: { type: 'string' }, name: { type: 'string' }, language: { type: 'string' }, brand: { type: 'string' }, emails: { type: 'array', items: { type: 'string' } } } } } } } },
    },
  }, async (req) => {
    const q = req.query as { q?: string; limit: number };
    const like = `%${(q.q ?? '').replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    const r = await desk.db.query(`SELECT id, name, language, brand_id AS brand, emails FROM customers
      WHERE id ILIKE $1 OR name ILIKE $1 OR array_to_string(emails, ' ') ILIKE $1 ORDER BY id LIMIT $2`, [like, q.limit]);
    return { customers: r.rows };
  });

  app.get('/api/v1/customers/:id', {
    onRequest: requireRole('operator', 'legal', 'customer'),
    schema: {
      tags: ['inventory'], summary: 'A customer with its services and every resource they hold or held',
      params: { type: 'object', properties: { id: { type: 'string', maxLength: 128 } }, required: ['id'] },
      response: { 200: customerSchema, 404: { type: 'object', properties: { error: { type: 'string' } } } },
    },
  }, async (req, reply) => {
    const { id } = req.params as { id: string };
    const p = req.principal!;
    // A customer's key sees its own record only.
    if (!p.roles.some((r) => r === 'operator' || r === 'legal' || r === 'admin') && p.customerId !== id) {
      return reply.code(404).send({ error: `no customer ${id}` });
    }
    const c = await desk.db.query<{ id: string; name: string; language: string; brand: string; emails: string[] }>(
      'SELECT id, name, language, brand_id AS brand, emails FROM customers WHERE id = $1', [id]);
    if (!c.rows.length) return reply.code(404).send({ error: `no customer ${id}` });
    const rows = await desk.db.query<{ sid: string; type: string; plan: string | null; resource: string | null; kind: string | null; valid_from: Date | null; valid_to: Date | null }>(
      `SELECT s.id AS sid, s.type, s.plan, a.resource, a.kind, a.valid_from, a.valid_to FROM services s
         LEFT JOIN assignments a ON a.service_id = s.id WHERE s.customer_id = $1 ORDER BY s.id, a.valid_from, a.resource`, [id]);
    const services = new Map<string, { id: string; type: string; plan: string | null; resources: unknown[] }>();
    for (const r of rows.rows) {
      let svc = services.get(r.sid);
      if (!svc) { svc = { id: r.sid, type: r.type, plan: r.plan, resources: [] }; services.set(r.sid, svc); }
      if (r.resource) {
        svc.resources.push({ resource: r.resource, kind: r.kind, valid_from: new Date(r.valid_from!).toISOString(), valid_to: r.valid_to ? new Date(r.valid_to).toISOString() : null });
      }
    }
    return { ...c.rows[0], services: [...services.values()] };
  });

  app.get('/api/v1/attribute', {
    onRequest: requireRole('operator', 'legal'),
    schema: {
      tags: ['inventory'], summary: 'Who holds (or held at a time) an address, range, domain, host name or URL',
      querystring: { type: 'object', properties: { resource: { type: 'string', minLength: 1, maxLength: 2048 }, at: { type: 'string', format: 'date-time' } }, required: ['resource'] },
      response: { 200: attributionSchema },
    },
  }, async (req) => {
    const q = req.query as { resource: string; at?: string };
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
    onRequest: requireRole('admin'),
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
