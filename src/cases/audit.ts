// The audit trail: every change to a case is an entry {seq, case, actor, time, action, change}
// whose hash covers its content and the previous entry's hash. The table refuses UPDATE and
// DELETE (a trigger); `verifyAudit` finds an entry changed or removed behind the trigger's back.
import { createHash } from 'node:crypto';
import type { Db } from '../store/db.js';

export interface AuditInput {
  caseId: number | null;
  actor: string;
  action: string;
  change: Record<string, unknown>;
}

export interface AuditEntry extends AuditInput {
  seq: number; at: Date; prevHash: string; hash: string;
  /**
   * Set on a case's view of a batch entry (auditOf): the stored entry names this many cases, and
   * its hash covers all of them; `change` shows this case's part.
   */
  batch?: { cases: number };
}

/** The action of the one entry per grouping batch that records events joining open cases. */
export const EVENTS_ADDED_BATCH = 'cases.events_added';

export const GENESIS = '0'.repeat(64);

/** JSON with keys sorted at every level, so that the hash does not depend on key order. */
export function canonical(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v ?? null);
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v instanceof Date) return JSON.stringify(v.toISOString());
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o).filter((k) => o[k] !== undefined).sort().map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`).join(',')}}`;
}

export function entryHash(prevHash: string, e: { seq: number; caseId: number | null; actor: string; at: Date; action: string; change: unknown }): string {
  return createHash('sha256')
    .update(prevHash).update('\n')
    .update(canonical({ seq: e.seq, case: e.caseId, actor: e.actor, at: e.at.toISOString(), action: e.action, change: e.change }))
    .digest('hex');
}

// Appends are serialized so that each entry sees its predecessor; the lock ends with the transaction.
const AUDIT_LOCK = 7244;

/** Appends entries in order inside the caller's transaction (call it from one). */
export async function appendAudit(tx: Db, entries: AuditInput[], at = new Date()): Promise<void> {
  if (!entries.length) return;
  await tx.query('SELECT pg_advisory_xact_lock($1)', [AUDIT_LOCK]);
  const last = await tx.query<{ seq: string; hash: string }>('SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1');
  let seq = last.rows.length ? Number(last.rows[0].seq) : 0;
  let prev = last.rows.length ? last.rows[0].hash : GENESIS;
  const cols: { seq: number[]; case_id: (number | null)[]; actor: string[]; action: string[]; change: string[]; prev: string[]; hash: string[] } =
    { seq: [], case_id: [], actor: [], action: [], change: [], prev: [], hash: [] };
  for (const e of entries) {
    seq += 1;
    // What is hashed is exactly what the database gives back: JSON round-tripped through jsonb.
    const change = JSON.parse(JSON.stringify(e.change));
    const hash = entryHash(prev, { seq, caseId: e.caseId, actor: e.actor, at, action: e.action, change });
    cols.seq.push(seq); cols.case_id.push(e.caseId); cols.actor.push(e.actor); cols.action.push(e.action);
    cols.change.push(JSON.stringify(change)); cols.prev.push(prev); cols.hash.push(hash);
    prev = hash;
  }
  await tx.query(
    `INSERT INTO audit_log (seq, case_id, actor, at, action, change, prev_hash, hash)
     SELECT s, c, a, $8, act, ch::jsonb, p, h
     FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[]) AS u(s, c, a, act, ch, p, h)`,
    [cols.seq, cols.case_id, cols.actor, cols.action, cols.change, cols.prev, cols.hash, at.toISOString()]);
}

/** A case's trail: its own entries and its part of the batch entries that name it, in order. */
export async function auditOf(db: Db, caseId: number): Promise<AuditEntry[]> {
  const r = await db.query<AuditRow>(
    `SELECT * FROM audit_log WHERE case_id = $1
     UNION ALL
     SELECT * FROM audit_log WHERE action = '${EVENTS_ADDED_BATCH}' AND change->'cases' @> jsonb_build_array($1::bigint)
     ORDER BY seq`, [caseId]);
  return r.rows.map((row) => {
    const e = toEntry(row);
    if (e.action !== EVENTS_ADDED_BATCH) return e;
    const cases = e.change.cases as number[];
    const events = e.change.events as number[];
    return { ...e, caseId, action: 'case.events_added', change: { events: events[cases.indexOf(caseId)] }, batch: { cases: cases.length } };
  });
}

interface AuditRow { seq: string; case_id: string | null; actor: string; at: Date; action: string; change: Record<string, unknown>; prev_hash: string; hash: string }
const toEntry = (r: AuditRow): AuditEntry => ({
  seq: Number(r.seq), caseId: r.case_id == null ? null : Number(r.case_id), actor: r.actor, at: new Date(r.at),
  action: r.action, change: r.change, prevHash: r.prev_hash, hash: r.hash,
});

export interface AuditProblem { seq: number; problem: string }
export interface AuditReport { entries: number; head: string; problems: AuditProblem[] }

/** Walks the whole chain in pages (small: a batch entry names thousands of cases), so memory stays bounded however long the trail is. */
export async function verifyAudit(db: Db, pageSize = 500): Promise<AuditReport> {
  const problems: AuditProblem[] = [];
  let prev = GENESIS;
  let expected = 1;
  let entries = 0;
  for (;;) {
    const r = await db.query<AuditRow>('SELECT * FROM audit_log WHERE seq >= $1 ORDER BY seq LIMIT $2', [expected, pageSize]);
    for (const e of r.rows.map(toEntry)) {
      if (e.seq !== expected) problems.push({ seq: expected, problem: `entries ${expected}..${e.seq - 1} are missing` });
      if (e.prevHash !== prev) problems.push({ seq: e.seq, problem: 'does not follow the entry before it (prev_hash differs)' });
      if (entryHash(e.prevHash, e) !== e.hash) problems.push({ seq: e.seq, problem: `content changed since it was written (${e.action}, case ${e.caseId ?? '-'}, by ${e.actor})` });
      prev = e.hash;
      expected = e.seq + 1;
      entries++;
    }
    if (r.rows.length < pageSize) break;
  }
  return { entries, head: prev, problems };
}
