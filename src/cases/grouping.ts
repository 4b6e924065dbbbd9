// From events to cases. An attributed event joins the newest case of the same customer, service
// and kind of abuse (playbook) whose last event lies inside the window; otherwise it opens one.
// Unattributed events group the same way by resource into cases in the triage state. A case that
// was resolved (or closed with no action) is reopened by an event that happened after that.
//
// `planGrouping` is the pure decision; `groupEvents` reads the open cases, applies the plan and
// writes cases, links and audit entries in one transaction, a handful of statements per batch.
import type { Event } from '../events/event.js';
import type { Db } from '../store/db.js';
import { appendAudit, EVENTS_ADDED_BATCH, type AuditInput } from './audit.js';
import { takeNumbers, yearIn, type NumberFormat } from './numbering.js';
import type { Playbook, PlaybookSet } from './playbooks.js';
import type { CaseState } from './states.js';

export interface GroupInput {
  event: Event;
  attribution: { customer_id: string; service_id: string; service_type?: string | null; brand?: string | null } | null;
  /** When the event happened (time.source, else when it was observed or received). */
  time: Date;
  /** The event's row in `events`: the case link names it instead of keeping a copy of the event. */
  eventId?: number | null;
  reportId?: number | null;
  /** Who reported it (an e-mail address or a reporter id), for consent and acknowledgements. */
  reporter?: string | null;
  channel?: string | null;
  /** The report's own answer to "may the evidence be forwarded?"; null: the reporter's default. */
  consent?: boolean | null;
}

export interface OpenGroup {
  id: number;
  number: string;
  key: string;
  state: CaseState;
  lastEventAt: number;
  resolvedAt: number | null;
  /** The case's playbook sends the first notice by itself (the scheduler does it). */
  autoNotice: boolean;
}

export interface NewCase {
  key: string;
  playbook: Playbook;
  abuseType: string;
  state: 'new' | 'triage';
  customerId: string | null;
  serviceId: string | null;
  serviceType: string | null;
  brandId: string | null;
  resource: string;
  firstAt: number;
  lastAt: number;
  autoNotice: boolean;
  members: number[];
}

export interface CaseUpdate {
  id: number;
  number: string;
  firstAt: number;
  lastAt: number;
  reopen: boolean;
  autoNotice: boolean;
  members: number[];
}

export interface GroupingPlan { creates: NewCase[]; updates: CaseUpdate[] }

/** The resource an event is about, as the triage queue groups it. */
export function eventResource(e: Event): string {
  const url = e['source.url'];
  let host: string | null = null;
  if (typeof url === 'string') { try { host = new URL(url).hostname; } catch { /* not a URL */ } }
  const r = e['source.fqdn'] ?? host ?? e['source.ip'] ?? e['source.account'];
  return typeof r === 'string' && r ? r.toLowerCase().slice(0, 255) : 'unknown';
}

export function groupKey(input: GroupInput, playbook: Playbook): string {
  const a = input.attribution;
  return a ? `c|${a.customer_id}|${a.service_id}|${playbook.id}` : `t|${eventResource(input.event)}|${playbook.id}`;
}

export function planGrouping(inputs: GroupInput[], open: Map<string, OpenGroup>, playbooks: PlaybookSet, windowMs: number): GroupingPlan {
  const creates: NewCase[] = [];
  const updates = new Map<number, CaseUpdate>();
  const current = new Map<string, NewCase | CaseUpdate>();
  const order = inputs.map((_, i) => i).sort((a, b) => inputs[a].time.getTime() - inputs[b].time.getTime());
  for (const i of order) {
    const input = inputs[i];
    const t = input.time.getTime();
    const type = input.event['classification.type'];
    const playbook = playbooks.forEvent(input.event);
    const key = groupKey(input, playbook);
    let target = current.get(key);
    if (target && t - target.lastAt > windowMs) target = undefined;
    if (!target) {
      const o = open.get(key);
      if (o && t - o.lastEventAt <= windowMs) {
        target = updates.get(o.id) ?? { id: o.id, number: o.number, firstAt: t, lastAt: o.lastEventAt, reopen: false, autoNotice: o.autoNotice, members: [] };
        // Activity after the resolution means the problem is back; a late report about before it does not.
        if (o.resolvedAt !== null && t > o.resolvedAt) (target as CaseUpdate).reopen = true;
        updates.set(o.id, target as CaseUpdate);
      } else {
        const a = input.attribution;
        target = {
          key, playbook, abuseType: typeof type === 'string' ? type : 'other', state: a ? 'new' : 'triage',
          customerId: a?.customer_id ?? null, serviceId: a?.service_id ?? null, serviceType: a?.service_type ?? null,
          brandId: a?.brand ?? null, resource: eventResource(input.event), firstAt: t, lastAt: t, members: [],
          autoNotice: !!a && playbooks.variant(playbook, a.service_type).autoNotice,
        };
        creates.push(target);
      }
      current.set(key, target);
    }
    target.members.push(i);
    target.firstAt = Math.min(target.firstAt, t);
    target.lastAt = Math.max(target.lastAt, t);
  }
  return { creates, updates: [...updates.values()] };
}

export interface GroupingOptions {
  playbooks: PlaybookSet;
  windowMs: number;
  numbers: NumberFormat;
  timeZone: string;
  /** Time a new case has before its first notice is due (the overdue queue). */
  firstNoticeMs: number;
  /** Whether evidence may be forwarded when neither report nor reporter says. */
  defaultConsent: boolean;
  actor?: string;
  now?: Date;
}

export interface GroupedCase { id: number; number: string; created: boolean; reopened: boolean; state: CaseState; inputs: number[] }

// Grouping runs one batch at a time across processes: two batches deciding at once could both
// open a case for the same group.
const GROUPING_LOCK = 7243;
// Raw log lines can be large; a case keeps enough of each to quote in a notice (the SQL function
// case_event_evidence cuts the events it reads from `events` the same way).
const MAX_RAW = 4096;

export async function groupEvents(db: Db, inputs: GroupInput[], opts: GroupingOptions): Promise<GroupedCase[]> {
  if (!inputs.length) return [];
  const now = opts.now ?? new Date();
  const actor = opts.actor ?? 'system:grouping';
  return db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [GROUPING_LOCK]);
    const keys = new Set<string>();
    let earliest = Infinity;
    for (const input of inputs) {
      keys.add(groupKey(input, opts.playbooks.forEvent(input.event)));
      earliest = Math.min(earliest, input.time.getTime());
    }
    const open = await openGroups(tx, [...keys], new Date(earliest - opts.windowMs), opts.playbooks);
    const plan = planGrouping(inputs, open, opts.playbooks, opts.windowMs);
    const consent = await consentOf(tx, inputs, opts.defaultConsent);

    const created = await insertCases(tx, plan.creates, opts, now);
    const states = await updateCases(tx, plan.updates, now, new Date(now.getTime() + opts.firstNoticeMs));

    // Links name only cases this transaction has just written (case_events has no foreign key).
    if (states.size !== plan.updates.length || created.some((c) => !Number.isSafeInteger(c.id))) {
      throw new Error(`grouping: cases to link were not written (${states.size} of ${plan.updates.length} updated, ${created.length} opened)`);
    }
    const caseOf: number[] = new Array(inputs.length);
    created.forEach((c, j) => { for (const i of plan.creates[j].members) caseOf[i] = c.id; });
    for (const u of plan.updates) for (const i of u.members) caseOf[i] = u.id;
    await insertLinks(tx, inputs, caseOf, consent);

    const audit: AuditInput[] = plan.creates.map((c, j): AuditInput => ({
      caseId: created[j].id, actor, action: 'case.opened',
      change: { number: created[j].number, state: c.state, playbook: c.playbook.id, customer: c.customerId, service: c.serviceId, resource: c.resource, events: c.members.length },
    }));
    for (const u of plan.updates) if (u.reopen) audit.push({ caseId: u.id, actor, action: 'case.reopened', change: { events: u.members.length, state: 'new' } });
    // Events joining open cases: one entry for the batch (a case's trail shows its part, see auditOf).
    const joined = plan.updates.filter((u) => !u.reopen);
    if (joined.length) audit.push({ caseId: null, actor, action: EVENTS_ADDED_BATCH, change: { cases: joined.map((u) => u.id), events: joined.map((u) => u.members.length) } });
    await appendAudit(tx, audit, now);
    return [
      ...created.map((c, j): GroupedCase => ({ ...c, created: true, reopened: false, state: plan.creates[j].state, inputs: plan.creates[j].members })),
      ...plan.updates.map((u): GroupedCase => ({ id: u.id, number: u.number, created: false, reopened: u.reopen, state: states.get(u.id)!, inputs: u.members })),
    ];
  });
}

async function openGroups(tx: Db, keys: string[], since: Date, playbooks: PlaybookSet): Promise<Map<string, OpenGroup>> {
  const r = await tx.query<{ id: string; number: string; group_key: string; state: CaseState; last_event_at: Date; resolved_at: Date | null; playbook: string; service_type: string | null }>(
    `SELECT DISTINCT ON (group_key) id, number, group_key, state, last_event_at, resolved_at, playbook, service_type
       FROM cases WHERE group_key = ANY($1::text[]) AND state <> 'closed' AND last_event_at >= $2
      ORDER BY group_key, last_event_at DESC`, [keys, since.toISOString()]);
  return new Map(r.rows.map((row) => [row.group_key, {
    id: Number(row.id), number: row.number, key: row.group_key, state: row.state,
    lastEventAt: new Date(row.last_event_at).getTime(),
    resolvedAt: row.state === 'resolved' || row.state === 'no_action' ? new Date(row.resolved_at ?? row.last_event_at).getTime() : null,
    autoNotice: !!row.service_type && playbooks.variant(playbooks.get(row.playbook) ?? playbooks.forType(undefined), row.service_type).autoNotice,
  }]));
}

/** Consent per event: the report's own answer, else the reporter's default for the channel, for any channel, else the desk's. */
async function consentOf(tx: Db, inputs: GroupInput[], fallback: boolean): Promise<boolean[]> {
  const reporters = [...new Set(inputs.filter((i) => i.consent == null && i.reporter).map((i) => i.reporter!))];
  const known = new Map<string, boolean>();
  if (reporters.length) {
    const r = await tx.query<{ reporter: string; channel: string; forward: boolean }>(
      'SELECT reporter, channel, forward FROM evidence_consent WHERE reporter = ANY($1::text[])', [reporters]);
    for (const row of r.rows) known.set(`${row.reporter}\n${row.channel}`, row.forward);
  }
  return inputs.map((i) => i.consent ?? (i.reporter
    ? known.get(`${i.reporter}\n${i.channel ?? ''}`) ?? known.get(`${i.reporter}\n*`) ?? fallback
    : fallback));
}

async function insertCases(tx: Db, creates: NewCase[], opts: GroupingOptions, now: Date): Promise<{ id: number; number: string }[]> {
  if (!creates.length) return [];
  const year = yearIn(now, opts.timeZone);
  const first = await takeNumbers(tx, year, creates.length);
  const numbers = creates.map((_, j) => opts.numbers.format(year, first + j));
  const rows = creates.map((c, j) => [
    numbers[j], first + j, c.state, c.playbook.category, c.abuseType, c.playbook.id, c.customerId, c.serviceId, c.serviceType,
    c.brandId, c.resource, c.key, `${c.playbook.title.en}: ${c.resource}`, c.members.length,
    new Date(c.firstAt).toISOString(), new Date(c.lastAt).toISOString(), c.autoNotice && c.state === 'new' ? now.toISOString() : null,
  ]);
  const r = await tx.query<{ id: string; number: string }>(
    `INSERT INTO cases (number, year, seq, state, origin, category, abuse_type, playbook, customer_id, service_id, service_type,
                        brand_id, resource, group_key, title, event_count, first_event_at, last_event_at, next_step_at, opened_at, due_at, updated_at)
     SELECT r->>0, $2, (r->>1)::bigint, r->>2, 'events', r->>3, r->>4, r->>5, r->>6, r->>7, r->>8,
            r->>9, r->>10, r->>11, r->>12, (r->>13)::int, (r->>14)::timestamptz, (r->>15)::timestamptz, (r->>16)::timestamptz, $3, $4, $3
       FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS x(r, n) ORDER BY n
     RETURNING id, number`,
    [JSON.stringify(rows), year, now.toISOString(), new Date(now.getTime() + opts.firstNoticeMs).toISOString()]);
  const ids = new Map(r.rows.map((row) => [row.number, Number(row.id)]));
  return numbers.map((number) => ({ id: ids.get(number)!, number }));
}

// Batch parameters go as array literals of numbers (ids, counts, times as epoch milliseconds):
// cheaper to make and for the server to read than JSON taken apart with ->> or ISO timestamps.
const numbers = (xs: (number | boolean | null)[]): string => `{${xs.map((x) => x === null ? 'NULL' : x === true ? 't' : x === false ? 'f' : x).join(',')}}`;

async function updateCases(tx: Db, updates: CaseUpdate[], now: Date, dueAt: Date): Promise<Map<number, CaseState>> {
  if (!updates.length) return new Map();
  const r = await tx.query<{ id: string; state: CaseState }>(
    `UPDATE cases SET
       event_count = event_count + u.events,
       first_event_at = least(first_event_at, to_timestamp(u.first_ms / 1000)),
       last_event_at = greatest(last_event_at, to_timestamp(u.last_ms / 1000)),
       state = CASE WHEN u.reopen THEN 'new' ELSE state END,
       reopened_count = reopened_count + CASE WHEN u.reopen THEN 1 ELSE 0 END,
       resolved_at = CASE WHEN u.reopen THEN NULL ELSE resolved_at END,
       next_step = CASE WHEN u.reopen THEN 0 ELSE next_step END,
       next_step_at = CASE WHEN NOT u.reopen THEN next_step_at WHEN u.auto_notice THEN $7::timestamptz END,
       due_at = CASE WHEN u.reopen THEN $8::timestamptz ELSE due_at END,
       version = version + 1, updated_at = $7
     FROM unnest($1::bigint[], $2::int[], $3::float8[], $4::float8[], $5::boolean[], $6::boolean[]) AS u(id, events, first_ms, last_ms, reopen, auto_notice)
     WHERE cases.id = u.id
     RETURNING cases.id, cases.state`,
    [numbers(updates.map((u) => u.id)), numbers(updates.map((u) => u.members.length)), numbers(updates.map((u) => u.firstAt)),
      numbers(updates.map((u) => u.lastAt)), numbers(updates.map((u) => u.reopen)), numbers(updates.map((u) => u.autoNotice)),
      now.toISOString(), dueAt.toISOString()]);
  return new Map(r.rows.map((row) => [Number(row.id), row.state]));
}

async function insertLinks(tx: Db, inputs: GroupInput[], caseOf: number[], consent: boolean[]): Promise<void> {
  // An event without a row in `events` is kept on its link (one JSON text per line, '' for none).
  const copies = inputs.map((input) => {
    if (input.eventId != null) return '';
    const raw = input.event.raw;
    return JSON.stringify(typeof raw === 'string' && raw.length > MAX_RAW ? { ...input.event, raw: raw.slice(0, MAX_RAW) } : input.event);
  });
  await tx.query(
    `INSERT INTO case_events (case_id, event_id, report_id, at, event, reporter, channel, consent)
     SELECT unnest($1::bigint[]), unnest($2::bigint[]), unnest($3::bigint[]), to_timestamp(unnest($4::float8[]) / 1000),
            nullif(string_to_table($5, E'\n'), '')::jsonb, unnest($6::text[]), unnest($7::text[]), unnest($8::boolean[])`,
    [numbers(caseOf), numbers(inputs.map((i) => i.eventId ?? null)), numbers(inputs.map((i) => i.reportId ?? null)),
      numbers(inputs.map((i) => i.time.getTime())), copies.join('\n'),
      inputs.map((i) => i.reporter ?? null), inputs.map((i) => i.channel ?? null), numbers(consent)]);
}
