// Dates as operators write them in inventories: a day (2015-01-01, read in the desk's time zone)
// or a full ISO 8601 instant.

/** Milliseconds for local midnight of a (valid) day in `tz`. */
function zonedMidnight(y: number, m: number, d: number, tz: string): number {
  const guess = Date.UTC(y, m - 1, d);
  // The zone's offset at that instant; a second pass settles days where the offset changes.
  let t = guess;
  for (let i = 0; i < 2; i++) t = guess - offsetMs(t, tz);
  return t;
}

// Making a DateTimeFormat costs far more than using one, and an import asks per row.
const formats = new Map<string, Intl.DateTimeFormat>();

function offsetMs(t: number, tz: string): number {
  let f = formats.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: tz, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
    formats.set(tz, f);
  }
  const parts = f.formatToParts(new Date(t));
  const get = (k: string) => Number(parts.find((p) => p.type === k)?.value);
  return Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second')) - Math.floor(t / 1000) * 1000;
}

/**
 * Parses an inventory date. `endOfDay` makes a date-only value mean the end of that day (valid_to
 * 2020-03-31 holds through the 31st). Returns ms since the epoch, or an error message.
 */
export function parseInventoryDate(s: string, tz: string, endOfDay = false): number | string {
  // Inventories repeat a few dates many times over.
  const key = `${endOfDay ? 1 : 0}${tz}\u0000${s}`;
  let v = seen.get(key);
  if (v === undefined) {
    if (seen.size > 100_000) seen.clear();
    v = parseUncached(s, tz, endOfDay);
    seen.set(key, v);
  }
  return v;
}

const seen = new Map<string, number | string>();

function parseUncached(s: string, tz: string, endOfDay: boolean): number | string {
  const v = s.trim();
  const day = /^(\d{4})-(\d{2})-(\d{2})$/.exec(v);
  if (day) {
    const [y, m, d] = [Number(day[1]), Number(day[2]), Number(day[3])];
    const check = new Date(Date.UTC(y, m - 1, d));
    if (check.getUTCFullYear() !== y || check.getUTCMonth() !== m - 1 || check.getUTCDate() !== d) return `invalid date '${s}'`;
    const base = endOfDay ? new Date(Date.UTC(y, m - 1, d + 1)) : check;
    return zonedMidnight(base.getUTCFullYear(), base.getUTCMonth() + 1, base.getUTCDate(), tz);
  }
  if (!/^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/.test(v)) {
    return `invalid date '${s}' (use YYYY-MM-DD or an ISO 8601 time with a zone, e.g. 2024-03-01T09:00:00+09:00)`;
  }
  const t = Date.parse(v.replace(' ', 'T'));
  return Number.isNaN(t) ? `invalid date '${s}'` : t;
}
