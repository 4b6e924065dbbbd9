// Case numbers: one sequence per year, never reused, shown in every notice and reply subject so
// that mail threads find their case. The format is configurable: `{year}` and `{seq:N}` (the
// sequence zero-padded to N digits), e.g. the default `{year}-{seq:6}` gives 2026-000123.
import type { Db } from '../store/db.js';

export interface NumberFormat {
  format(year: number, seq: number): string;
  /** Matches a case number of this format anywhere in a text (a subject, an address). */
  pattern: RegExp;
}

export function numberFormat(spec: string): NumberFormat {
  const parts = spec.split(/(\{year\}|\{seq(?::\d{1,2})?\})/).filter((p) => p !== '');
  if (!parts.includes('{year}') || !parts.some((p) => p.startsWith('{seq'))) {
    throw new Error(`case number format '${spec}' needs {year} and {seq} (e.g. {year}-{seq:6})`);
  }
  for (const p of parts) {
    if (!p.startsWith('{') && !/^[A-Za-z0-9#._-]+$/.test(p)) {
      throw new Error(`case number format '${spec}': only letters, digits and # . _ - may stand between the fields`);
    }
  }
  const width = (p: string) => Number(p.slice(5, -1)) || 1;
  const source = parts.map((p) => p === '{year}' ? '\\d{4}' : p.startsWith('{seq') ? `\\d{${width(p)},}` : escapeRe(p)).join('');
  return {
    format(year, seq) {
      return parts.map((p) => p === '{year}' ? String(year) : p.startsWith('{seq') ? String(seq).padStart(width(p), '0') : p).join('');
    },
    pattern: new RegExp(`(?<![A-Za-z0-9])${source}(?![0-9])`),
  };
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Takes `count` numbers of `year`, returning the first sequence value. Runs inside the caller's
 * transaction: the counter row stays locked until it commits, and a rollback gives nothing away
 * that any case kept.
 */
export async function takeNumbers(tx: Db, year: number, count: number): Promise<number> {
  const r = await tx.query<{ last: string }>(
    `INSERT INTO case_counters (year, last) VALUES ($1, $2)
     ON CONFLICT (year) DO UPDATE SET last = case_counters.last + $2 RETURNING last`, [year, count]);
  return Number(r.rows[0].last) - count + 1;
}

/** The calendar year of `at` in the desk's time zone (a case opened at 08:00 JST on 1 January belongs to the new year). */
export function yearIn(at: Date, timeZone: string): number {
  let f = yearFormats.get(timeZone);
  if (!f) yearFormats.set(timeZone, f = new Intl.DateTimeFormat('en', { timeZone, year: 'numeric' }));
  return Number(f.format(at));
}
const yearFormats = new Map<string, Intl.DateTimeFormat>();
