// The blocklist tables: each list's state, each check, the listings of inventory addresses with
// their first-seen / last-seen / delisted times, and alerts.
import type { Db } from '../store/db.js';
import type { ListHeader, MalformedLine } from './format.js';
import type { ProblemKind } from './fetch.js';
import { groupBy } from './group.js';

export interface SourceRow {
  name: string;
  location: string;
  category: string | null;
  maintainer: string | null;
  etag: string | null;
  last_modified: string | null;
  file_stamp: string | null;
  checked_at: Date | null;
  fetched_at: Date | null;
  next_due: Date | null;
  status: 'new' | 'ok' | 'kept_previous' | 'failed';
  error: string | null;
  header: ListHeader;
  source_date: Date | null;
  entries: number;
  unique_ips: number;
  malformed: number;
  malformed_samples: MalformedLine[];
  sha256: string | null;
}

export async function getSource(db: Db, name: string): Promise<SourceRow | null> {
  const r = await db.query<SourceRow>('SELECT * FROM blocklist_sources WHERE name = $1', [name]);
  return r.rows[0] ?? null;
}

export async function listSources(db: Db): Promise<SourceRow[]> {
  return (await db.query<SourceRow>('SELECT * FROM blocklist_sources ORDER BY name')).rows;
}

/** Creates the row of a list on first sight; keeps its location, category and maintainer current. */
export async function ensureSource(db: Db, s: { name: string; location: string; category?: string; maintainer?: string }): Promise<SourceRow> {
  const r = await db.query<SourceRow>(
    `INSERT INTO blocklist_sources (name, location, category, maintainer) VALUES ($1, $2, $3, $4)
     ON CONFLICT (name) DO UPDATE SET location = EXCLUDED.location,
       category = coalesce(EXCLUDED.category, blocklist_sources.category),
       maintainer = coalesce(EXCLUDED.maintainer, blocklist_sources.maintainer)
     RETURNING *`, [s.name, s.location, s.category ?? null, s.maintainer ?? null]);
  return r.rows[0];
}

export interface Accepted {
  header: ListHeader;
  entries: number;
  uniqueIps: number;
  malformed: number;
  malformedSamples: MalformedLine[];
  sha256: string;
  etag?: string;
  lastModified?: string;
  fileStamp?: string;
  added: number;
  removed: number;
  /** Configured values win over what the header says. */
  category?: string;
  maintainer?: string;
}

/** Records a new version of a list. */
export async function recordAccepted(db: Db, name: string, at: Date, nextDue: Date, a: Accepted): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.query(
      `UPDATE blocklist_sources SET etag = $2, last_modified = $3, file_stamp = $4, checked_at = $5, fetched_at = $5, next_due = $6,
         status = 'ok', error = NULL, header = $7, source_date = $8, entries = $9, unique_ips = $10, malformed = $11,
         malformed_samples = $12, sha256 = $13, category = coalesce($14, category), maintainer = coalesce($15, maintainer)
       WHERE name = $1`,
      [name, a.etag ?? null, a.lastModified ?? null, a.fileStamp ?? null, at.toISOString(), nextDue.toISOString(), JSON.stringify(a.header),
        a.header.sourceDate ?? null, a.entries, a.uniqueIps, a.malformed, JSON.stringify(a.malformedSamples), a.sha256,
        a.category ?? a.header.category ?? null, a.maintainer ?? a.header.maintainer ?? null]);
    await tx.query(
      `INSERT INTO blocklist_updates (list, checked_at, outcome, source_date, entries, unique_ips, added, removed, malformed)
       VALUES ($1, $2, 'updated', $3, $4, $5, $6, $7, $8)`,
      [name, at.toISOString(), a.header.sourceDate ?? null, a.entries, a.uniqueIps, a.added, a.removed, a.malformed]);
  });
}

export async function recordUnchanged(db: Db, name: string, at: Date, nextDue: Date, validators: { etag?: string; lastModified?: string; fileStamp?: string }): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.query(
      `UPDATE blocklist_sources SET checked_at = $2, next_due = $3, status = 'ok', error = NULL,
         etag = coalesce($4, etag), last_modified = coalesce($5, last_modified), file_stamp = coalesce($6, file_stamp)
       WHERE name = $1`,
      [name, at.toISOString(), nextDue.toISOString(), validators.etag ?? null, validators.lastModified ?? null, validators.fileStamp ?? null]);
    await tx.query(
      `INSERT INTO blocklist_updates (list, checked_at, outcome, source_date, entries, unique_ips, added, removed, malformed)
       SELECT name, $2, 'unchanged', source_date, entries, unique_ips, 0, 0, malformed FROM blocklist_sources WHERE name = $1`,
      [name, at.toISOString()]);
  });
}

/** A failed check: the previous version stays in force (when there is one) and an alert is raised. */
export async function recordProblem(db: Db, name: string, at: Date, nextDue: Date, kind: ProblemKind, error: string, haveCopy: boolean): Promise<void> {
  await db.transaction(async (tx) => {
    const outcome = haveCopy ? 'kept_previous' : 'failed';
    await tx.query(`UPDATE blocklist_sources SET checked_at = $2, next_due = $3, status = $4, error = $5 WHERE name = $1`,
      [name, at.toISOString(), nextDue.toISOString(), outcome, error]);
    await tx.query(`INSERT INTO blocklist_updates (list, checked_at, outcome, detail) VALUES ($1, $2, $3, $4)`, [name, at.toISOString(), outcome, `${kind}: ${error}`]);
    await tx.query(`INSERT INTO blocklist_alerts (list, kind, message, created_at) VALUES ($1, $2, $3, $4)`,
      [name, kind, haveCopy ? `${error}; the previous version stays in force` : error, at.toISOString()]);
  });
}

/** Missed updates: the maintainer's date is older than three promised update periods (one alert per version). */
export async function alertIfStale(db: Db, name: string, header: ListHeader, at: Date): Promise<void> {
  if (!header.sourceDate || !header.updateEvery) return;
  const ageSeconds = (at.getTime() - Date.parse(header.sourceDate)) / 1000;
  if (ageSeconds <= 3 * header.updateEvery) return;
  await db.query(
    `INSERT INTO blocklist_alerts (list, kind, message, created_at)
     SELECT $1, 'stale', $2, $3 WHERE NOT EXISTS (
       SELECT 1 FROM blocklist_alerts WHERE list = $1 AND kind = 'stale' AND created_at >= $4)`,
    [name, `the list is dated ${header.sourceDate}: ${Math.floor(ageSeconds / header.updateEvery) - 1} promised updates missed`, at.toISOString(), header.sourceDate]);
}

export interface AlertRow { id: string; list: string; kind: string; message: string; created_at: Date }

export async function listAlerts(db: Db, opts: { list?: string; limit?: number } = {}): Promise<AlertRow[]> {
  const r = await db.query<AlertRow>(
    `SELECT id::text, list, kind, message, created_at FROM blocklist_alerts WHERE ($1::text IS NULL OR list = $1)
      ORDER BY created_at DESC, id DESC LIMIT $2`, [opts.list ?? null, opts.limit ?? 100]);
  return r.rows;
}

/** The newest alerts of every list, a few per list. */
export async function recentAlertsByList(db: Db, perList: number): Promise<Map<string, AlertRow[]>> {
  const r = await db.query<AlertRow>(
    `SELECT id, list, kind, message, created_at FROM (
       SELECT id::text, list, kind, message, created_at, row_number() OVER (PARTITION BY list ORDER BY created_at DESC, id DESC) AS nth
         FROM blocklist_alerts) a
      WHERE nth <= $1 ORDER BY list, created_at DESC, id DESC`, [perList]);
  return groupBy(r.rows, (a) => a.list);
}

/** A list entry that covers (part of) one inventory assignment, as the matcher found it. */
export interface Hit {
  entry: string;
  ipCount: number;
  assignmentId: string | null;
  customerId: string | null;
  serviceId: string | null;
  netblock: string | null;
  detail?: Record<string, unknown>;
}

export interface ListingRow {
  id: string;
  list: string;
  entry: string;
  ip_count: number;
  assignment_id: string | null;
  customer_id: string | null;
  service_id: string | null;
  netblock: string | null;
  first_seen: Date;
  last_seen: Date;
  delisted_at: Date | null;
  decision: 'act' | 'report' | 'wait';
  event_sent_at: Date | null;
  delisting_sent_at: Date | null;
  detail: Record<string, unknown>;
}

const hitKey = (entry: string, assignmentId: string | null) => `${entry}\u0000${assignmentId ?? ''}`;

/**
 * Brings the listings of one list in line with what it lists now: new hits start a listing,
 * hits seen again move last_seen, and listings no longer hit are delisted at `at`.
 */
export async function recordListings(db: Db, list: string, hits: Hit[], at: Date, unknownEntries?: Set<string>): Promise<{ added: number; delisted: number; kept: number }> {
  return db.transaction(async (tx) => {
    const active = (await tx.query<{ id: string; entry: string; assignment_id: string | null }>(
      `SELECT id::text, entry, assignment_id::text FROM blocklist_listings WHERE list = $1 AND delisted_at IS NULL FOR UPDATE`, [list])).rows;
    const byKey = new Map(active.map((r) => [hitKey(r.entry, r.assignment_id), r.id]));
    const fresh: Hit[] = [], seen: string[] = [];
    const wanted = new Set<string>();
    for (const h of hits) {
      const key = hitKey(h.entry, h.assignmentId);
      if (wanted.has(key)) continue;
      wanted.add(key);
      const id = byKey.get(key);
      if (id) seen.push(id); else fresh.push(h);
    }
    // An entry whose state is unknown this time (a DNSBL query that failed) is neither seen nor gone.
    const gone = active.filter((r) => !wanted.has(hitKey(r.entry, r.assignment_id)) && !unknownEntries?.has(r.entry)).map((r) => r.id);
    const ts = at.toISOString();
    if (seen.length) await tx.query(`UPDATE blocklist_listings SET last_seen = $2 WHERE id = ANY($1::bigint[])`, [seen, ts]);
    if (gone.length) await tx.query(`UPDATE blocklist_listings SET delisted_at = $2 WHERE id = ANY($1::bigint[])`, [gone, ts]);
    if (fresh.length) {
      // One statement for the whole batch, as one JSON parameter.
      const payload = JSON.stringify(fresh.map((h) => [h.entry, h.ipCount, h.assignmentId, h.customerId, h.serviceId, h.netblock, h.detail ?? {}]));
      await tx.query(
        `INSERT INTO blocklist_listings (list, entry, ip_count, assignment_id, customer_id, service_id, netblock, first_seen, last_seen, detail)
         SELECT $1, r->>0, (r->>1)::float8, (r->>2)::bigint, r->>3, r->>4, r->>5, $2, $2, r->6
           FROM json_array_elements($3::json) AS r`, [list, ts, payload]);
    }
    return { added: fresh.length, delisted: gone.length, kept: seen.length };
  });
}

const LISTING_COLUMNS = `id::text AS id, list, entry, ip_count, assignment_id::text AS assignment_id, customer_id, service_id, netblock,
  first_seen, last_seen, delisted_at, decision, event_sent_at, delisting_sent_at, detail`;

export async function listListings(db: Db, q: { list?: string; customerId?: string; active?: boolean; limit?: number; offset?: number } = {}): Promise<ListingRow[]> {
  const r = await db.query<ListingRow>(
    `SELECT ${LISTING_COLUMNS} FROM blocklist_listings
      WHERE ($1::text IS NULL OR list = $1) AND ($2::text IS NULL OR customer_id = $2)
        AND ($3::boolean IS NULL OR (delisted_at IS NULL) = $3)
      ORDER BY first_seen DESC, id DESC LIMIT $4 OFFSET $5`,
    [q.list ?? null, q.customerId ?? null, q.active ?? null, q.limit ?? 1000, q.offset ?? 0]);
  return r.rows;
}

/** Listings to tell the desk about: new ones it acts on, and ended ones it was told of. */
export async function pendingForDesk(db: Db): Promise<{ listed: ListingRow[]; delisted: ListingRow[] }> {
  const listed = await db.query<ListingRow>(`SELECT ${LISTING_COLUMNS} FROM blocklist_listings
    WHERE decision = 'act' AND delisted_at IS NULL AND event_sent_at IS NULL ORDER BY id`);
  const delisted = await db.query<ListingRow>(`SELECT ${LISTING_COLUMNS} FROM blocklist_listings
    WHERE delisted_at IS NOT NULL AND event_sent_at IS NOT NULL AND delisting_sent_at IS NULL ORDER BY id`);
  return { listed: listed.rows, delisted: delisted.rows };
}

export async function setDecision(db: Db, ids: string[], decision: ListingRow['decision']): Promise<void> {
  await db.query('UPDATE blocklist_listings SET decision = $1 WHERE id = ANY($2::bigint[])', [decision, ids]);
}

export async function markSent(db: Db, ids: string[], kind: 'listed' | 'delisted', at: Date): Promise<void> {
  const column = kind === 'listed' ? 'event_sent_at' : 'delisting_sent_at';
  await db.query(`UPDATE blocklist_listings SET ${column} = $2 WHERE id = ANY($1::bigint[])`, [ids, at.toISOString()]);
}
