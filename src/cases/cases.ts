// Reading and changing cases. Every change goes through `mutateCase`: the row is locked, the
// caller's version checked (optimistic concurrency: a stale edit is refused, not merged), the
// change applied with version + 1, and an audit entry appended, all in one transaction.
import type { Db } from '../store/db.js';
import { appendAudit, type AuditInput } from './audit.js';
import type { CaseEnv } from './env.js';
import { CaseNotFound, CaseRuleError, VersionConflict } from './errors.js';
import { takeNumbers, yearIn } from './numbering.js';
import { CATEGORIES, type Category, type Playbook, type PlaybookVariant } from './playbooks.js';
import { checkTransition, isState, type CaseState } from './states.js';

/** Who is looking: staff see every case except legal-only ones (unless they hold the legal role); customers their own. */
export interface Viewer {
  actor: string;
  roles: readonly string[];
  customerId: string | null;
}

/** The desk itself (grouping, scheduler, reply intake): sees everything. */
export const SYSTEM: Viewer = { actor: 'system', roles: ['admin', 'legal'], customerId: null };

export const MISUSE_KINDS = ['fraudulent_contract', 'compromised', 'reseller', 'grey_use'] as const;
export const LEGAL_KINDS = ['police_inquiry', 'warrant', 'takedown_request', 'disclosure_request', 'other'] as const;
export const MANUAL_CHANNELS = ['phone', 'letter', 'fax', 'mail', 'web', 'in_person', 'police', 'court'] as const;

export interface CaseRow {
  id: string;
  number: string;
  year: number;
  seq: string;
  state: CaseState;
  origin: 'events' | 'manual';
  channel: string | null;
  category: Category;
  abuse_type: string;
  playbook: string;
  misuse_kind: string | null;
  legal_only: boolean;
  legal_kind: string | null;
  customer_id: string | null;
  service_id: string | null;
  service_type: string | null;
  brand_id: string | null;
  resource: string | null;
  group_key: string | null;
  title: string;
  assignee: string | null;
  event_count: number;
  first_event_at: Date | null;
  last_event_at: Date | null;
  opened_at: Date;
  first_notice_at: Date | null;
  customer_answer_at: Date | null;
  resolved_at: Date | null;
  closed_at: Date | null;
  reopened_count: number;
  due_at: Date | null;
  next_step: number;
  next_step_at: Date | null;
  version: number;
  updated_at: Date;
}

function isStaff(v: Viewer): boolean {
  return v.roles.some((r) => r === 'admin' || r === 'operator' || r === 'legal');
}

/** The SQL condition limiting what a viewer sees; params are appended to `params`. */
export function visibleTo(v: Viewer, params: unknown[], alias = ''): string {
  const col = (c: string) => alias ? `${alias}.${c}` : c;
  if (isStaff(v)) return v.roles.includes('legal') ? 'true' : `NOT ${col('legal_only')}`;
  if (v.roles.includes('customer') && v.customerId) {
    params.push(v.customerId);
    return `${col('customer_id')} = $${params.length} AND NOT ${col('legal_only')}`;
  }
  return 'false';
}

export function playbookOf(env: CaseEnv, row: Pick<CaseRow, 'playbook' | 'abuse_type'>): Playbook {
  return env.playbooks.get(row.playbook) ?? env.playbooks.forType(row.abuse_type);
}

export function variantOf(env: CaseEnv, row: Pick<CaseRow, 'playbook' | 'abuse_type' | 'service_type'>): PlaybookVariant {
  return env.playbooks.variant(playbookOf(env, row), row.service_type);
}

export async function getCase(env: CaseEnv, ref: string | number, viewer: Viewer, db: Db = env.db): Promise<CaseRow> {
  const params: unknown[] = [String(ref)];
  const by = /^\d+$/.test(String(ref)) ? 'id = $1::bigint' : 'number = $1';
  const r = await db.query<CaseRow>(`SELECT * FROM cases WHERE ${by} AND ${visibleTo(viewer, params)}`, params);
  if (!r.rows.length) throw new CaseNotFound(`case ${ref}`);
  return r.rows[0];
}

export interface CaseChange {
  /** Columns to set (names from this module only, never from a request). */
  set: Partial<Record<keyof CaseRow, unknown>>;
  audit: Omit<AuditInput, 'caseId' | 'actor'>[];
}

/**
 * Applies `change(row, tx)` to one case. `version` is what the caller last read; null for the
 * desk's own steps, which always act on the current row.
 */
export async function mutateCase(env: CaseEnv, ref: string | number, viewer: Viewer, version: number | null,
  change: (row: CaseRow, tx: Db, now: Date) => Promise<CaseChange> | CaseChange, now = new Date()): Promise<CaseRow> {
  return env.db.transaction(async (tx) => {
    const params: unknown[] = [String(ref)];
    const by = /^\d+$/.test(String(ref)) ? 'id = $1::bigint' : 'number = $1';
    const r = await tx.query<CaseRow>(`SELECT * FROM cases WHERE ${by} AND ${visibleTo(viewer, params)} FOR UPDATE`, params);
    const row = r.rows[0];
    if (!row) throw new CaseNotFound(`case ${ref}`);
    if (version !== null && row.version !== version) throw new VersionConflict(row.version, version);
    const c = await change(row, tx, now);
    const cols = Object.keys(c.set);
    const values = cols.map((k) => { const v = c.set[k as keyof CaseRow]; return v instanceof Date ? v.toISOString() : v; });
    const u = await tx.query<CaseRow>(
      `UPDATE cases SET ${cols.map((k, i) => `${k} = $${i + 3}`).concat('version = version + 1', 'updated_at = $2').join(', ')}
        WHERE id = $1 RETURNING *`, [row.id, now.toISOString(), ...values]);
    await appendAudit(tx, c.audit.map((a) => ({ ...a, caseId: Number(row.id), actor: viewer.actor })), now);
    return u.rows[0];
  });
}

const HOUR = 3_600_000;

/** The columns that change with a state, besides the state itself. */
export function statePatch(env: CaseEnv, row: CaseRow, to: CaseState, now: Date): CaseChange['set'] {
  checkTransition(row.state, to);
  const at = (ms: number) => new Date(now.getTime() + ms);
  const set: CaseChange['set'] = { state: to };
  switch (to) {
    case 'new':
      if (!row.customer_id) throw new CaseRuleError('name the customer and service of the case first (customer_id, service_id)');
      set.due_at = at(env.config.cases.first_notice_hours * HOUR);
      if (row.state === 'resolved' || row.state === 'no_action') {
        Object.assign(set, { reopened_count: row.reopened_count + 1, resolved_at: null, next_step: 0, next_step_at: null });
      }
      break;
    case 'notified': case 'escalated': {
      const v = variantOf(env, row);
      set.due_at = at(v.deadlineMs);
      if (!row.first_notice_at) set.first_notice_at = now;
      // The playbook's clock starts with the first notice of each round (a reopened case starts again).
      if (row.state === 'new') {
        const first = scheduleOf(v)[0];
        Object.assign(set, { next_step: 0, next_step_at: first ? at(first.atMs) : null });
      }
      break;
    }
    case 'customer_replied':
      set.due_at = at(env.config.cases.reply_review_hours * HOUR);
      if (!row.customer_answer_at) set.customer_answer_at = now;
      break;
    case 'resolved': case 'no_action':
      Object.assign(set, { resolved_at: now, due_at: null, next_step_at: null });
      break;
    case 'closed':
      Object.assign(set, { closed_at: now, due_at: null, next_step_at: null });
      break;
    case 'triage':
      break;
  }
  return set;
}

export interface ScheduleStep { atMs: number; reminder: boolean; notice?: string; action?: string }

/** Reminders and escalation steps of a variant in time order, counted from the first notice. */
export function scheduleOf(v: PlaybookVariant): ScheduleStep[] {
  return [
    ...v.remindersMs.map((atMs) => ({ atMs, reminder: true })),
    ...v.escalation.map((s) => ({ atMs: s.afterMs, reminder: false, notice: s.notice, action: s.action })),
  ].sort((a, b) => a.atMs - b.atMs);
}

export async function transitionCase(env: CaseEnv, ref: string | number, viewer: Viewer, version: number | null,
  to: string, reason?: string, now = new Date()): Promise<CaseRow> {
  if (!isState(to)) throw new CaseRuleError(`'${to}' is not a case state`);
  return mutateCase(env, ref, viewer, version, (row, _tx, now) => ({
    set: statePatch(env, row, to, now),
    audit: [{ action: 'case.state', change: { from: row.state, to, ...(reason ? { reason } : {}) } }],
  }), now);
}

export interface CasePatch {
  assignee?: string | null;
  misuse_kind?: string | null;
  title?: string;
  playbook?: string;
  customer_id?: string;
  service_id?: string;
}

/** Edits what an operator may edit. Naming the service of a triage case takes it out of triage. */
export async function updateCase(env: CaseEnv, ref: string | number, viewer: Viewer, version: number | null, patch: CasePatch): Promise<CaseRow> {
  return mutateCase(env, ref, viewer, version, async (row, tx, now) => {
    const set: CaseChange['set'] = {};
    const before: Record<string, unknown> = {};
    const put = (k: keyof CaseRow, v: unknown) => { if (row[k] !== v) { before[k] = row[k]; set[k] = v; } };
    if (patch.assignee !== undefined) put('assignee', patch.assignee);
    if (patch.title !== undefined) put('title', patch.title);
    if (patch.misuse_kind !== undefined) {
      if (patch.misuse_kind !== null && !(MISUSE_KINDS as readonly string[]).includes(patch.misuse_kind)) {
        throw new CaseRuleError(`misuse_kind must be one of ${MISUSE_KINDS.join(', ')}`);
      }
      put('misuse_kind', patch.misuse_kind);
    }
    if (patch.playbook !== undefined) {
      const pb = env.playbooks.get(patch.playbook);
      if (!pb) throw new CaseRuleError(`no playbook '${patch.playbook}' (playbooks: ${env.playbooks.all.map((p) => p.id).join(', ')})`);
      put('playbook', pb.id);
      put('category', pb.category);
    }
    if (patch.service_id !== undefined || patch.customer_id !== undefined) {
      const svc = await serviceOf(tx, patch.service_id ?? row.service_id);
      if (patch.customer_id !== undefined && patch.customer_id !== svc.customer_id) {
        throw new CaseRuleError(`service ${svc.id} belongs to customer ${svc.customer_id}, not ${patch.customer_id}`);
      }
      put('customer_id', svc.customer_id);
      put('service_id', svc.id);
      put('service_type', svc.type);
      put('brand_id', svc.brand_id);
      put('group_key', `c|${svc.customer_id}|${svc.id}|${(set.playbook ?? row.playbook) as string}`);
      if (row.state === 'triage') Object.assign(set, statePatch(env, { ...row, customer_id: svc.customer_id }, 'new', now));
    }
    const after = Object.fromEntries(Object.keys(before).map((k) => [k, set[k as keyof CaseRow]]));
    return { set, audit: Object.keys(before).length ? [{ action: 'case.updated', change: { before, after } }] : [] };
  });
}

async function serviceOf(db: Db, serviceId: string | null): Promise<{ id: string; customer_id: string; type: string; brand_id: string }> {
  if (!serviceId) throw new CaseRuleError('service_id is needed to attribute a case');
  const r = await db.query<{ id: string; customer_id: string; type: string; brand_id: string }>(
    'SELECT s.id, s.customer_id, s.type, c.brand_id FROM services s JOIN customers c ON c.id = s.customer_id WHERE s.id = $1', [serviceId]);
  if (!r.rows.length) throw new CaseRuleError(`no service '${serviceId}' in the inventory`);
  return r.rows[0];
}

export async function addMessage(env: CaseEnv, ref: string | number, viewer: Viewer,
  m: { kind: 'note' | 'customer_reply' | 'reporter_message' | 'other_message'; body: string; subject?: string | null; messageId?: string | null; from?: string },
  moveTo?: CaseState): Promise<CaseRow> {
  return mutateCase(env, ref, viewer, null, async (row, tx, now) => {
    const r = await tx.query<{ id: string }>(
      'INSERT INTO case_messages (case_id, kind, author, subject, body, message_id, at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id',
      [row.id, m.kind, m.from ?? viewer.actor, m.subject ?? null, m.body, m.messageId ?? null, now.toISOString()]);
    const set = moveTo && row.state !== moveTo ? statePatch(env, row, moveTo, now) : {};
    const audit: CaseChange['audit'] = [{ action: `message.${m.kind}`, change: { message: Number(r.rows[0].id), from: m.from ?? viewer.actor, length: m.body.length } }];
    if (set.state) audit.push({ action: 'case.state', change: { from: row.state, to: set.state } });
    return { set, audit };
  });
}

export interface ManualCase {
  title: string;
  description: string;
  channel: string;
  category?: Category;
  playbook?: string;
  legal_kind?: string | null;
  customer_id?: string | null;
  service_id?: string | null;
  resource?: string | null;
  misuse_kind?: string | null;
}

/** A case for what arrived by phone, letter or from the police: numbered like any other. */
export async function createManualCase(env: CaseEnv, viewer: Viewer, m: ManualCase, now = new Date()): Promise<CaseRow> {
  if (!(MANUAL_CHANNELS as readonly string[]).includes(m.channel)) throw new CaseRuleError(`channel must be one of ${MANUAL_CHANNELS.join(', ')}`);
  if (m.legal_kind != null && !(LEGAL_KINDS as readonly string[]).includes(m.legal_kind)) throw new CaseRuleError(`legal_kind must be one of ${LEGAL_KINDS.join(', ')}`);
  if (m.legal_kind != null && !viewer.roles.includes('legal')) throw new CaseRuleError('only the legal role may open police inquiries and legal requests');
  if (m.misuse_kind != null && !(MISUSE_KINDS as readonly string[]).includes(m.misuse_kind)) throw new CaseRuleError(`misuse_kind must be one of ${MISUSE_KINDS.join(', ')}`);
  if (m.category && !CATEGORIES.includes(m.category)) throw new CaseRuleError(`category must be one of ${CATEGORIES.join(', ')}`);
  const pb = m.playbook ? env.playbooks.get(m.playbook) : env.playbooks.get('other');
  if (!pb) throw new CaseRuleError(`no playbook '${m.playbook}'`);
  return env.db.transaction(async (tx) => {
    const svc = m.service_id ? await serviceOf(tx, m.service_id) : null;
    if (svc && m.customer_id && m.customer_id !== svc.customer_id) throw new CaseRuleError(`service ${svc.id} belongs to customer ${svc.customer_id}`);
    const customer = svc?.customer_id ?? m.customer_id ?? null;
    const year = yearIn(now, env.config.desk.timezone);
    const seq = await takeNumbers(tx, year, 1);
    const number = env.numbers.format(year, seq);
    const r = await tx.query<CaseRow>(
      `INSERT INTO cases (number, year, seq, state, origin, channel, category, abuse_type, playbook, misuse_kind, legal_only, legal_kind,
                          customer_id, service_id, service_type, brand_id, resource, title, opened_at, due_at, updated_at)
       VALUES ($1, $2, $3, $4, 'manual', $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $18) RETURNING *`,
      [number, year, seq, customer ? 'new' : 'triage', m.channel, m.category ?? pb.category, pb.types[0] ?? pb.id, pb.id,
        m.misuse_kind ?? null, m.legal_kind != null, m.legal_kind ?? null, customer, svc?.id ?? null, svc?.type ?? null,
        svc?.brand_id ?? null, m.resource ?? null, m.title, now.toISOString(),
        new Date(now.getTime() + env.config.cases.first_notice_hours * HOUR).toISOString()]);
    const row = r.rows[0];
    await tx.query('INSERT INTO case_messages (case_id, kind, author, body, at) VALUES ($1, $2, $3, $4, $5)',
      [row.id, 'note', viewer.actor, m.description, now.toISOString()]);
    await appendAudit(tx, [{ caseId: Number(row.id), actor: viewer.actor, action: 'case.opened',
      change: { number, origin: 'manual', channel: m.channel, state: row.state, playbook: pb.id, legal_kind: m.legal_kind ?? null, customer } }], now);
    return row;
  });
}

export interface CaseFilter {
  state?: string[];
  customer_id?: string;
  category?: string;
  playbook?: string;
  assignee?: string;
  overdue?: boolean;
}

export interface Page { limit: number; after?: string; order?: 'oldest' | 'newest' }

/**
 * Case lists by age with keyset pagination: the cursor is the (opened_at, id) of the last row,
 * so page 1,000 costs what page 1 costs. Each filter has an index ordered by age.
 */
export async function listCases(env: CaseEnv, viewer: Viewer, f: CaseFilter, page: Page, now = new Date()): Promise<{ cases: CaseRow[]; next: string | null }> {
  const params: unknown[] = [];
  const where = [visibleTo(viewer, params)];
  const eq = (col: string, v: unknown) => { params.push(v); where.push(`${col} = $${params.length}`); };
  if (f.state?.length) {
    for (const s of f.state) if (!isState(s)) throw new CaseRuleError(`'${s}' is not a case state`);
    // One state is an equality, so the (state, opened_at) index also gives the order.
    if (f.state.length === 1) eq('state', f.state[0]);
    else { params.push(f.state); where.push(`state = ANY($${params.length}::text[])`); }
  }
  if (f.customer_id) eq('customer_id', f.customer_id);
  if (f.category) eq('category', f.category);
  if (f.playbook) eq('playbook', f.playbook);
  if (f.assignee) eq('assignee', f.assignee);
  // Overdue cases are few (open ones past their due time) but spread over all ages: they are
  // taken from the due_at index first, instead of walking the age index past every closed case.
  let from = 'cases';
  if (f.overdue) {
    params.push(now.toISOString());
    from = `(WITH late AS MATERIALIZED (SELECT * FROM cases WHERE due_at < $${params.length}) SELECT * FROM late) AS cases`;
  }
  const desc = page.order === 'newest';
  if (page.after) {
    const [at, id] = decodeCursor(page.after);
    params.push(at, id);
    where.push(`(opened_at, id) ${desc ? '<' : '>'} ($${params.length - 1}::timestamptz, $${params.length}::bigint)`);
  }
  params.push(page.limit + 1);
  const dir = desc ? 'DESC' : 'ASC';
  const r = await env.db.query<CaseRow>(
    `SELECT * FROM ${from} WHERE ${where.join(' AND ')} ORDER BY opened_at ${dir}, id ${dir} LIMIT $${params.length}`, params);
  const more = r.rows.length > page.limit;
  const rows = more ? r.rows.slice(0, page.limit) : r.rows;
  const last = rows[rows.length - 1];
  return { cases: rows, next: more && last ? encodeCursor(last) : null };
}

function encodeCursor(row: CaseRow): string {
  return Buffer.from(`${new Date(row.opened_at).toISOString()}|${row.id}`).toString('base64url');
}

function decodeCursor(c: string): [string, string] {
  const m = /^(\d{4}-\d\d-\d\dT[\d:.]+Z)\|(\d{1,19})$/.exec(Buffer.from(c, 'base64url').toString());
  if (!m) throw new CaseRuleError('the page cursor is not one this desk gave out');
  return [m[1], m[2]];
}

/** The overdue queue: cases whose next step (first notice, customer's answer, reply review) is late, most late first. */
export async function overdueCases(env: CaseEnv, viewer: Viewer, limit: number, now = new Date()): Promise<CaseRow[]> {
  const params: unknown[] = [now.toISOString()];
  const vis = visibleTo(viewer, params);
  params.push(limit);
  const r = await env.db.query<CaseRow>(`SELECT * FROM cases WHERE due_at < $1 AND ${vis} ORDER BY due_at LIMIT $${params.length}`, params);
  return r.rows;
}

const seconds = (a: Date | null, b: Date | null) => a && b ? Math.round((new Date(b).getTime() - new Date(a).getTime()) / 1000) : null;

/** A case as the API shows it, with its clocks. */
export function caseView(row: CaseRow, now = new Date()) {
  const iso = (d: Date | null) => d ? new Date(d).toISOString() : null;
  return {
    id: Number(row.id), number: row.number, state: row.state, origin: row.origin, channel: row.channel,
    category: row.category, abuse_type: row.abuse_type, playbook: row.playbook, misuse_kind: row.misuse_kind,
    legal_only: row.legal_only, legal_kind: row.legal_kind,
    customer_id: row.customer_id, service_id: row.service_id, service_type: row.service_type, brand_id: row.brand_id,
    resource: row.resource, title: row.title, assignee: row.assignee, event_count: row.event_count,
    first_event_at: iso(row.first_event_at), last_event_at: iso(row.last_event_at), opened_at: iso(row.opened_at)!,
    first_notice_at: iso(row.first_notice_at), customer_answer_at: iso(row.customer_answer_at),
    resolved_at: iso(row.resolved_at), closed_at: iso(row.closed_at), reopened_count: row.reopened_count,
    due_at: iso(row.due_at), overdue: row.due_at !== null && new Date(row.due_at).getTime() < now.getTime(),
    clocks: {
      to_first_notice_s: seconds(row.opened_at, row.first_notice_at),
      to_customer_answer_s: seconds(row.first_notice_at, row.customer_answer_at),
      to_resolution_s: seconds(row.opened_at, row.resolved_at),
    },
    version: row.version, updated_at: iso(row.updated_at)!,
  };
}
export type CaseView = ReturnType<typeof caseView>;
