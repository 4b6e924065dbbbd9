// The jails' ban list for firewalls (GET /api/v1/bans?format=nftables|ipset|plain|json), the ban
// records behind it, lifting a ban, and the outbound reports sent (or not) about banned addresses.
import { parseRange } from '../../attribution/ip.js';
import { activeBans, liftBans, listBans, listOutgoingReports } from '../../detection/jails/banstore.js';
import { EXPORT_FORMATS, formatBans, type ExportFormat } from '../../detection/jails/export.js';
import type { RoutePlugin } from './index.js';

const nullable = (type: string) => ({ type: [type, 'null'] });
const error = { type: 'object', properties: { error: { type: 'string' } }, required: ['error'] } as const;
const ipString = { type: 'string', minLength: 2, maxLength: 45 } as const;
const jailName = { type: 'string', pattern: '^[\\w.-]{1,64}$' } as const;
const CONTENT_TYPES: Record<ExportFormat, string> = {
  nftables: 'text/plain; charset=utf-8', ipset: 'text/plain; charset=utf-8', plain: 'text/plain; charset=utf-8', json: 'application/json',
};

const banRecord = {
  type: 'object',
  properties: {
    id: { type: 'integer' }, jail: { type: 'string' }, ip: { type: 'string' }, banned_at: { type: 'string' }, expires_at: nullable('string'),
    bantime: { type: 'number' }, ban_count: { type: 'integer' }, failures: { type: 'integer' }, own: { type: 'boolean' },
    customer_id: nullable('string'), event_id: nullable('integer'), lifted_at: nullable('string'), lifted_by: nullable('string'),
  },
} as const;

export const banRoutes: RoutePlugin = async (app, { desk, requireRole }) => {
  app.get('/api/v1/bans', {
    onRequest: requireRole('operator'),
    schema: {
      tags: ['detection'], summary: 'Addresses the jails ban now, as an nftables script, an ipset restore file, one address per line, or JSON',
      querystring: { type: 'object', properties: { format: { type: 'string', enum: EXPORT_FORMATS, default: 'json' }, jail: jailName, set: { type: 'string', pattern: '^[A-Za-z][A-Za-z0-9_-]{0,25}$' } } },
      response: {
        200: {
          description: 'json: [{ip, remaining}] (remaining seconds, null = permanent); other formats: text',
          anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'object', properties: { ip: { type: 'string' }, remaining: nullable('number') } } }],
        },
      },
    },
  }, async (req, reply) => {
    const q = req.query as { format: ExportFormat; jail?: string; set?: string };
    const bans = await activeBans(desk.db, q.jail);
    const body = formatBans(bans, q.format, q.set ?? desk.config.detection.set_name);
    return reply.type(CONTENT_TYPES[q.format]).send(body);
  });

  app.get('/api/v1/bans/records', {
    onRequest: requireRole('operator', 'legal'),
    schema: {
      tags: ['detection'], summary: 'Ban decisions, newest first (own addresses included: those raised an event instead of a ban)',
      querystring: { type: 'object', properties: { ip: ipString, jail: jailName, active: { type: 'boolean', default: false }, limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } } },
      response: { 200: { type: 'array', items: banRecord }, 400: error },
    },
  }, async (req, reply) => {
    const q = req.query as { ip?: string; jail?: string; active: boolean; limit: number };
    if (q.ip && typeof parseRange(q.ip) === 'string') return reply.code(400).send({ error: `not an IP address: ${q.ip}` });
    return listBans(desk.db, q);
  });

  app.post('/api/v1/bans/lift', {
    onRequest: requireRole('operator'),
    schema: {
      tags: ['detection'], summary: 'Lifts the active bans of an address (in one jail or all); the records stay, marked lifted',
      body: { type: 'object', properties: { ip: ipString, jail: jailName }, required: ['ip'], additionalProperties: false },
      response: { 200: { type: 'object', properties: { lifted: { type: 'integer' } }, required: ['lifted'] }, 400: error },
    },
  }, async (req, reply) => {
    const b = req.body as { ip: string; jail?: string };
    const r = parseRange(b.ip);
    if (typeof r === 'string' || r.first.some((w, i) => w !== r.last[i])) return reply.code(400).send({ error: `not an IP address: ${b.ip}` });
    const lifted = await liftBans(desk.db, b.ip, `api:${req.principal?.name ?? 'unknown'}`, b.jail);
    req.log.info({ ip: b.ip, jail: b.jail, lifted }, 'bans lifted');
    return { lifted };
  });

  app.get('/api/v1/bans/outgoing-reports', {
    onRequest: requireRole('operator', 'legal'),
    schema: {
      tags: ['detection'], summary: 'Outbound abuse reports about banned addresses: sent, failed, dry runs and skipped ones with the reason',
      querystring: { type: 'object', properties: { ip: ipString, limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } } },
      response: {
        200: {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              id: { type: 'integer' }, ban_id: nullable('integer'), ip: { type: 'string' }, format: { type: 'string' }, recipient: nullable('string'),
              rdap_server: nullable('string'), status: { type: 'string' }, reason: nullable('string'), report_uuid: nullable('string'),
              message_id: nullable('string'), created_at: { type: 'string' }, sent_at: nullable('string'),
            },
          },
        },
        400: error,
      },
    },
  }, async (req, reply) => {
    const q = req.query as { ip?: string; limit: number };
    if (q.ip && typeof parseRange(q.ip) === 'string') return reply.code(400).send({ error: `not an IP address: ${q.ip}` });
    return listOutgoingReports(desk.db, q);
  });
};
