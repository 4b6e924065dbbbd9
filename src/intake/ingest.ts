// THE way a report enters the desk, whatever the channel: store the raw bytes durably (once), then
// parse them into events, attribute and store the events, and hand them to the event sinks.
// Channels answer their sender after `storeReport` resolves, never before.
import type { Desk } from '../desk.js';
import type { Event } from '../events/event.js';
import { limitsFromConfig, parseReport, type ParseContext, type ParsedReport, type ParseLimits } from '../parsers/index.js';
import type { Db } from '../store/db.js';
import { insertEvents, prepareEvent, storable, type EventRow } from './events-store.js';
import { GroupCommit } from './group-commit.js';
import { identify, type ReportIdentity } from './identity.js';
import { compressRaw, inflateRaw, joinedChunks, streamRaw, syncEmbeddedWal } from './raw-store.js';
import { processFeed } from './feed.js';
import { eventSinks, runSinks, type SinkContext, type SinkPart, type StoredEvent } from './sinks.js';
import { attachRawReplyIfAny } from '../cases/replies.js';

export type Channel = 'http' | 'smtp' | 'imap' | 'file' | 'cli';
export type ReportStatus = 'received' | 'parsed' | 'rejected' | 'quarantined';

/** Channel details kept with the report. contentType and filename also guide the parser. */
export interface IntakeMeta {
  contentType?: string;
  filename?: string;
  [detail: string]: unknown;
}

export interface IngestResult {
  reportId: number;
  /** The desk already had this report (same bytes, or same Message-ID and body). */
  duplicate: boolean;
  status: ReportStatus;
  /** Why the report was quarantined or rejected. */
  reason: string | null;
  parser: string | null;
  /** Number of events stored for the report. */
  events: number;
  /** Case numbers the event sinks opened or updated for it. */
  cases: string[];
}

export interface PendingReport { identity: ReportIdentity; size: number; chunks: Buffer[]; channel: Channel; meta: IntakeMeta }

export interface Outcome {
  reportId: number;
  channel: Channel;
  status: ReportStatus;
  parser: string | null;
  reason: string | null;
  parsed: ParsedReport | null;
  rows: EventRow[];
  /** Delete whatever events an earlier or interrupted parse stored first. */
  replace: boolean;
  /** The report had been parsed before (the sinks are told so). */
  reparse: boolean;
  /** Events stored already, batch by batch, for a streamed feed (rows is then empty). */
  streamed?: number;
}

interface IntakeState { reports: GroupCommit<PendingReport, IngestResult>; outcomes: GroupCommit<Outcome, StoredEvent[] | null> }

const states = new WeakMap<Desk, IntakeState>();

function state(desk: Desk): IntakeState {
  let s = states.get(desk);
  if (!s) {
    s = {
      // Embedded: the next batch commits while the last one's WAL is being flushed. A server
      // flushes for itself: batches on several connections share its WAL flushes.
      reports: new GroupCommit((items) => writeReports(desk, items), 256, desk.db.kind === 'pglite' ? 2 : 3),
      outcomes: new GroupCommit((items) => writeOutcomes(desk, items)),
    };
    states.set(desk, s);
  }
  return s;
}

/** Waits until every report and outcome submitted so far is committed (graceful shutdown, tests). */
export async function intakeIdle(desk: Desk): Promise<void> {
  const s = states.get(desk);
  if (s) await Promise.all([s.reports.idle(), s.outcomes.idle()]);
}

/** Stores the raw report durably; resolves once it is committed (and, embedded, flushed to disk). */
export async function storeReport(desk: Desk, raw: Buffer, channel: Channel, meta: IntakeMeta = {}): Promise<IngestResult> {
  const identity = identify(raw);
  const chunks = await compressRaw(raw);
  return state(desk).reports.submit({ identity, size: raw.length, chunks, channel, meta });
}

export interface IngestOptions {
  /** Called once the raw report is committed, before parsing: where a channel acknowledges its sender. */
  onStored?(stored: IngestResult): void;
}

/** Stores, parses and attributes a report, stores its events and runs the sinks. */
export async function ingestReport(desk: Desk, raw: Buffer, channel: Channel, meta: IntakeMeta = {}, opts: IngestOptions = {}): Promise<IngestResult> {
  const stored = await storeReport(desk, raw, channel, meta);
  opts.onStored?.(stored);
  if (stored.duplicate || stored.status !== 'received') return stored;
  return parseAndStore(desk, { reportId: stored.reportId, channel, replace: false, reparse: false }, raw, meta);
}

/** A stored report as the parsers take it: where its outcome goes, its channel details, its bytes (gzip) unless a feed or too large. */
export interface ReportToParse { target: Target; meta: IntakeMeta; sha256: string; size: number; gz: Uint8Array | null }

async function storedReports(desk: Desk, where: string, params: unknown[], maxSize: number): Promise<ReportToParse[]> {
  const r = await desk.db.query<{ id: string; sha256: string; size: string; status: ReportStatus; channel: Channel; content_type: string | null; meta: IntakeMeta; gz: Uint8Array | null }>(
    `SELECT id, sha256, size, status, channel, content_type, meta,
            CASE WHEN size <= $${params.length + 1} AND NOT meta @> '{"feed": true}' THEN ${joinedChunks('r.sha256')} END AS gz
       FROM reports r WHERE ${where}`, [...params, maxSize]);
  return r.rows.map((row) => ({
    sha256: row.sha256, size: Number(row.size), meta: { ...row.meta, contentType: row.content_type ?? undefined }, gz: row.gz,
    target: { reportId: Number(row.id), channel: row.channel, replace: true, reparse: row.status !== 'received' },
  }));
}

/** Parses a stored report read whole; nothing is written. */
export async function parseStoredReport(desk: Desk, s: ReportToParse, maxSize = desk.config.intake.max_report_size): Promise<Outcome> {
  if (!s.gz) throw new Error(`no raw bytes stored for ${s.sha256}`);
  return parseOutcome(desk, s.target, await inflateRaw(s.gz, maxSize, s.size), s.meta);
}

/** Re-runs the parsers over a stored report, replacing its events (`madoguchi reparse`, crash recovery). */
export async function processReport(desk: Desk, reportId: number, maxSize = desk.config.intake.max_report_size): Promise<IngestResult> {
  const [s] = await storedReports(desk, 'id = $1', [reportId], maxSize);
  if (!s) throw new Error(`no report ${reportId}`);
  if (s.meta.feed) return processFeed(desk, s.target, streamRaw(desk.db, s.sha256), String(s.meta.filename ?? ''));
  if (s.size > maxSize) {
    return finish(desk, { ...s.target, status: 'quarantined', parser: null, reason: `${s.size} bytes exceed intake.max_report_size (${maxSize})`, parsed: null, rows: [] });
  }
  return finish(desk, await parseStoredReport(desk, s, maxSize));
}

/** Reports read back together are read whole up to this size each (a batch of 64: 64 MB at most); larger ones one by one. */
const READ_BACK_MAX = 1 << 20;

/**
 * Of the given reports, those still received, read whole for parseStoredReport (one query): feeds
 * (parsed as a stream), reports over READ_BACK_MAX or the size limit and reports without their
 * bytes are left to processReport.
 */
export async function receivedReports(desk: Desk, ids: number[]): Promise<Map<number, ReportToParse>> {
  const rows = ids.length
    ? await storedReports(desk, `id = ANY($1::bigint[]) AND status = 'received'`, [ids], Math.min(READ_BACK_MAX, desk.config.intake.max_report_size))
    : [];
  return new Map(rows.filter((s) => s.gz).map((s) => [s.target.reportId, s]));
}

/**
 * Stores events that come from no report (blocklist listings, log detection): attributed, stored,
 * handed to the sinks. `source` names their origin, e.g. 'blocklist:spamhaus-drop'.
 */
export async function ingestEvents(desk: Desk, events: Event[], source: string): Promise<StoredEvent[]> {
  const now = new Date().toISOString();
  const rows = events.map((e) => prepareEvent(desk, e, null, source, now));
  const stored = await storeEventRows(desk, rows);
  if (stored.length) await runSinks(desk, stored, { reparse: false });
  return stored;
}

/** Inserts attributed event rows in batches of one transaction each. */
export async function storeEventRows(desk: Desk, rows: EventRow[], batch = desk.config.intake.batch_events): Promise<StoredEvent[]> {
  const out: StoredEvent[] = [];
  for (let i = 0; i < rows.length; i += batch) out.push(...await desk.db.transaction((tx) => insertEvents(tx, rows.slice(i, i + batch))));
  return out;
}

export function parseLimits(desk: Desk): ParseLimits {
  const { intake, smtp } = desk.config;
  return limitsFromConfig({ ...intake.limits, max_message_bytes: Math.max(intake.max_report_size, smtp.max_size), max_events: intake.max_events_per_report });
}

export function parseContext(desk: Desk): ParseContext {
  return { isOurs: (resource, at) => desk.attribution.attribute(resource, at) !== null, limits: parseLimits(desk) };
}

/** Rejections that are refusals under the limits: the report may be real, so it is quarantined. */
const LIMIT_REASONS = new Set(['too-large', 'mime-depth', 'mime-parts', 'zip', 'malformed', 'too-many-events']);

export type Target = Pick<Outcome, 'reportId' | 'channel' | 'replace' | 'reparse'>;

async function parseAndStore(desk: Desk, target: Target, raw: Buffer, meta: IntakeMeta): Promise<IngestResult> {
  return finish(desk, await parseOutcome(desk, target, raw, meta));
}

/** Parses a stored report into its outcome (status, reason, attributed event rows); nothing is written. */
export async function parseOutcome(desk: Desk, target: Target, raw: Buffer, meta: IntakeMeta): Promise<Outcome> {
  const { reportId } = target;
  const outcome: Outcome = { ...target, status: 'quarantined', parser: null, reason: null, parsed: null, rows: [] };
  try {
    // A customer's answer to a notice belongs to its case, not to a new report about abuse.
    if (!target.reparse && target.channel !== 'http') {
      const caseId = await attachRawReplyIfAny(desk, raw);
      if (caseId !== null) return { ...outcome, status: 'rejected', parser: 'reply', reason: `a reply to a notice, attached to case ${caseId}` };
    }
    const parsed = await parseStored(desk, raw, meta);
    outcome.parsed = parsed;
    outcome.parser = parsed.parser;
    if (parsed.rejected) {
      outcome.status = parsed.reason && LIMIT_REASONS.has(parsed.reason) ? 'quarantined' : 'rejected';
      outcome.reason = parsed.error ?? parsed.reason ?? 'not an abuse report';
    } else {
      outcome.status = 'parsed';
      const received = new Date().toISOString();
      outcome.rows = parsed.events.map((e) => prepareEvent(desk, e, reportId, 'report', received));
    }
  } catch (e) {
    outcome.reason = `parser failed: ${(e as Error)?.message ?? String(e)}`;
    desk.log.warn({ report: reportId, err: e }, 'report quarantined');
  }
  return outcome;
}

function parseStored(desk: Desk, raw: Buffer, meta: IntakeMeta): Promise<ParsedReport> {
  return parseReport(raw, parseContext(desk), { filename: meta.filename, contentType: meta.contentType });
}

/** Records how a report's parse ended (status, reason, events) and hands its events to the sinks. */
export async function finish(desk: Desk, outcome: Outcome): Promise<IngestResult> {
  const { result, part } = await commitOutcome(desk, outcome);
  if (part) {
    result.cases = await runSinks(desk, part.events, part.ctx);
    await settleSinks(desk, [result]);
  }
  return result;
}

/**
 * Commits a report's outcome and its events (group commit). The sinks are left to the caller:
 * `part` is what to hand them; `settleSinks` then records their case numbers and clears sinks_pending.
 */
export function commitOutcome(desk: Desk, outcome: Outcome): Promise<{ result: IngestResult; part?: SinkPart }> {
  return commitOutcomes(desk, [outcome])[0];
}

/** commitOutcome for several reports at once: their outcomes go in the same commit. One promise per outcome. */
export function commitOutcomes(desk: Desk, outcomes: Outcome[]): Promise<{ result: IngestResult; part?: SinkPart }>[] {
  return state(desk).outcomes.submitAll(outcomes).map(async (commit, i) => {
    const outcome = outcomes[i];
    const stored = await commit;
    if (!stored) {
      desk.log.info({ report: outcome.reportId }, 'report was parsed meanwhile by another worker; this parse is dropped');
      return { result: await reportResult(desk, outcome.reportId) };
    }
    const result: IngestResult = {
      reportId: outcome.reportId, duplicate: false, status: outcome.status, reason: outcome.reason, parser: outcome.parser,
      events: outcome.streamed ?? stored.length, cases: [],
    };
    // Without a registered sink there is nothing to hand over (nor to record done: see writeOutcomes).
    if (!stored.length || !eventSinks.length) return { result };
    return { result, part: { events: stored, ctx: sinkContext(outcome, outcome.parsed) } };
  });
}

/** Keeps the case numbers the sinks named on each report and clears its sinks_pending mark: one statement for many reports. */
export async function settleSinks(desk: Desk, done: Pick<IngestResult, 'reportId' | 'cases'>[]): Promise<void> {
  if (!done.length) return;
  await desk.db.query(
    `UPDATE reports r SET cases = (SELECT coalesce(array_agg(DISTINCT c), '{}') FROM unnest(r.cases || u.cases) c), sinks_pending = false
       FROM json_to_recordset($1::json) AS u(id bigint, cases text[])
      WHERE r.id = u.id AND r.id = ANY($2::bigint[])`,
    [JSON.stringify(done.map((d) => ({ id: d.reportId, cases: d.cases }))), done.map((d) => d.reportId)]);
}

/** A report's outcome as the store has it now. */
export async function reportResult(desk: Desk, reportId: number): Promise<IngestResult> {
  const r = await desk.db.query<{ status: ReportStatus; reason: string | null; parser: string | null; event_count: number; cases: string[] }>(
    'SELECT status, reason, parser, event_count, cases FROM reports WHERE id = $1', [reportId]);
  const row = r.rows[0];
  if (!row) throw new Error(`no report ${reportId}`);
  return { reportId, duplicate: false, status: row.status, reason: row.reason, parser: row.parser, events: row.event_count, cases: row.cases };
}

export function sinkContext(o: Target, p: ParsedReport | null): SinkContext {
  return {
    reparse: o.reparse,
    report: { id: o.reportId, channel: o.channel, reporterEmail: p?.reporter?.email ?? null, subject: p?.subject ?? null, forwardConsent: p?.forwardConsent ?? null, language: p?.language ?? null },
  };
}

/** Runs the sinks over a report's stored events and keeps the case numbers they name on the report. */
export async function handToSinks(desk: Desk, stored: StoredEvent[], ctx: SinkContext): Promise<string[]> {
  const cases = await runSinks(desk, stored, ctx);
  if (cases.length && ctx.report) await settleSinks(desk, [{ reportId: ctx.report.id, cases }]);
  return cases;
}

/**
 * Hands a report's stored events to the sinks once more: the desk stopped after committing them and
 * before the sinks were done. The sinks are told it may be a second time (`reparse`), so they key
 * their work on the report and do not group its events twice.
 */
export async function resumeSinks(desk: Desk, reportId: number): Promise<IngestResult> {
  const r = await desk.db.query<{ channel: Channel; reporter_email: string | null; subject: string | null; forward_consent: boolean | null; language: string | null }>(
    'SELECT channel, reporter_email, subject, forward_consent, language FROM reports WHERE id = $1 AND sinks_pending', [reportId]);
  const row = r.rows[0];
  if (row) {
    const ev = await desk.db.query<{ id: string; source: string; time: Date | string; source_ip: string | null; classification_type: string | null; customer_id: string | null; service_id: string | null; attributed_to: string | null; event: Event }>(
      `SELECT id, source, time, host(source_ip) AS source_ip, classification_type, customer_id, service_id, attributed_to, event
         FROM events WHERE report_id = $1 ORDER BY id`, [reportId]);
    const stored: StoredEvent[] = ev.rows.map((e) => ({
      id: Number(e.id), reportId, source: e.source, time: new Date(e.time).toISOString(), sourceIp: e.source_ip, classificationType: e.classification_type,
      customerId: e.customer_id, serviceId: e.service_id, attributedTo: e.attributed_to, event: e.event,
    }));
    const report = { id: reportId, channel: row.channel, reporterEmail: row.reporter_email, subject: row.subject, forwardConsent: row.forward_consent, language: row.language };
    await settleSinks(desk, [{ reportId, cases: await runSinks(desk, stored, { reparse: true, resumed: true, report }) }]);
  }
  return reportResult(desk, reportId);
}

function text(s: string | undefined | null, max = 998): string | null {
  return s ? storable(s.slice(0, max)) : null;
}

async function writeReports(desk: Desk, items: PendingReport[]): Promise<IngestResult[]> {
  const started = Date.now();
  // One statement is one transaction: no BEGIN/COMMIT round trips on the way to the answer.
  const out = await insertReports(desk.db, items);
  if (desk.db.kind === 'pglite') await syncEmbeddedWal(desk.dataDir, started);
  return out;
}

/**
 * Inserts report rows and their raw chunks in one statement: the rows travel as one JSON parameter
 * (typed once by json_to_recordset), the chunks as one binary parameter cut by offsets (no base64
 * to write and read back); a report already there (same bytes, or same Message-ID and body) is
 * counted as another arrival of it instead.
 */
export async function insertReports(tx: Db, items: PendingReport[]): Promise<IngestResult[]> {
  const first = new Set<string>();
  const bytes: Buffer[] = [];
  let at = 0;
  const payload = JSON.stringify(items.map((it) => {
    const { contentType, ...rest } = it.meta;
    // A second copy in the same batch brings no bytes: it can only be a duplicate.
    const chunks = first.has(it.identity.sha256) ? [] : it.chunks;
    first.add(it.identity.sha256);
    const offsets = chunks.map((c) => { bytes.push(c); return (at += c.length) - c.length; });
    return {
      sha256: it.identity.sha256, size: it.size, channel: it.channel, content_type: text(contentType, 200), message_id: text(it.identity.messageId),
      body_sha256: it.identity.bodySha256, meta: JSON.stringify(rest, (_k, v: unknown) => (typeof v === 'string' ? storable(v) : v)), offsets, lengths: chunks.map((c) => c.length),
    };
  }));
  const ins = await tx.query<{ id: string; sha256: string }>(
    `WITH x AS (SELECT * FROM ROWS FROM (json_to_recordset($1::json) AS (sha256 text, size bigint, channel text, content_type text, message_id text,
                  body_sha256 text, meta text, offsets int[], lengths int[])) WITH ORDINALITY AS x(sha256, size, channel, content_type, message_id, body_sha256, meta, offsets, lengths, n)),
     ins AS (INSERT INTO reports (sha256, size, channel, content_type, message_id, body_sha256, meta)
             SELECT sha256, size, channel, content_type, message_id, body_sha256, meta::jsonb FROM x ORDER BY n
             ON CONFLICT DO NOTHING RETURNING id, sha256),
     blobs AS (INSERT INTO report_blobs (sha256, seq, data)
               SELECT ins.sha256, c.n - 1, substring($2::bytea FROM c.start + 1 FOR c.len)
                 FROM ins JOIN x ON x.sha256 = ins.sha256, unnest(x.offsets, x.lengths) WITH ORDINALITY AS c(start, len, n)
               ON CONFLICT DO NOTHING)
     SELECT id, sha256 FROM ins`, [payload, Buffer.concat(bytes)]);
  const fresh = new Map(ins.rows.map((r) => [r.sha256, Number(r.id)]));
  const results: IngestResult[] = [];
  for (const it of items) {
    const id = fresh.get(it.identity.sha256);
    if (id !== undefined) {
      fresh.delete(it.identity.sha256); // a second copy in the same batch is a duplicate
      results.push({ reportId: id, duplicate: false, status: 'received', reason: null, parser: null, events: 0, cases: [] });
    } else {
      results.push(await recordArrival(tx, it.identity));
    }
  }
  return results;
}

async function recordArrival(tx: Db, id: ReportIdentity): Promise<IngestResult> {
  const r = await tx.query<{ id: string; status: ReportStatus; reason: string | null; parser: string | null; event_count: number; cases: string[] }>(
    `UPDATE reports SET arrivals = arrivals + 1, last_arrival_at = now()
      WHERE id = (SELECT id FROM reports WHERE sha256 = $1 OR (message_id = $2 AND body_sha256 = $3) ORDER BY id LIMIT 1)
      RETURNING id, status, reason, parser, event_count, cases`, [id.sha256, id.messageId, id.bodySha256]);
  const row = r.rows[0];
  if (!row) throw new Error(`report ${id.sha256} conflicted with a report that cannot be found`);
  return { reportId: Number(row.id), duplicate: true, status: row.status, reason: row.reason, parser: row.parser, events: row.event_count, cases: row.cases };
}

/**
 * Commits parse outcomes: each report's status and its events in one transaction. An outcome for a
 * report that is no longer 'received' (another parse of it got there first) is dropped, unless it
 * is a reparse on purpose: so a report is never parsed into two sets of events.
 */
async function writeOutcomes(desk: Desk, items: Outcome[]): Promise<(StoredEvent[] | null)[]> {
  return desk.db.transaction(async (tx) => {
    const updates = items.map((o) => {
      const p = o.parsed;
      return {
        id: o.reportId, status: o.status, parser: o.parser, reason: text(o.reason, 2000), event_count: o.streamed ?? o.rows.length,
        reporter_email: text(p?.reporter?.email, 320), reporter_name: text(p?.reporter?.name, 200), subject: text(p?.subject),
        forward_consent: p?.forwardConsent ?? null, language: p?.language ?? null, reparse: o.reparse, sinks_pending: o.rows.length > 0 && eventSinks.length > 0,
      };
    });
    // The id list lets the planner use the primary key (it joins a function's rows by scanning the whole table otherwise).
    const applied = new Set((await tx.query<{ id: string }>(
      `UPDATE reports r SET status = u.status, parser = u.parser, reason = u.reason, event_count = u.event_count,
              reporter_email = u.reporter_email, reporter_name = u.reporter_name, subject = u.subject,
              forward_consent = u.forward_consent, language = u.language, parsed_at = now(), sinks_pending = u.sinks_pending
         FROM json_to_recordset($1::json) AS u(id bigint, status text, parser text, reason text, event_count int,
              reporter_email text, reporter_name text, subject text, forward_consent boolean, language text, reparse boolean, sinks_pending boolean)
        WHERE r.id = u.id AND r.id = ANY($2::bigint[]) AND (u.reparse OR r.status = 'received')
        RETURNING r.id`, [JSON.stringify(updates), items.map((o) => o.reportId)])).rows.map((r) => Number(r.id)));
    const live = items.filter((o) => applied.has(o.reportId));
    const replaced = live.filter((o) => o.replace).map((o) => o.reportId);
    if (replaced.length) await tx.query('DELETE FROM events WHERE report_id = ANY($1::bigint[])', [replaced]);
    const stored = await insertEvents(tx, live.flatMap((o) => o.rows));
    let at = 0;
    return items.map((o) => (applied.has(o.reportId) ? stored.slice(at, at += o.rows.length) : null));
  });
}
