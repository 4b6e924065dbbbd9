// Local time as Python's time.mktime / time.localtime see it: the TZ environment variable,
// including POSIX rule strings such as fail2ban's test zone `CET-01CEST-02,M3.5.0,M10.5.0`,
// which Node's ICU does not understand (it falls back to UTC). IANA names go through Date.

interface PosixRule { kind: 'M'; m: number; w: number; d: number; time: number }
interface PosixZone { std: number; dst: number | null; start?: PosixRule; end?: PosixRule }

const POSIX_TZ = /^:?([A-Za-z]{3,}|<[^>]+>)([+-]?\d{1,2}(?::\d{2}){0,2})(?:([A-Za-z]{3,}|<[^>]+>)([+-]?\d{1,2}(?::\d{2}){0,2})?(?:,(M\d{1,2}\.\d\.\d(?:\/[+-]?\d{1,3}(?::\d{2}){0,2})?),(M\d{1,2}\.\d\.\d(?:\/[+-]?\d{1,3}(?::\d{2}){0,2})?))?)?$/;

function hms(s: string): number {
  const neg = s.startsWith('-');
  const [h, m = '0', sec = '0'] = s.replace(/^[+-]/, '').split(':');
  const v = Number(h) * 3600 + Number(m) * 60 + Number(sec);
  return neg ? -v : v;
}

function parseRule(s: string): PosixRule {
  const [date, time] = s.split('/');
  const [m, w, d] = date.slice(1).split('.').map(Number);
  return { kind: 'M', m, w, d, time: time === undefined ? 7200 : hms(time) };
}

/** Parses a POSIX TZ rule string; null for anything else (IANA names). */
export function parsePosixTz(tz: string): PosixZone | null {
  const m = POSIX_TZ.exec(tz);
  if (!m) return null;
  // POSIX offsets are west-positive: CET-01 is UTC+1.
  const std = -hms(m[2]);
  if (!m[3]) return { std, dst: null };
  const dst = m[4] !== undefined ? -hms(m[4]) : std + 3600;
  return { std, dst, start: parseRule(m[5] ?? 'M3.2.0'), end: parseRule(m[6] ?? 'M11.1.0') };
}

/** Seconds since the epoch at which `rule` happens in `year`, as local wall time expressed in UTC terms. */
function ruleWall(rule: PosixRule, year: number): number {
  // Day d (0 = Sunday) of week w (5 = last) of month m.
  const first = new Date(Date.UTC(year, rule.m - 1, 1)).getUTCDay();
  let day = 1 + ((rule.d - first + 7) % 7) + (rule.w - 1) * 7;
  const dim = new Date(Date.UTC(year, rule.m, 0)).getUTCDate();
  while (day > dim) day -= 7;
  return Date.UTC(year, rule.m - 1, day) / 1000 + rule.time;
}

function posixOffsetAtUtc(z: PosixZone, t: number): number {
  if (z.dst === null) return z.std;
  const year = new Date(t * 1000).getUTCFullYear();
  const start = ruleWall(z.start!, year) - z.std; // transition given in standard time
  const end = ruleWall(z.end!, year) - z.dst; // given in daylight time
  const inDst = start < end ? t >= start && t < end : !(t >= end && t < start);
  return inDst ? z.dst : z.std;
}

export interface LocalTime {
  /** Epoch seconds for a local wall-clock time (like mktime with tm_isdst = -1). */
  mktime(y: number, mo: number, d: number, h: number, mi: number, s: number): number;
  /** Offset east of UTC in seconds at epoch t. */
  offset(t: number): number;
  /** `YYYY-MM-DDTHH:MM:SS` in local time. */
  format(t: number): string;
}

type Mktime = LocalTime['mktime'];

/**
 * Log lines come in time order, many per minute, and zone offsets change on minute boundaries:
 * the start of the last minute asked for is kept, the seconds added to it.
 */
function sameMinute(mktime: Mktime): Mktime {
  let key = NaN, base = 0;
  return (y, mo, d, h, mi, s) => {
    if (s < 0 || s > 59) return mktime(y, mo, d, h, mi, s);
    const k = ((((y * 13 + mo) * 32 + d) * 24 + h) * 60) + mi;
    if (k !== key) { base = mktime(y, mo, d, h, mi, 0); key = k; }
    return base + s;
  };
}

function pad(n: number, w = 2): string { return String(n).padStart(w, '0'); }

function formatWith(offset: (t: number) => number): (t: number) => string {
  return (t) => {
    const d = new Date((Math.floor(t) + offset(Math.floor(t))) * 1000);
    return `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
  };
}

/** The process's local time zone (TZ), or a given zone string. */
export function localTime(tz: string | undefined = process.env.TZ): LocalTime {
  const z = tz ? parsePosixTz(tz) : null;
  if (z) {
    const offset = (t: number) => posixOffsetAtUtc(z, t);
    return {
      offset,
      mktime: sameMinute((y, mo, d, h, mi, s) => {
        const wall = Date.UTC(y, mo - 1, d, h, mi, s) / 1000;
        // Try the standard offset first, as mktime does for a time in neither or both periods.
        const a = wall - z.std;
        if (offset(a) === z.std) return a;
        const b = wall - (z.dst ?? z.std);
        return offset(b) === (z.dst ?? z.std) ? b : a;
      }),
      format: formatWith(offset),
    };
  }
  const offset = (t: number) => -new Date(t * 1000).getTimezoneOffset() * 60;
  return {
    offset,
    mktime: sameMinute((y, mo, d, h, mi, s) => {
      const dt = new Date(2000, 0, 1);
      dt.setFullYear(y, mo - 1, d);
      dt.setHours(h, mi, s, 0);
      return dt.getTime() / 1000;
    }),
    format: formatWith(offset),
  };
}
