// Blocklist watch over HTTP: the list quality report, listings (a customer key sees its own),
// alerts, and checking a list body against the inventory.
import { ListParser } from '../../blocklists/format.js';
import { loadInventory } from '../../blocklists/inventory.js';
import { matchList } from '../../blocklists/match.js';
import { qualityReport } from '../../blocklists/report.js';
import { listAlerts, listListings } from '../../blocklists/store.js';
import type { RoutePlugin } from './index.js';

const nullableString = { type: ['string', 'null'] };
const nullableNumber = { type: ['number', 'null'] };
const dateTime = { type: 'string', format: 'date-time' };
const nullableDateTime = { type: ['string', 'null'], format: 'date-time' };

const qualitySchema = {
  type: 'object',
  properties: {
    list: { type: 'string' }, location: { type: 'string' }, category: nullableString, maintainer: nullableString,
    status: { type: 'string' }, error: nullableString, entries: { type: 'integer' }, unique_ips: { type: 'number' }, malformed: { type: 'integer' },
    malformed_samples: { type: 'array', items: { type: 'object', properties: { line: { type: 'integer' }, text: { type: 'string' } } } },
    freshness: {
      type: 'object',
      properties: {
        source_date: nullableDateTime, fetched_at: nullableDateTime, checked_at: nullableDateTime, lag_hours: nullableNumber,
        age_hours: nullableNumber, update_every: nullableNumber, missed_updates: nullableNumber,
      },
    },
    churn: {
      type: 'object',
      properties: {
        updates: { type: 'integer' }, checks: { type: 'integer' }, failed_checks: { type: 'integer' }, avg_added: nullableNumber,
        avg_removed: nullableNumber, last_added: nullableNumber, last_removed: nullableNumber,
      },
    },
    overlap: { type: 'array', items: { type: 'object', properties: { list: { type: 'string' }, common_ips: { type: 'number' }, share: { type: 'number' } } } },
    listings: {
      type: 'object',
      properties: { active: { type: 'integer' }, total: { type: 'integer' }, customers: { type: 'integer' }, delisted: { type: 'integer' }, median_hours_to_delisting: nullableNumber },
    },
    precision: {
      type: ['object', 'null'],
      properties: { listed_netblocks: { type: 'integer' }, confirmed: { type: 'integer' }, ratio: { type: 'number' } },
    },
    alerts: { type: 'array', items: { type: 'object', properties: { kind: { type: 'string' }, message: { type: 'string' }, created_at: dateTime } } },
  },
};

const listingSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' }, list: { type: 'string' }, entry: { type: 'string' }, ip_count: { type: 'number' },
    customer_id: nullableString, service_id: nullableString, netblock: nullableString,
    first_seen: dateTime, last_seen: dateTime, delisted_at: nullableDateTime, decision: { type: 'string', enum: ['act', 'report', 'wait'] },
    detail: { type: 'object', additionalProperties: true },
  },
};

const hitSchema = {
  type: 'object',
  properties: { list: { type: 'string' }, entry: { type: 'string' }, ip_count: { type: 'number' }, customer_id: nullableString, service_id: nullableString, netblock: nullableString },
};

export const blocklistRoutes: RoutePlugin = async (app, { desk, requireRole }) => {
  app.get('/api/v1/blocklists', {
    onRequest: requireRole('operator'),
    schema: {
      tags: ['blocklists'], summary: 'Which lists deserve trust: size, freshness, churn, overlap, listing time, precision against confirmed cases',
      querystring: { type: 'object', properties: { overlap: { type: 'boolean', default: true } } },
      response: { 200: { type: 'object', properties: { lists: { type: 'array', items: qualitySchema } }, required: ['lists'] } },
    },
  }, async (req) => {
    const q = req.query as { overlap: boolean };
    return { lists: await qualityReport(desk.db, { dataDir: desk.dataDir, overlap: q.overlap }) };
  });

  app.get('/api/v1/blocklists/listings', {
    onRequest: requireRole('operator', 'customer'),
    schema: {
      tags: ['blocklists'], summary: 'Listings of inventory addresses (a customer key sees only its own)',
      querystring: {
        type: 'object',
        properties: {
          list: { type: 'string', maxLength: 200 }, customer_id: { type: 'string', maxLength: 200 }, active: { type: 'boolean' },
          limit: { type: 'integer', minimum: 1, maximum: 10000, default: 100 }, offset: { type: 'integer', minimum: 0, default: 0 },
        },
      },
      response: {
        200: { type: 'object', properties: { listings: { type: 'array', items: listingSchema } }, required: ['listings'] },
        403: { type: 'object', properties: { error: { type: 'string' } } },
      },
    },
  }, async (req, reply) => {
    const q = req.query as { list?: string; customer_id?: string; active?: boolean; limit: number; offset: number };
    const p = req.principal!;
    const staff = p.roles.includes('admin') || p.roles.includes('operator');
    if (!staff && !p.customerId) return reply.code(403).send({ error: 'this key belongs to no customer' });
    const customerId = staff ? q.customer_id : p.customerId!;
    const rows = await listListings(desk.db, { list: q.list, customerId, active: q.active, limit: q.limit, offset: q.offset });
    return { listings: rows.map((r) => ({ ...r, first_seen: r.first_seen.toISOString(), last_seen: r.last_seen.toISOString(), delisted_at: r.delisted_at?.toISOString() ?? null })) };
  });

  app.get('/api/v1/blocklists/alerts', {
    onRequest: requireRole('operator'),
    schema: {
      tags: ['blocklists'], summary: 'Lists that failed, vanished, came back empty, cut short or oversized (the previous version kept)',
      querystring: { type: 'object', properties: { list: { type: 'string', maxLength: 200 }, limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } } },
      response: {
        200: {
          type: 'object', required: ['alerts'],
          properties: { alerts: { type: 'array', items: { type: 'object', properties: { id: { type: 'string' }, list: { type: 'string' }, kind: { type: 'string' }, message: { type: 'string' }, created_at: dateTime } } } },
        },
      },
    },
  }, async (req) => {
    const q = req.query as { list?: string; limit: number };
    const alerts = await listAlerts(desk.db, q);
    return { alerts: alerts.map((a) => ({ ...a, created_at: new Date(a.created_at).toISOString() })) };
  });

  // The body is the list itself (FireHOL or plain, text/plain), bounded by the server's body limit.
  app.post('/api/v1/blocklists/check', {
    onRequest: requireRole('operator'),
    schema: {
      tags: ['blocklists'], summary: 'Which inventory addresses a list (the text/plain body) lists; nothing is recorded',
      querystring: { type: 'object', properties: { name: { type: 'string', maxLength: 200, default: 'posted' }, at: { type: 'string', format: 'date-time' } } },
      response: {
        200: {
          type: 'object', required: ['hits', 'entries', 'malformed'],
          properties: {
            hits: { type: 'array', items: hitSchema }, entries: { type: 'integer' }, malformed: { type: 'integer' },
            malformed_samples: { type: 'array', items: { type: 'object', properties: { line: { type: 'integer' }, text: { type: 'string' } } } },
          },
        },
      },
    },
  }, async (req) => {
    const q = req.query as { name: string; at?: string };
    const parser = new ListParser();
    parser.push(typeof req.body === 'string' ? req.body : '');
    const list = parser.end();
    const inv = await loadInventory(desk.db, q.at ? new Date(q.at) : new Date());
    const hits = matchList(list, inv).map((h) => ({ list: q.name, entry: h.entry, ip_count: h.ipCount, customer_id: h.customerId, service_id: h.serviceId, netblock: h.netblock }));
    return { hits, entries: list.entries, malformed: list.malformed, malformed_samples: list.malformedSamples };
  });
};
