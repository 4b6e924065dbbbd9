// The figures of an annual abuse-desk report: reports by category, case numbers issued, police
// and legal requests, and the median times to first notice, to the customer's answer and to
// resolution. A year is the case-number year (the desk's time zone).
import type { Db } from '../store/db.js';
import { CATEGORIES, type Category } from './playbooks.js';
import { LEGAL_KINDS } from './cases.js';

export interface Medians { to_first_notice_s: number | null; to_customer_answer_s: number | null; to_resolution_s: number | null }

export interface YearStats {
  year: number;
  /** Highest number taken this year (numbers are never reused, so this is how many were issued). */
  case_numbers_issued: number;
  categories: Record<Category, { reports: number; events: number; cases: number; medians: Medians }>;
  legal_requests: Record<string, number>;
  medians: Medians;
  open_cases: number;
}

const MEDIANS = `
  percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM first_notice_at - opened_at)) AS to_first_notice_s,
  percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM customer_answer_at - first_notice_at)) AS to_customer_answer_s,
  percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM resolved_at - opened_at)) AS to_resolution_s`;

type MedianRow = { to_first_notice_s: number | null; to_customer_answer_s: number | null; to_resolution_s: number | null };
const medians = (r: MedianRow | undefined): Medians => {
  const n = (v: number | string | null | undefined) => v == null ? null : Math.round(Number(v));
  return { to_first_notice_s: n(r?.to_first_notice_s), to_customer_answer_s: n(r?.to_customer_answer_s), to_resolution_s: n(r?.to_resolution_s) };
};

export async function yearStats(db: Db, year: number): Promise<YearStats> {
  const issued = await db.query<{ last: string }>('SELECT last FROM case_counters WHERE year = $1', [year]);
  // A report counts once per category it led to; a manual case (phone, letter) is a report of its own.
  const byCat = await db.query<{ category: Category; cases: number; events: number; manual: number } & MedianRow>(
    `SELECT category, count(*)::int AS cases, coalesce(sum(event_count), 0)::int AS events,
            count(*) FILTER (WHERE origin = 'manual')::int AS manual, ${MEDIANS}
       FROM cases WHERE year = $1 AND NOT legal_only GROUP BY category`, [year]);
  const reports = await db.query<{ category: Category; reports: number }>(
    `SELECT c.category, count(DISTINCT e.report_id)::int AS reports
       FROM case_events e JOIN cases c ON c.id = e.case_id
      WHERE c.year = $1 AND e.report_id IS NOT NULL AND NOT c.legal_only GROUP BY c.category`, [year]);
  const legal = await db.query<{ legal_kind: string; n: number }>(
    'SELECT legal_kind, count(*)::int AS n FROM cases WHERE year = $1 AND legal_kind IS NOT NULL GROUP BY legal_kind', [year]);
  const all = await db.query<MedianRow & { open: number }>(
    `SELECT ${MEDIANS}, count(*) FILTER (WHERE state NOT IN ('resolved', 'no_action', 'closed'))::int AS open FROM cases WHERE year = $1 AND NOT legal_only`, [year]);
  const categories = Object.fromEntries(CATEGORIES.map((c) => {
    const row = byCat.rows.find((r) => r.category === c);
    const rep = reports.rows.find((r) => r.category === c)?.reports ?? 0;
    return [c, { reports: rep + (row?.manual ?? 0), events: row?.events ?? 0, cases: row?.cases ?? 0, medians: medians(row) }];
  })) as YearStats['categories'];
  return {
    year,
    case_numbers_issued: Number(issued.rows[0]?.last ?? 0),
    categories,
    legal_requests: Object.fromEntries(LEGAL_KINDS.map((k) => [k, legal.rows.find((r) => r.legal_kind === k)?.n ?? 0])),
    medians: medians(all.rows[0]),
    open_cases: all.rows[0]?.open ?? 0,
  };
}

/** The same figures as CSV rows: section,category,metric,value. */
export function statsCsv(s: YearStats): string {
  const rows: (string | number | null)[][] = [['section', 'category', 'metric', 'value']];
  rows.push(['year', '', 'case_numbers_issued', s.case_numbers_issued], ['year', '', 'open_cases', s.open_cases]);
  for (const [k, v] of Object.entries(s.medians)) rows.push(['median', 'all', k, v]);
  for (const [cat, c] of Object.entries(s.categories)) {
    rows.push(['category', cat, 'reports', c.reports], ['category', cat, 'events', c.events], ['category', cat, 'cases', c.cases]);
    for (const [k, v] of Object.entries(c.medians)) rows.push(['median', cat, k, v]);
  }
  for (const [k, v] of Object.entries(s.legal_requests)) rows.push(['legal', k, 'requests', v]);
  return rows.map((r) => r.map((v) => v ?? '').join(',')).join('\n') + '\n';
}
