// Cases over HTTP: lists and queues, manual cases, edits with optimistic concurrency (send the
// version you read; 409 when someone else changed the case), state changes, notices with preview,
// evidence, actions with approval, the audit trail, consent defaults and the annual figures.
// Staff keys (operator, legal, admin) see every case except legal-only ones, which need the legal
// role; customer keys see and answer their own cases.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { RoutePlugin } from './index.js';
import { caseEnv } from '../../cases/env.js';
import {
  addMessage, caseView, createManualCase, getCase, LEGAL_KINDS, listCases, MANUAL_CHANNELS, MISUSE_KINDS, overdueCases,
  transitionCase, updateCase, type Viewer,
} from '../../cases/cases.js';
import { CaseNotFound, CaseRuleError, VersionConflict } from '../../cases/errors.js';
import { InvalidTransition, STATES, canTransition } from '../../cases/states.js';
import { CATEGORIES, ACTIONS } from '../../cases/playbooks.js';
import { TemplateError } from '../../notices/template.js';
import { previewNotice, sendClosing, sendNotice } from '../../notices/notices.js';
import { actionsOf, approveAction, rejectAction, requestAction, undoAction, type ActionRow } from '../../cases/actions.js';
import { auditOf, verifyAudit } from '../../cases/audit.js';
import { listConsent, setConsent, viewEvidence } from '../../cases/evidence.js';
import { statsCsv, yearStats } from '../../cases/stats.js';
import { yearIn } from '../../cases/numbering.js';

const STAFF = ['operator', 'legal'] as const;
const nullable = (type: string) => ({ type: [type, 'null'] });
const ts = { type: 'string', format: 'date-time' };
const tsOrNull = { type: ['string', 'null'], format: 'date-time' };
const error = { type: 'object', properties: { error: { type: 'string' }, current_version: { type: 'integer' } }, required: ['error'] };
const errors = { 400: error, 401: error, 403: error, 404: error, 409: error, 422: error };

const caseSchema = {
  type: 'object',
  properties: {
    id: { type: 'integer' }, number: { type: 'string' }, state: { type: 'string', enum: [...STATES] }, origin: { type: 'string' },
    channel: nullable('string'), category: { type: 'string', enum: [...CATEGORIES] }, abuse_type: { type: 'string' }, playbook: { type: 'string' },
    misuse_kind: nullable('string'), legal_only: { type: 'boolean' }, legal_kind: nullable('string'),
    customer_id: nullable('string'), service_id: nullable('string'), service_type: nullable('string'), brand_id: nullable('string'),
    resource: nullable('string'), title: { type: 'string' }, assignee: nullable('string'), event_count: { type: 'integer' },
    first_event_at: tsOrNull, last_event_at: tsOrNull, opened_at: ts, first_notice_at: tsOrNull, customer_answer_at: tsOrNull,
    resolved_at: tsOrNull, closed_at: tsOrNull, reopened_count: { type: 'integer' }, due_at: tsOrNull, overdue: { type: 'boolean' },
    clocks: {
      type: 'object', description: 'Seconds from opening to first notice, from first notice to the customer\'s answer, from opening to resolution',
      properties: { to_first_notice_s: nullable('integer'), to_customer_answer_s: nullable('integer'), to_resolution_s: nullable('integer') },
    },
    version: { type: 'integer', description: 'Send it back with every change; a stale one gets 409' }, updated_at: ts,
  },
};
const caseList = { type: 'object', properties: { cases: { type: 'array', items: caseSchema }, next: { ...nullable('string'), description: 'Cursor for the next page (after=)' } } };
const refParams = { type: 'object', properties: { ref: { type: 'string', pattern: '^[A-Za-z0-9#._-]{1,40}$', description: 'Case id or case number' } }, required: ['ref'] };
const idParams = { type: 'object', properties: { id: { type: 'integer', minimum: 1 } }, required: ['id'] };
const version = { type: 'integer', minimum: 1, description: 'The version of the case you last read' };
const text = (max: number) => ({ type: 'string', minLength: 1, maxLength: max });

const actionSchema = {
  type: 'object',
  properties: {
    id: { type: 'integer' }, case_id: { type: 'integer' }, action: { type: 'string' }, target: { type: 'string' }, reason: { type: 'string' },
    dry_run: { type: 'boolean' }, needs_approval: { type: 'boolean' }, status: { type: 'string' },
    requested_by: nullable('string'), requested_at: tsOrNull, approved_by: nullable('string'), approved_at: tsOrNull, executed_at: tsOrNull,
    result: { type: ['object', 'null'], additionalProperties: true }, undo_of: nullable('integer'), undone_by: nullable('integer'),
  },
};
const actionView = (a: ActionRow) => ({
  ...a, id: Number(a.id), case_id: Number(a.case_id), undo_of: a.undo_of == null ? null : Number(a.undo_of), undone_by: a.undone_by == null ? null : Number(a.undone_by),
  requested_at: iso(a.requested_at), approved_at: iso(a.approved_at), executed_at: iso(a.executed_at),
});
const iso = (d: Date | string | null) => d == null ? null : new Date(d).toISOString();

/** The person behind a key: its name and id, so that two keys are two people for approvals. */
function viewer(req: FastifyRequest): Viewer {
  const p = req.principal!;
  return { actor: `${p.name} (key ${p.keyId})`, roles: p.roles, customerId: p.customerId };
}

function sendError(e: unknown, reply: FastifyReply): FastifyReply {
  if (e instanceof CaseNotFound) return reply.code(404).send({ error: e.message });
  if (e instanceof VersionConflict) return reply.code(409).send({ error: e.message, current_version: e.current });
  if (e instanceof InvalidTransition || e instanceof CaseRuleError || e instanceof TemplateError) return reply.code(422).send({ error: e.message });
  throw e;
}

export const caseRoutes: RoutePlugin = async (app, { desk, requireRole }) => {
  const env = caseEnv(desk);
  app.setErrorHandler((err: Error & { statusCode?: number; validation?: unknown }, req, reply) => {
    if (err.validation) return reply.code(400).send({ error: err.message });
    try { return sendError(err, reply); } catch {
      const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
      if (status === 500) desk.log.error({ err, url: req.url }, 'request failed');
      return reply.code(status).send({ error: status === 500 ? 'internal error' : err.message });
    }
  });
  const staff = requireRole(...STAFF);
  const anyone = requireRole(...STAFF, 'customer');

  app.get('/api/v1/cases', {
    onRequest: anyone,
    schema: {
      tags: ['cases'], summary: 'List cases by age (keyset pagination), filtered by state, customer, category, playbook, assignee, overdue',
      querystring: {
        type: 'object', additionalProperties: false,
        properties: {
          state: { type: 'array', items: { type: 'string', enum: [...STATES] } }, customer_id: { type: 'string', maxLength: 200 },
          category: { type: 'string', enum: [...CATEGORIES] }, playbook: { type: 'string', maxLength: 100 }, assignee: { type: 'string', maxLength: 200 },
          overdue: { type: 'boolean' }, order: { type: 'string', enum: ['oldest', 'newest'], default: 'oldest' },
          limit: { type: 'integer', minimum: 1, maximum: 500, default: 50 }, after: { type: 'string', maxLength: 200 },
        },
      },
      response: { 200: caseList, ...errors },
    },
  }, async (req) => {
    const q = req.query as { state?: string[]; customer_id?: string; category?: string; playbook?: string; assignee?: string; overdue?: boolean; order: 'oldest' | 'newest'; limit: number; after?: string };
    const r = await listCases(env, viewer(req), q, { limit: q.limit, after: q.after, order: q.order });
    return { cases: r.cases.map((c) => caseView(c)), next: r.next };
  });

  app.get('/api/v1/cases/overdue', {
    onRequest: staff,
    schema: {
      tags: ['cases'], summary: 'The overdue queue: cases whose first notice, customer answer or reply review is late, latest first',
      querystring: { type: 'object', properties: { limit: { type: 'integer', minimum: 1, maximum: 500, default: 100 } } },
      response: { 200: caseList },
    },
  }, async (req) => ({ cases: (await overdueCases(env, viewer(req), (req.query as { limit: number }).limit)).map((c) => caseView(c)), next: null }));

  app.post('/api/v1/cases', {
    onRequest: staff,
    schema: {
      tags: ['cases'], summary: 'Open a case by hand (phone, letter, police inquiry, legal request); legal kinds need the legal role and are visible to it only',
      body: {
        type: 'object', additionalProperties: false, required: ['title', 'description', 'channel'],
        properties: {
          title: text(300), description: text(100000), channel: { type: 'string', enum: [...MANUAL_CHANNELS] },
          category: { type: 'string', enum: [...CATEGORIES] }, playbook: { type: 'string', maxLength: 100 },
          legal_kind: { type: ['string', 'null'], enum: [...LEGAL_KINDS, null] }, misuse_kind: { type: ['string', 'null'], enum: [...MISUSE_KINDS, null] },
          customer_id: { type: ['string', 'null'], maxLength: 200 }, service_id: { type: ['string', 'null'], maxLength: 200 }, resource: { type: ['string', 'null'], maxLength: 2048 },
        },
      },
      response: { 201: caseSchema, ...errors },
    },
  }, async (req, reply) => reply.code(201).send(caseView(await createManualCase(env, viewer(req), clean(req.body) as never))));

  app.get('/api/v1/cases/:ref', {
    onRequest: anyone,
    schema: { tags: ['cases'], summary: 'One case, by id or number, with its clocks', params: refParams, response: { 200: caseSchema, ...errors } },
  }, async (req) => caseView(await getCase(env, (req.params as { ref: string }).ref, viewer(req))));

  app.patch('/api/v1/cases/:ref', {
    onRequest: staff,
    schema: {
      tags: ['cases'], summary: 'Edit assignee, kind of misuse, title, playbook, or name the customer\'s service (takes a triage case out of triage)',
      params: refParams,
      body: {
        type: 'object', additionalProperties: false, required: ['version'],
        properties: {
          version, assignee: { type: ['string', 'null'], maxLength: 200 }, misuse_kind: { type: ['string', 'null'], enum: [...MISUSE_KINDS, null] },
          title: text(300), playbook: { type: 'string', maxLength: 100 }, customer_id: { type: 'string', maxLength: 200 }, service_id: { type: 'string', maxLength: 200 },
        },
      },
      response: { 200: caseSchema, ...errors },
    },
  }, async (req) => {
    const { version: v, ...patch } = clean(req.body) as { version: number } & Record<string, string>;
    return caseView(await updateCase(env, (req.params as { ref: string }).ref, viewer(req), v, patch));
  });

  app.post('/api/v1/cases/:ref/transitions', {
    onRequest: staff,
    schema: {
      tags: ['cases'], summary: 'Move a case to another state; impossible moves get 422 with the allowed ones',
      params: refParams,
      body: { type: 'object', additionalProperties: false, required: ['version', 'to'], properties: { version, to: { type: 'string', enum: [...STATES] }, reason: { type: 'string', maxLength: 2000 } } },
      response: { 200: caseSchema, ...errors },
    },
  }, async (req) => {
    const b = clean(req.body) as { version: number; to: string; reason?: string };
    return caseView(await transitionCase(env, (req.params as { ref: string }).ref, viewer(req), b.version, b.to, b.reason));
  });

  const messageSchema = { type: 'object', properties: { id: { type: 'integer' }, kind: { type: 'string' }, author: { type: 'string' }, subject: nullable('string'), body: { type: 'string' }, at: ts } };
  app.post('/api/v1/cases/:ref/notes', {
    onRequest: staff,
    schema: { tags: ['cases'], summary: 'Add an internal note', params: refParams, body: { type: 'object', additionalProperties: false, required: ['text'], properties: { text: text(100000) } }, response: { 200: caseSchema, ...errors } },
  }, async (req) => caseView(await addMessage(env, (req.params as { ref: string }).ref, viewer(req), { kind: 'note', body: clean(req.body).text as string })));

  app.post('/api/v1/cases/:ref/replies', {
    onRequest: requireRole('customer'),
    schema: {
      tags: ['cases'], summary: 'The customer answers a notice (customer portal): the case moves to customer_replied',
      params: refParams, body: { type: 'object', additionalProperties: false, required: ['text'], properties: { text: text(100000) } }, response: { 200: caseSchema, ...errors },
    },
  }, async (req) => {
    const v = viewer(req);
    const row = await getCase(env, (req.params as { ref: string }).ref, v);
    return caseView(await addMessage(env, row.id, v, { kind: 'customer_reply', body: clean(req.body).text as string },
      canTransition(row.state, 'customer_replied') ? 'customer_replied' : undefined));
  });

  app.get('/api/v1/cases/:ref/messages', {
    onRequest: staff,
    schema: { tags: ['cases'], summary: 'Notes, customer replies and other mail on the case', params: refParams, response: { 200: { type: 'object', properties: { messages: { type: 'array', items: messageSchema } } }, ...errors } },
  }, async (req) => {
    const row = await getCase(env, (req.params as { ref: string }).ref, viewer(req));
    const r = await desk.db.query<{ id: string; kind: string; author: string; subject: string | null; body: string; at: Date }>(
      'SELECT id, kind, author, subject, body, at FROM case_messages WHERE case_id = $1 ORDER BY id LIMIT 1000', [row.id]);
    return { messages: r.rows.map((m) => ({ ...m, id: Number(m.id), at: iso(m.at) })) };
  });

  app.get('/api/v1/cases/:ref/events', {
    onRequest: staff,
    schema: {
      tags: ['cases'], summary: 'The evidence (events) of a case; every read is recorded in the audit trail',
      params: refParams,
      querystring: { type: 'object', properties: { limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 }, after: { type: 'integer', minimum: 0 } } },
      response: {
        200: {
          type: 'object',
          properties: {
            events: { type: 'array', items: { type: 'object', properties: { id: { type: 'integer' }, at: ts, event: { type: 'object', additionalProperties: true }, report_id: nullable('integer'), event_id: nullable('integer'), reporter: nullable('string'), channel: nullable('string'), consent: { type: 'boolean' } } } },
            next: nullable('integer'),
          },
        },
        ...errors,
      },
    },
  }, async (req) => viewEvidence(env, (req.params as { ref: string }).ref, viewer(req), req.query as { limit: number; after?: number }));

  app.get('/api/v1/cases/:ref/audit', {
    onRequest: staff,
    schema: {
      tags: ['cases'], summary: 'The case\'s audit trail: who changed what, when',
      params: refParams,
      response: { 200: { type: 'object', properties: { entries: { type: 'array', items: { type: 'object', properties: { seq: { type: 'integer' }, actor: { type: 'string' }, at: ts, action: { type: 'string' }, change: { type: 'object', additionalProperties: true }, hash: { type: 'string' }, batch: { type: 'object', description: 'On events joining the case: the stored entry is one per grouping batch naming this many cases; its hash covers all of them', properties: { cases: { type: 'integer' } } } } } } } }, ...errors },
    },
  }, async (req) => {
    const row = await getCase(env, (req.params as { ref: string }).ref, viewer(req));
    return { entries: (await auditOf(desk.db, Number(row.id))).map((e) => ({ ...e, at: e.at.toISOString() })) };
  });

  const outboxSchema = { type: 'object', properties: { id: { type: 'integer' }, kind: { type: 'string' }, template: { type: 'string' }, language: { type: 'string' }, recipients: { type: 'array', items: { type: 'string' } }, subject: { type: 'string' }, body: { type: 'string' }, status: { type: 'string' }, attempts: { type: 'integer' }, last_error: nullable('string'), created_at: ts, sent_at: tsOrNull } };
  app.get('/api/v1/cases/:ref/notices', {
    onRequest: anyone,
    schema: { tags: ['notices'], summary: 'Mail sent (or queued) about the case; customers see what was sent to them', params: refParams, response: { 200: { type: 'object', properties: { notices: { type: 'array', items: outboxSchema } } }, ...errors } },
  }, async (req) => {
    const v = viewer(req);
    const row = await getCase(env, (req.params as { ref: string }).ref, v);
    const staffView = v.roles.some((r) => r === 'admin' || r === 'operator' || r === 'legal');
    const r = await desk.db.query<Record<string, unknown>>(
      `SELECT id, kind, template, language, recipients, subject, body, status, attempts, last_error, created_at, sent_at FROM outbox
        WHERE case_id = $1 ${staffView ? '' : `AND kind IN ('notice', 'reminder', 'escalation')`} ORDER BY id LIMIT 500`, [row.id]);
    return { notices: r.rows.map((m) => ({ ...m, id: Number(m.id), created_at: iso(m.created_at as Date), sent_at: iso(m.sent_at as Date | null) })) };
  });

  const noticeKind = { type: 'string', enum: ['notice', 'reminder', 'escalation'], default: 'notice' };
  const templateName = { type: 'string', pattern: '^[a-z0-9-]{1,60}$' };
  app.get('/api/v1/cases/:ref/notices/preview', {
    onRequest: staff,
    schema: {
      tags: ['notices'], summary: 'Render a notice for the case as it would go out now (nothing is sent or changed)',
      params: refParams,
      querystring: { type: 'object', additionalProperties: false, properties: { kind: noticeKind, template: templateName, language: { type: 'string', enum: ['ja', 'en'] }, action: { type: 'string', enum: [...ACTIONS] } } },
      response: { 200: { type: 'object', properties: { template: { type: 'string' }, language: { type: 'string' }, to: { type: 'array', items: { type: 'string' } }, subject: { type: 'string' }, body: { type: 'string' } } }, ...errors },
    },
  }, async (req) => {
    const q = req.query as { kind: 'notice'; template?: string; language?: 'ja' | 'en'; action?: string };
    return previewNotice(env, await getCase(env, (req.params as { ref: string }).ref, viewer(req)), q);
  });

  app.post('/api/v1/cases/:ref/notices', {
    onRequest: staff,
    schema: {
      tags: ['notices'], summary: 'Send a notice to the customer (queued in the outbox); a first notice moves the case to notified and starts the playbook clock',
      params: refParams,
      body: { type: 'object', additionalProperties: false, required: ['version'], properties: { version, kind: noticeKind, template: templateName, action: { type: 'string', enum: [...ACTIONS] } } },
      response: { 200: { type: 'object', properties: { case: caseSchema, outbox_id: { type: 'integer' } } }, ...errors },
    },
  }, async (req) => {
    const b = clean(req.body) as { version: number; kind: 'notice'; template?: string; action?: string };
    const r = await sendNotice(env, (req.params as { ref: string }).ref, viewer(req), b.version, { kind: b.kind, template: b.template, action: b.action });
    return { case: caseView(r.case), outbox_id: r.outboxId };
  });

  app.post('/api/v1/cases/:ref/closing', {
    onRequest: staff,
    schema: {
      tags: ['notices'], summary: 'Send the optional closing message to the case\'s reporters',
      params: refParams, body: { type: 'object', additionalProperties: false, properties: { text: { type: 'string', maxLength: 20000 } } },
      response: { 200: { type: 'object', properties: { outbox_ids: { type: 'array', items: { type: 'integer' } } } }, ...errors },
    },
  }, async (req) => ({ outbox_ids: await sendClosing(env, (req.params as { ref: string }).ref, viewer(req), (clean(req.body ?? {}).text as string | undefined) ?? null) }));

  app.get('/api/v1/cases/:ref/actions', {
    onRequest: staff,
    schema: { tags: ['actions'], summary: 'Restrictions requested, approved, run and undone on the case', params: refParams, response: { 200: { type: 'object', properties: { actions: { type: 'array', items: actionSchema } } }, ...errors } },
  }, async (req) => ({ actions: (await actionsOf(env, await getCase(env, (req.params as { ref: string }).ref, viewer(req)))).map(actionView) }));

  app.post('/api/v1/cases/:ref/actions', {
    onRequest: staff,
    schema: {
      tags: ['actions'], summary: 'Ask for a restriction; it runs at once unless the playbook wants a second person\'s approval',
      params: refParams,
      body: { type: 'object', additionalProperties: false, required: ['action', 'reason'], properties: { action: { type: 'string', enum: [...ACTIONS] }, target: { type: 'string', minLength: 1, maxLength: 2048 }, reason: text(5000), dry_run: { type: 'boolean', default: false } } },
      response: { 200: actionSchema, ...errors },
    },
  }, async (req) => {
    const b = clean(req.body) as { action: string; target?: string; reason: string; dry_run: boolean };
    return actionView(await requestAction(env, (req.params as { ref: string }).ref, viewer(req), { action: b.action, target: b.target, reason: b.reason, dryRun: b.dry_run }));
  });

  app.post('/api/v1/actions/:id/approve', {
    onRequest: staff,
    schema: { tags: ['actions'], summary: 'Approve an action (a second person) or take up a proposal from an escalation step', params: idParams, response: { 200: actionSchema, ...errors } },
  }, async (req) => actionView(await approveAction(env, (req.params as { id: number }).id, viewer(req))));

  app.post('/api/v1/actions/:id/reject', {
    onRequest: staff,
    schema: { tags: ['actions'], summary: 'Reject a pending or proposed action', params: idParams, body: { type: 'object', additionalProperties: false, required: ['reason'], properties: { reason: text(5000) } }, response: { 200: actionSchema, ...errors } },
  }, async (req) => actionView(await rejectAction(env, (req.params as { id: number }).id, viewer(req), clean(req.body).reason as string)));

  app.post('/api/v1/actions/:id/undo', {
    onRequest: staff,
    schema: { tags: ['actions'], summary: 'Undo a restriction that ran (runs the inverse at once)', params: idParams, body: { type: 'object', additionalProperties: false, properties: { reason: { type: 'string', maxLength: 5000 } } }, response: { 200: actionSchema, ...errors } },
  }, async (req) => actionView(await undoAction(env, (req.params as { id: number }).id, viewer(req), (clean(req.body ?? {}).reason as string | undefined) ?? '')));

  app.get('/api/v1/playbooks', {
    onRequest: staff,
    schema: { tags: ['cases'], summary: 'The playbooks in use (from the playbook files)', response: { 200: { type: 'object', properties: { playbooks: { type: 'array', items: { type: 'object', additionalProperties: true } } } } } },
  }, async () => ({ playbooks: env.playbooks.all }));

  app.get('/api/v1/notice-templates', {
    onRequest: staff,
    schema: { tags: ['notices'], summary: 'Names of the notice templates (each exists in ja and en)', response: { 200: { type: 'object', properties: { templates: { type: 'array', items: { type: 'string' } } } } } },
  }, async () => ({ templates: env.templates.names() }));

  const consentSchema = { type: 'object', properties: { reporter: { type: 'string' }, channel: { type: 'string' }, forward: { type: 'boolean' } } };
  app.get('/api/v1/consent', {
    onRequest: staff,
    schema: { tags: ['cases'], summary: 'Reporters\' defaults for forwarding their evidence to customers', querystring: { type: 'object', properties: { reporter: { type: 'string', maxLength: 320 } } }, response: { 200: { type: 'object', properties: { consent: { type: 'array', items: consentSchema } } } } },
  }, async (req) => ({ consent: await listConsent(env, (req.query as { reporter?: string }).reporter) }));

  app.put('/api/v1/consent', {
    onRequest: staff,
    schema: {
      tags: ['cases'], summary: 'Set a reporter\'s default for forwarding its evidence (per channel, or * for all)',
      body: { type: 'object', additionalProperties: false, required: ['reporter', 'forward'], properties: { reporter: text(320), channel: { type: 'string', pattern: '^([a-z0-9:_-]{1,60}|\\*)$', default: '*' }, forward: { type: 'boolean' } } },
      response: { 200: consentSchema, ...errors },
    },
  }, async (req) => {
    const b = clean(req.body) as { reporter: string; channel: string; forward: boolean };
    await setConsent(env, viewer(req), b);
    return b;
  });

  app.get('/api/v1/stats', {
    onRequest: staff,
    schema: {
      tags: ['statistics'], summary: 'Annual figures: reports by category, case numbers issued, police and legal requests, median times (JSON or CSV)',
      querystring: { type: 'object', additionalProperties: false, properties: { year: { type: 'integer', minimum: 2000, maximum: 2100 }, format: { type: 'string', enum: ['json', 'csv'], default: 'json' } } },
      response: { 200: { type: 'object', additionalProperties: true, properties: { year: { type: 'integer' }, case_numbers_issued: { type: 'integer' } } } },
    },
  }, async (req, reply) => {
    const q = req.query as { year?: number; format: 'json' | 'csv' };
    const s = await yearStats(desk.db, q.year ?? yearIn(new Date(), desk.config.desk.timezone));
    if (q.format === 'csv') return reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="madoguchi-stats-${s.year}.csv"`).serializer((x: string) => x).send(statsCsv(s));
    return s;
  });

  app.get('/api/v1/audit/verify', {
    onRequest: requireRole('admin'),
    schema: {
      tags: ['cases'], summary: 'Check the whole hash chain of the audit trail',
      response: { 200: { type: 'object', properties: { ok: { type: 'boolean' }, entries: { type: 'integer' }, head: { type: 'string' }, problems: { type: 'array', items: { type: 'object', properties: { seq: { type: 'integer' }, problem: { type: 'string' } } } } } } },
    },
  }, async () => {
    const r = await verifyAudit(desk.db);
    return { ok: r.problems.length === 0, ...r };
  });
};

/** Request text may carry NUL characters, which PostgreSQL text refuses: they are dropped. */
function clean(body: unknown): Record<string, unknown> {
  return Object.fromEntries(Object.entries((body ?? {}) as Record<string, unknown>).map(([k, v]) => [k, typeof v === 'string' ? v.replace(/\u0000/g, '') : v]));
}
