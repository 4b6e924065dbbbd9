// Which lists deserve trust: per list its size, freshness (the maintainer's date against ours,
// promised updates that did not come), churn per update, overlap with every other list, how long
// our addresses stay listed, and precision against our own cases (of the customer netblocks it
// listed, how many turned out to be confirmed abuse).
import { existsSync } from 'node:fs';
import type { Db } from '../store/db.js';
import { parseListFile } from './format.js';
import { merged, pairwiseOverlap, type Ranges } from './ranges.js';
import { listSources, recentAlertsByList, type SourceRow } from './store.js';
import { copyPath } from './watch.js';

export interface ListQuality {
  list: string;
  location: string;
  category: string | null;
  maintainer: string | null;
  status: string;
  error: string | null;
  entries: number;
  unique_ips: number;
  malformed: number;
  malformed_samples: { line: number; text: string }[];
  freshness: {
    source_date: string | null;
    fetched_at: string | null;
    checked_at: string | null;
    /** Hours between the maintainer's date and our fetch of that version. */
    lag_hours: number | null;
    /** Hours since the maintainer's date, now. */
    age_hours: number | null;
    /** Seconds between updates the maintainer promises (FireHOL header). */
    update_every: number | null;
    /** Promised updates that have not come since the source date. */
    missed_updates: number | null;
  };
  churn: { updates: number; checks: number; failed_checks: number; avg_added: number | null; avg_removed: number | null; last_added: number | null; last_removed: number | null };
  /** The lists sharing the most addresses with this one (share: of this list's addresses). */
  overlap: { list: string; common_ips: number; share: number }[];
  /** Our listings; the median runs over ended listings (from first seen to delisting). */
  listings: { active: number; total: number; customers: number; delisted: number; median_hours_to_delisting: number | null };
  /** Null until the list has listed a customer netblock. */
  precision: { listed_netblocks: number; confirmed: number; ratio: number } | null;
  alerts: { kind: string; message: string; created_at: string }[];
}

export interface ReportOptions {
  dataDir: string;
  now?: Date;
  /** Computing overlap reads every list copy: leave it out for a quick answer. */
  overlap?: boolean;
  /** Overlapping lists shown per list. */
  topOverlaps?: number;
  /** Cases opened this many days around a listing count as confirming it. */
  confirmWindowDays?: number;
}

const HOUR = 3600_000;

export async function qualityReport(db: Db, opts: ReportOptions): Promise<ListQuality[]> {
  const now = opts.now ?? new Date();
  const sources = await listSources(db);
  const [churn, listings, precision, overlap] = await Promise.all([
    churnByList(db), listingsByList(db), precisionByList(db, now, opts.confirmWindowDays ?? 30),
    opts.overlap === false ? Promise.resolve(new Map<string, ListQuality['overlap']>()) : overlapByList(sources, opts.dataDir, opts.topOverlaps ?? 5),
  ]);
  const alerts = await recentAlertsByList(db, 10);
  return sources.map((s) => {
    const every = s.header.updateEvery ?? null;
    const sourceMs = s.source_date ? new Date(s.source_date).getTime() : null;
    const age = sourceMs === null ? null : (now.getTime() - sourceMs) / HOUR;
    return {
      list: s.name, location: s.location, category: s.category, maintainer: s.maintainer, status: s.status, error: s.error,
      entries: s.entries, unique_ips: s.unique_ips, malformed: s.malformed, malformed_samples: s.malformed_samples,
      freshness: {
        source_date: iso(s.source_date), fetched_at: iso(s.fetched_at), checked_at: iso(s.checked_at),
        lag_hours: sourceMs !== null && s.fetched_at ? round((new Date(s.fetched_at).getTime() - sourceMs) / HOUR) : null,
        age_hours: age === null ? null : round(age),
        update_every: every,
        missed_updates: age === null || !every ? null : Math.max(0, Math.floor((age * 3600) / every) - 1),
      },
      churn: churn.get(s.name) ?? { updates: 0, checks: 0, failed_checks: 0, avg_added: null, avg_removed: null, last_added: null, last_removed: null },
      overlap: overlap.get(s.name) ?? [],
      listings: listings.get(s.name) ?? { active: 0, total: 0, customers: 0, delisted: 0, median_hours_to_delisting: null },
      precision: precision.get(s.name) ?? null,
      alerts: (alerts.get(s.name) ?? []).map((a) => ({ kind: a.kind, message: a.message, created_at: new Date(a.created_at).toISOString() })),
    };
  });
}

function iso(d: Date | string | null): string | null { return d ? new Date(d).toISOString() : null; }
function round(x: number): number { return Math.round(x * 100) / 100; }

async function churnByList(db: Db): Promise<Map<string, ListQuality['churn']>> {
  // The first update of a list adds everything: it is not churn.
  const r = await db.query<{ list: string; updates: number; checks: number; failed: number; avg_added: number | null; avg_removed: number | null; last_added: number | null; last_removed: number | null }>(
    `WITH u AS (
       SELECT *, row_number() OVER (PARTITION BY list, outcome = 'updated' ORDER BY checked_at, id) AS nth,
              row_number() OVER (PARTITION BY list, outcome = 'updated' ORDER BY checked_at DESC, id DESC) AS rev
         FROM blocklist_updates)
     SELECT list, count(*) FILTER (WHERE outcome = 'updated')::int AS updates, count(*)::int AS checks,
            count(*) FILTER (WHERE outcome IN ('failed', 'kept_previous'))::int AS failed,
            avg(added) FILTER (WHERE outcome = 'updated' AND nth > 1) AS avg_added,
            avg(removed) FILTER (WHERE outcome = 'updated' AND nth > 1) AS avg_removed,
            max(added) FILTER (WHERE outcome = 'updated' AND rev = 1 AND nth > 1) AS last_added,
            max(removed) FILTER (WHERE outcome = 'updated' AND rev = 1 AND nth > 1) AS last_removed
       FROM u GROUP BY list`);
  const num = (x: number | null) => (x === null ? null : round(Number(x)));
  return new Map(r.rows.map((x) => [x.list, {
    updates: x.updates, checks: x.checks, failed_checks: x.failed,
    avg_added: num(x.avg_added), avg_removed: num(x.avg_removed), last_added: num(x.last_added), last_removed: num(x.last_removed),
  }]));
}

async function listingsByList(db: Db): Promise<Map<string, ListQuality['listings']>> {
  const r = await db.query<{ list: string; active: number; total: number; customers: number; delisted: number; median: number | null }>(
    `SELECT list, count(*) FILTER (WHERE delisted_at IS NULL)::int AS active, count(*)::int AS total,
            count(DISTINCT customer_id) FILTER (WHERE delisted_at IS NULL)::int AS customers,
            count(*) FILTER (WHERE delisted_at IS NOT NULL)::int AS delisted,
            percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM delisted_at - first_seen) / 3600)
              FILTER (WHERE delisted_at IS NOT NULL) AS median
       FROM blocklist_listings GROUP BY list`);
  return new Map(r.rows.map((x) => [x.list, {
    active: x.active, total: x.total, customers: x.customers, delisted: x.delisted, median_hours_to_delisting: x.median === null ? null : round(Number(x.median)),
  }]));
}

/**
 * Confirmed abuse: a case about the same service in which the desk established what kind of
 * misuse it was, opened within the window around the listing. Cases opened by the blocklist
 * playbook itself do not count: a list cannot confirm itself.
 */
async function precisionByList(db: Db, now: Date, windowDays: number): Promise<Map<string, NonNullable<ListQuality['precision']>>> {
  const r = await db.query<{ list: string; listed: number; confirmed: number }>(
    `WITH l AS (
       SELECT list, assignment_id, EXISTS (
                SELECT 1 FROM cases c
                 WHERE c.service_id = bl.service_id AND c.misuse_kind IS NOT NULL AND c.playbook <> 'blocklist'
                   AND c.opened_at BETWEEN bl.first_seen - make_interval(days => $2) AND coalesce(bl.delisted_at, $1::timestamptz) + make_interval(days => $2)
              ) AS confirmed
         FROM blocklist_listings bl WHERE bl.assignment_id IS NOT NULL)
     SELECT list, count(DISTINCT assignment_id)::int AS listed, count(DISTINCT assignment_id) FILTER (WHERE confirmed)::int AS confirmed
       FROM l GROUP BY list`, [now.toISOString(), windowDays]);
  return new Map(r.rows.map((x) => [x.list, { listed_netblocks: x.listed, confirmed: x.confirmed, ratio: x.listed ? round(x.confirmed / x.listed) : 0 }]));
}

/** Overlap of every list with every other, from the copies the desk holds (one sweep per family). */
async function overlapByList(sources: SourceRow[], dataDir: string, top: number): Promise<Map<string, ListQuality['overlap']>> {
  const names: string[] = [], v4: Ranges[] = [], v6: Ranges[] = [];
  for (const s of sources) {
    const path = copyPath(dataDir, s.name);
    if (!existsSync(path)) continue;
    const p = await parseListFile(path);
    names.push(s.name); v4.push(merged(p.v4)); v6.push(merged(p.v6));
  }
  const n = names.length;
  const a = pairwiseOverlap(v4), b = pairwiseOverlap(v6);
  const out = new Map<string, ListQuality['overlap']>();
  for (let i = 0; i < n; i++) {
    const own = a[i * n + i] + b[i * n + i];
    const row: ListQuality['overlap'] = [];
    for (let j = 0; j < n; j++) {
      const common = a[i * n + j] + b[i * n + j];
      if (j !== i && common > 0) row.push({ list: names[j], common_ips: common, share: own ? round(common / own) : 0 });
    }
    out.set(names[i], row.sort((x, y) => y.common_ips - x.common_ips).slice(0, top));
  }
  return out;
}
