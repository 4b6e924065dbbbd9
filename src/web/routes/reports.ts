// Report intake over HTTP (POST /api/v1/reports) and the operators' view of what came in: one
// report with its events and quarantine reason, lists by status, raw bytes, refusals.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { processReport, storeReport, type IngestResult } from '../../intake/ingest.js';
import { intakeWorker } from '../../intake/worker.js';
import { EventListError, isEventList, readEventList } from '../../intake/event-list.js';
import { getReport, listRefusals, listReports, reportEvents } from '../../intake/queries.js';
import { RateLimiter } from '../../intake/rate-limit.js';
import { readRaw } from '../../intake/raw-store.js';
import { recordRefusal } from '../../intake/refusals.js';
import type { RoutePlugin } from './index.js';

const RAW_TYPES = ['message/rfc822', 'text/plain', 'text/csv', 'application/json'];

const error = { type: 'object', properties: { error: { type: 'string' } }, required: ['error'] } as const;
const nullable = (type: string) => ({ type: [type, 'null'] });

const ingestAnswer = {
  type: 'object',
  properties: {
    id: { type: 'integer' }, duplicate: { type: 'boolean' },
    status: { type: 'string', enum: ['received', 'parsed', 'rejected', 'quarantined'] },
    parser: nullable('string'), reason: nullable('string'), events: { type: 'integer' },
    cases: { type: 'array', items: { type: 'string' } }, url: { type: 'string' },
  },
  required: ['id', 'duplicate', 'status', 'events', 'cases', 'url'],
} as const;

const reportProps = {
  id: { type: 'integer' }, received_at: { type: 'string', format: 'date-time' }, channel: { type: 'string' },
  content_type: nullable('string'), size: { type: 'integer' }, sha256: { type: 'string' }, message_id: nullable('string'),
  status: { type: 'string' }, parser: nullable('string'), reason: nullable('string'), reporter_email: nullable('string'),
  reporter_name: nullable('string'), subject: nullable('string'), forward_consent: nullable('boolean'), language: nullable('string'),
  event_count: { type: 'integer' }, arrivals: { type: 'integer' }, parsed_at: nullable('string'),
  cases: { type: 'array', items: { type: 'string' } },
  sinks_pending: { type: 'boolean', description: 'events stored, case work not yet done: case numbers still to come' },
  meta: { type: 'object', additionalProperties: true },
} as const;
const reportSchema = { type: 'object', properties: reportProps } as const;
const eventSchema = {
  type: 'object',
  properties: {
    id: { type: 'integer' }, time: { type: 'string' }, source_ip: nullable('string'), classification_type: nullable('string'),
    customer_id: nullable('string'), service_id: nullable('string'), attributed_to: nullable('string'),
    event: { type: 'object', additionalProperties: true },
  },
} as const;

const idParams = { type: 'object', properties: { id: { type: 'integer', minimum: 1 } }, required: ['id'] } as const;

function answer(r: IngestResult) {
  return { id: r.reportId, duplicate: r.duplicate, status: r.status, parser: r.parser, reason: r.reason, events: r.events, cases: r.cases, url: `/api/v1/reports/${r.reportId}` };
}

export const reportRoutes: RoutePlugin = async (app, { desk, requireRole }) => {
  const limits = desk.config.intake;
  const limiter = new RateLimiter(limits.api.rate, limits.api.burst);
  const worker = intakeWorker(desk);

  // Every report body is kept as the exact bytes received (the raw report is evidence), JSON too.
  app.removeContentTypeParser('application/json');
  app.removeContentTypeParser('text/plain');
  app.addContentTypeParser(RAW_TYPES, { parseAs: 'buffer', bodyLimit: limits.max_report_size }, (_req, body, done) => done(null, body));

  const rateLimited = async (req: FastifyRequest, reply: FastifyReply) => {
    const wait = limiter.take(req.principal!.keyId);
    if (wait) return reply.code(429).header('Retry-After', String(wait)).send({ error: `rate limit of ${limits.api.rate} reports a second for this key; retry in ${wait} s` });
  };

  const refuse = (req: FastifyRequest, reason: string, size?: number) => recordRefusal(desk, {
    channel: 'http', reason, size, peer: req.ip, meta: { apiKeyId: req.principal?.keyId ?? null, contentType: req.headers['content-type'] ?? null },
  });

  // Bodies are held in memory until stored: their total is capped, counted from Content-Length
  // (or the largest allowed size when a client does not say) before a byte of the body is read.
  let inflight = 0;
  let busy = 0;
  let busyRecorded = 0;
  const admitted = async (req: FastifyRequest, reply: FastifyReply) => {
    const declared = Number(req.headers['content-length']);
    const size = Number.isSafeInteger(declared) && declared >= 0 ? Math.min(declared, limits.max_report_size) : limits.max_report_size;
    if (inflight > 0 && inflight + size > limits.max_inflight_bytes) {
      busy++;
      // Under overload a record per refusal would add to it: one a second, with the count.
      if (Date.now() - busyRecorded >= 1000) {
        busyRecorded = Date.now();
        void refuse(req, `busy: ${busy} report(s) turned away with 503, ${inflight} bytes being received (intake.max_inflight_bytes ${limits.max_inflight_bytes})`, size);
        busy = 0;
      }
      return reply.code(503).header('Retry-After', '1').send({ error: 'the desk is receiving too many reports at once; retry in 1 s' });
    }
    inflight += size;
    reply.raw.once('close', () => { inflight -= size; });
  };

  app.post('/api/v1/reports', {
    // Before the body is read: a stranger, a key over its rate or a full desk costs no upload.
    onRequest: [requireRole('reporter', 'operator'), rateLimited, admitted],
    bodyLimit: limits.max_report_size,
    schema: {
      tags: ['reports'],
      summary: 'Submit an abuse report',
      description: 'The body is a raw RFC 5322 message (message/rfc822 or text/plain), X-ARF JSON (application/json with xarf_version), '
        + 'a JSON list of flat IntelMQ events (application/json: [{...}] or {"events": [...]}) or a Shadowserver CSV file (text/csv). '
        + 'The answer comes once the report is stored durably (status received): it carries the report id and the URL to follow it '
        + '(GET shows the parser, the events and the case numbers once known). With wait=N the answer waits up to N seconds for '
        + 'the parse and the cases, and otherwise comes as it stands then.',
      querystring: { type: 'object', properties: { wait: { type: 'integer', minimum: 0, maximum: 30, default: 0, description: 'seconds to wait for the parse and the case numbers' } } },
      body: { content: Object.fromEntries(RAW_TYPES.map((t) => [t, { schema: { description: `the report as ${t}` } }])) },
      response: { 200: ingestAnswer, 201: ingestAnswer, 400: error, 401: error, 403: error, 413: error, 429: error, 503: error },
    },
    onError: async (req, _reply, err: Error & { statusCode?: number }) => {
      if (err.statusCode === 413 || err.statusCode === 415) await refuse(req, err.message, Number(req.headers['content-length']) || undefined);
    },
  }, async (req, reply) => {
    const body = req.body as Buffer;
    const contentType = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    if (!body.length) {
      await refuse(req, 'empty body', 0);
      return reply.code(400).send({ error: 'the body is empty' });
    }
    if (contentType === 'application/json') {
      // JSON that is neither X-ARF nor a valid event list is the client's mistake: say so now.
      let doc: unknown;
      try { doc = JSON.parse(body.toString('utf8')); } catch (e) {
        await refuse(req, `invalid JSON: ${(e as Error).message}`, body.length);
        return reply.code(400).send({ error: `invalid JSON: ${(e as Error).message}` });
      }
      try {
        if (isEventList(doc)) readEventList(doc, limits.max_events_per_report);
        else if (typeof doc !== 'object' || doc === null || !('xarf_version' in doc)) throw new EventListError('JSON must be X-ARF (with xarf_version) or a list of events');
      } catch (e) {
        if (!(e instanceof EventListError)) throw e;
        await refuse(req, e.message, body.length);
        return reply.code(400).send({ error: e.message });
      }
    }
    const p = req.principal!;
    const meta = { contentType, apiKeyId: p.keyId, apiKeyName: p.name, reporterId: p.reporterId, peer: req.ip };
    let r = await storeReport(desk, body, 'http', meta);
    // Durable now: the parse, the events and the sinks follow in the intake worker.
    if (!r.duplicate && r.status === 'received') {
      worker.add({ reportId: r.reportId, raw: body, channel: 'http', meta });
      const { wait } = req.query as { wait: number };
      if (wait) r = { ...(await worker.result(r.reportId, wait * 1000) ?? r), duplicate: false };
    }
    return reply.code(r.duplicate ? 200 : 201).header('Location', `/api/v1/reports/${r.reportId}`).send(answer(r));
  });

  app.get('/api/v1/reports', {
    onRequest: requireRole('operator', 'legal', 'reporter'),
    schema: {
      tags: ['reports'],
      summary: 'List reports, newest first (status=quarantined is the quarantine); reporters see their own',
      querystring: {
        type: 'object',
        properties: {
          status: { type: 'string', enum: ['received', 'parsed', 'rejected', 'quarantined'] },
          before: { type: 'integer', minimum: 1, description: 'page on: only reports with a smaller id' },
          limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
        },
      },
      response: { 200: { type: 'object', properties: { reports: { type: 'array', items: reportSchema } }, required: ['reports'] }, 401: error, 403: error },
    },
  }, async (req) => {
    const q = req.query as { status?: string; before?: number; limit: number };
    const own = isReporterOnly(req) ? req.principal!.keyId : undefined;
    return { reports: await listReports(desk.db, { ...q, apiKeyId: own }) };
  });

  app.get('/api/v1/reports/:id', {
    onRequest: requireRole('operator', 'legal', 'reporter'),
    schema: {
      tags: ['reports'],
      summary: 'One report: status, parser, quarantine reason, cases and events',
      params: idParams,
      querystring: { type: 'object', properties: { events: { type: 'integer', minimum: 0, maximum: 10000, default: 1000, description: 'most events to include' } } },
      response: { 200: { type: 'object', properties: { ...reportProps, events: { type: 'array', items: eventSchema } } }, 401: error, 403: error, 404: error },
    },
  }, async (req, reply) => {
    const { id } = req.params as { id: number };
    const report = await getReport(desk.db, id);
    if (!report || (isReporterOnly(req) && report.meta.apiKeyId !== req.principal!.keyId)) return reply.code(404).send({ error: `no report ${id}` });
    return { ...report, events: await reportEvents(desk.db, id, (req.query as { events: number }).events) };
  });

  app.get('/api/v1/reports/:id/raw', {
    onRequest: requireRole('operator', 'legal'),
    schema: {
      tags: ['reports'],
      summary: 'The raw report exactly as received (a download, never rendered)',
      params: idParams,
      response: { 200: { description: 'the raw bytes', type: 'string' }, 401: error, 403: error, 404: error },
    },
  }, async (req, reply) => {
    const { id } = req.params as { id: number };
    const report = await getReport(desk.db, id);
    if (!report) return reply.code(404).send({ error: `no report ${id}` });
    // Reports carry hostile HTML: served as an attachment of an inert type, so no browser renders it.
    return reply.type('application/octet-stream')
      .header('Content-Disposition', `attachment; filename="report-${id}.${report.channel === 'http' && report.content_type === 'application/json' ? 'json' : 'eml'}"`)
      .header('X-Content-Type-Options', 'nosniff')
      .header('Content-Security-Policy', "default-src 'none'; sandbox")
      .send(await readRaw(desk.db, report.sha256));
  });

  app.post('/api/v1/reports/:id/reparse', {
    onRequest: requireRole('operator'),
    schema: {
      tags: ['reports'],
      summary: 'Parse a stored report again (after a parser fix), replacing its events',
      params: idParams,
      response: { 200: ingestAnswer, 401: error, 403: error, 404: error },
    },
  }, async (req, reply) => {
    const { id } = req.params as { id: number };
    if (!await getReport(desk.db, id)) return reply.code(404).send({ error: `no report ${id}` });
    return answer(await processReport(desk, id));
  });

  app.get('/api/v1/intake/refusals', {
    onRequest: requireRole('operator'),
    schema: {
      tags: ['reports'],
      summary: 'Input refused before it became a report (too large, malformed), newest first',
      querystring: { type: 'object', properties: { before: { type: 'integer', minimum: 1 }, limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } } },
      response: {
        200: {
          type: 'object', required: ['refusals'],
          properties: {
            refusals: {
              type: 'array',
              items: { type: 'object', properties: { id: { type: 'integer' }, at: { type: 'string' }, channel: { type: 'string' }, reason: { type: 'string' }, size: nullable('integer'), peer: nullable('string'), meta: { type: 'object', additionalProperties: true } } },
            },
          },
        },
        401: error, 403: error,
      },
    },
  }, async (req) => ({ refusals: await listRefusals(desk.db, req.query as { before?: number; limit: number }) }));
};

/** A key that may submit reports but not read everyone's: it sees only what it submitted itself. */
function isReporterOnly(req: FastifyRequest): boolean {
  const roles = req.principal!.roles;
  return !roles.some((r) => r === 'admin' || r === 'operator' || r === 'legal');
}
