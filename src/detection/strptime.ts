// fail2ban's strptime tables (server/strptime.py): `%` directives to regular expressions, and the
// conversion of matched fields to epoch seconds, including year-less and date-less stamps.
import type { LocalTime } from './localtime.js';

const TZ_ABBR_RE = '[A-Z](?:[A-Z]{2,4})?';
const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
const DAYS_FULL = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'];
const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const MONTHS_FULL = ['january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december'];

const byLengthDesc = (a: string[]) => [...a].sort((x, y) => y.length - x.length);

/** Directive -> regular expression, as Python's TimeRE with fail2ban's overrides (C locale). */
export function timeRE(yearCentRE: string): Record<string, string> {
  return {
    d: String.raw`(?P<d>[1-2]\d|[0 ]?[1-9]|3[0-1])`,
    f: '(?P<f>[0-9]{1,6})',
    H: String.raw`(?P<H>[0-1]?\d|2[0-3])`,
    I: '(?P<I>1[0-2]|0[1-9]|[1-9])',
    G: String.raw`(?P<G>\d\d\d\d)`,
    j: String.raw`(?P<j>36[0-6]|3[0-5]\d|[1-2]\d\d|0[1-9]\d|00[1-9]|[1-9]\d|0[1-9]|[1-9])`,
    m: '(?P<m>0?[1-9]|1[0-2])',
    M: String.raw`(?P<M>[0-5]?\d)`,
    S: String.raw`(?P<S>[0-5]?\d|6[0-1])`,
    U: String.raw`(?P<U>5[0-3]|[0-4]\d|\d)`,
    w: '(?P<w>[0-6])',
    u: '(?P<u>[1-7])',
    V: String.raw`(?P<V>5[0-3]|0[1-9]|[1-4]\d|\d)`,
    y: String.raw`(?P<y>\d\d)`,
    Y: String.raw`(?P<Y>\d{4})`,
    z: String.raw`(?P<z>Z|UTC|GMT|[+-][01]\d(?::?\d{2})?)`,
    A: `(?P<A>${byLengthDesc(DAYS_FULL).join('|')})`,
    a: `(?P<a>${DAYS.join('|')})`,
    B: `(?P<B>${byLengthDesc(MONTHS_FULL).join('|')})`,
    b: `(?P<b>${MONTHS.join('|')})`,
    p: '(?P<p>am|pm)',
    Z: '(?P<Z>Z|[A-Z]{3,5})',
    '%': '%',
    W: String.raw`(?P<W>5[0-3]|[0-4]\d|\d)`,
    c: String.raw`(?P<a>mon|tue|wed|thu|fri|sat|sun)\s+(?P<b>jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)\s+(?P<d>3[0-1]|[1-2]\d|0[1-9]|[1-9]| [1-9])\s+(?P<H>2[0-3]|[0-1]\d|\d):(?P<M>[0-5]\d|\d):(?P<S>6[0-1]|[0-5]\d|\d)\s+(?P<Y>\d\d\d\d)`,
    x: String.raw`(?P<m>1[0-2]|0[1-9]|[1-9])/(?P<d>3[0-1]|[1-2]\d|0[1-9]|[1-9]| [1-9])/(?P<y>\d\d)`,
    X: String.raw`(?P<H>2[0-3]|[0-1]\d|\d):(?P<M>[0-5]\d|\d):(?P<S>6[0-1]|[0-5]\d|\d)`,
    k: String.raw` ?(?P<H>[0-2]?\d)`,
    l: ' ?(?P<I>1?\\d)',
    ExZ: `(?P<Z>${TZ_ABBR_RE})`,
    Exz: String.raw`(?P<z>(?:${TZ_ABBR_RE})?[+-][01]\d(?::?\d{2})?|${TZ_ABBR_RE})`,
    Exd: String.raw`(?P<d>[1-2]\d|0[1-9]|3[0-1])`,
    Exm: '(?P<m>0[1-9]|1[0-2])',
    ExH: String.raw`(?P<H>[0-1]\d|2[0-3])`,
    Exk: String.raw` ?(?P<H>[0-1]?\d|2[0-3])`,
    Exl: String.raw` ?(?P<I>1[0-2]|\d)`,
    ExM: String.raw`(?P<M>[0-5]\d)`,
    ExS: String.raw`(?P<S>[0-5]\d|6[0-1])`,
    ExY: `(?P<Y>${yearCentRE}\\d)`,
    Exy: String.raw`(?P<y>\d{2})`,
  };
}

/** Display names of directives (template names in fail2ban's output). */
export const DIRECTIVE_NAMES: Record<string, string> = {
  a: 'DAY', A: 'DAYNAME', b: 'MON', B: 'MONTH', d: 'Day', H: '24hour', I: '12hour', j: 'Yearday', m: 'Month',
  M: 'Minute', p: 'AMPM', S: 'Second', U: 'Yearweek', w: 'Weekday', W: 'Yearweek', y: 'Year2', Y: 'Year', '%': '%',
  z: 'Zone offset', f: 'Microseconds', Z: 'Zone name',
};

/** Regex matching a directive in a date pattern: %(%|ExZ|...|[dfH...]) */
export const DIRECTIVE_RE = /%(%|ExZ|Exz|Exd|Exm|ExH|Exk|Exl|ExM|ExS|ExY|Exy|[dfHIGjmMSUwuVyYzAaBbpZ%WcxXkl])/g;

export function directiveName(key: string): string {
  if (DIRECTIVE_NAMES[key]) return DIRECTIVE_NAMES[key];
  if (key.startsWith('Ex') && DIRECTIVE_NAMES[key.slice(2)]) return 'Ex' + DIRECTIVE_NAMES[key.slice(2)];
  return key.startsWith('Ex') ? 'Ex%' + key.slice(2) : '%' + key;
}

/**
 * The century part of %ExY (strptime._getYearCentRE): years from one before `now` to three after,
 * plus every third year back to `alternate` (fail2ban-regex uses 1970 so that any date matches).
 */
export function yearCentRE(nowYear: number, alternateYear: number | null): string {
  const cent = (y: number) => String(y).slice(0, 3);
  const set = new Set<string>([cent(nowYear - 1), cent(nowYear + 3)]);
  if (alternateYear !== null) for (let i = -1; i < nowYear - alternateYear + 1; i += 3) set.add(cent(alternateYear + i));
  const grp = (exprset: string[]): string => {
    let c: string | null = null;
    if (exprset.length > 1) {
      for (const i of exprset) { if (c === null || i.slice(0, -1) === c) c = i.slice(0, -1); else { c = null; break; } }
      if (!c) {
        for (const i of exprset) { if (c === null || i[0] === c) c = i[0]; else { c = null; break; } }
      }
      if (c) return c + grp(exprset.map((i) => i.slice(c!.length)));
    }
    return exprset.length > 1 ? (exprset[0].length > 1 ? `(?:${exprset.join('|')})` : `[${exprset.join('')}]`) : exprset.join('');
  };
  return grp([...set].sort());
}

/** Zone abbreviations fail2ban knows, in minutes east of UTC. */
const TZ_STR = `-12 Y
-11 X NUT SST
-10 W CKT HAST HST TAHT TKT
-9 V AKST GAMT GIT HADT HNY
-8 U AKDT CIST HAY HNP PST PT
-7 T HAP HNR MST PDT
-6 S CST EAST GALT HAR HNC MDT
-5 R CDT COT EASST ECT EST ET HAC HNE PET
-4 Q AST BOT CLT COST EDT FKT GYT HAE HNA PYT
-3 P ADT ART BRT CLST FKST GFT HAA PMST PYST SRT UYT WGT
-2 O BRST FNT PMDT UYST WGST
-1 N AZOT CVT EGT
0 Z EGST GMT UTC WET WT
1 A CET DFT WAT WEDT WEST
2 B CAT CEDT CEST EET SAST WAST
3 C EAT EEDT EEST IDT MSK
4 D AMT AZT GET GST KUYT MSD MUT RET SAMT SCT
5 E AMST AQTT AZST HMT MAWT MVT PKT TFT TJT TMT UZT YEKT
6 F ALMT BIOT BTT IOT KGT NOVT OMST YEKST
7 G CXT DAVT HOVT ICT KRAT NOVST OMSST THA WIB
8 H ACT AWST BDT BNT CAST HKT IRKT KRAST MYT PHT SGT ULAT WITA WST
9 I AWDT IRKST JST KST PWT TLT WDT WIT YAKT
10 K AEST ChST PGT VLAT YAKST YAPT
11 L AEDT LHDT MAGT NCT PONT SBT VLAST VUT
12 M ANAST ANAT FJT GILT MAGST MHT NZST PETST PETT TVT WFT
13 FJST NZDT
11.5 NFT
10.5 ACDT LHST
9.5 ACST
6.5 CCT MMT
5.75 NPT
5.5 SLT
4.5 AFT IRDT
3.5 IRST
-2.5 HAT NDT
-3.5 HNT NST NT
-4.5 HLV VET
-9.5 MART MIT`;

const TZ_ABBR_OFFS = new Map<string, number>([['', 0]]);
for (const line of TZ_STR.split('\n')) {
  const [off, ...names] = line.split(' ');
  for (const n of names) TZ_ABBR_OFFS.set(n, Math.trunc(Number(off) * 60));
}

const FIXED_OFFSET_TZ_RE = new RegExp(`^(${TZ_ABBR_RE})?([+-][01]\\d(?::?\\d{2})?)?$`);

export class TimeZoneError extends Error {}

/** validateTimeZone / zone2offset: minutes east of UTC for `CET`, `UTC+0200`, `-04:00`, ... */
export function zoneOffset(tz: string): number {
  const m = FIXED_OFFSET_TZ_RE.exec(tz);
  if (!m) throw new TimeZoneError(`Unknown or unsupported time zone: ${JSON.stringify(tz)}`);
  const base = TZ_ABBR_OFFS.get(m[1] ?? '');
  if (base === undefined) throw new TimeZoneError(`Unknown time zone abbreviation: ${m[1]}`);
  const o = m[2];
  if (!o) return base;
  if (o.length <= 3) return base + Number(o) * 60;
  const sign = o[0] === '-' ? -1 : 1;
  const mm = o[3] === ':' ? o.slice(4, 6) : o.slice(3, 5);
  return base + sign * (Number(o.slice(1, 3)) * 60 + Number(mm));
}

export interface Clock { now(): number; local: LocalTime }

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
function daysInMonth(y: number, m: number): number {
  return m === 2 && (y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0)) ? 29 : DAYS_IN_MONTH[m - 1];
}

let partsOf = NaN;
let parts = { y: 0, mo: 0, d: 0, offset: 0 };
let partsZone: LocalTime | null = null;
/** The local date of `now` and its zone offset (the same for a whole run with a fixed now). */
function localParts(t: number, local: LocalTime): { y: number; mo: number; d: number; offset: number } {
  if (t !== partsOf || local !== partsZone) {
    const offset = local.offset(t);
    const dt = new Date((t + offset) * 1000);
    parts = { y: dt.getUTCFullYear(), mo: dt.getUTCMonth() + 1, d: dt.getUTCDate(), offset };
    partsOf = t;
    partsZone = local;
  }
  return parts;
}

function julianFromUW(year: number, week: number, weekday: number, mondayFirst: boolean): number {
  const firstWeekday = (new Date(Date.UTC(year, 0, 1)).getUTCDay() + 6) % 7; // Monday = 0
  let wd = weekday;
  let fw = firstWeekday;
  if (!mondayFirst) { fw = (fw + 1) % 7; wd = (wd + 1) % 7; }
  const weekZeroLength = (7 - fw) % 7;
  if (week === 0) return 1 + wd - fw;
  return 1 + weekZeroLength + 7 * (week - 1) + wd;
}

/**
 * reGroupDictStrptime: epoch seconds from matched fields. Fractions of seconds are dropped, as
 * fail2ban drops them; a year-less date after tomorrow is taken as last year's.
 */
export function groupsToEpoch(g: Record<string, string | undefined>, clock: Clock, defaultTz: number | null): number {
  let year: number | null = null, month: number | null = null, day: number | null = null;
  let hour = 0, minute = 0, second = 0;
  let tzoffset: number | null = null;
  let weekday: number | null = null, julian: number | null = null, week: number | null = null, weekStartsMonday = true;
  for (const key in g) {
    const val = g[key];
    if (val === undefined) continue;
    switch (key) {
      case 'y': year = Number(val); if (year <= 2000) year += 2000; break;
      case 'Y': year = Number(val); break;
      case 'm': month = Number(val); break;
      case 'B': month = MONTHS_FULL.indexOf(val.toLowerCase()) + 1; break;
      case 'b': month = MONTHS.indexOf(val.toLowerCase()) + 1; break;
      case 'd': day = Number(val); break;
      case 'H': hour = Number(val); break;
      case 'I': {
        hour = Number(val);
        const ampm = (g.p ?? '').toLowerCase();
        if (ampm === '' || ampm === 'am') { if (hour === 12) hour = 0; } else if (ampm === 'pm' && hour !== 12) hour += 12;
        break;
      }
      case 'M': minute = Number(val); break;
      case 'S': second = Number(val); break;
      case 'A': weekday = DAYS_FULL.indexOf(val.toLowerCase()); break;
      case 'a': weekday = DAYS.indexOf(val.toLowerCase()); break;
      case 'w': weekday = Number(val) - 1; if (weekday < 0) weekday = 6; break;
      case 'j': julian = Number(val); break;
      case 'U': case 'W': week = Number(val); weekStartsMonday = key === 'W'; break;
      case 'z': case 'Z': tzoffset = val === 'Z' || val === 'UTC' || val === 'GMT' ? 0 : zoneOffset(val); break;
    }
  }
  const now = clock.now();
  let assumeYear = false;
  if (year === null) { year = localParts(now, clock.local).y; assumeYear = true; }
  if (month === null || day === null) {
    if (julian === null && week !== null && weekday !== null) julian = julianFromUW(year, week, weekday, weekStartsMonday);
    if (julian !== null) {
      const dt = new Date(Date.UTC(year, 0, 1) + (julian - 1) * 86400000);
      year = dt.getUTCFullYear(); month = dt.getUTCMonth() + 1; day = dt.getUTCDate();
    }
  }
  let assumeToday = false;
  if (month === null && day === null) {
    const p = localParts(now, clock.local);
    month = p.mo; day = p.d; assumeToday = true;
  }
  if (month === null || day === null || month < 1 || day < 1 || day > daysInMonth(year, month) || hour > 23 || minute > 59 || second > 59) {
    throw new RangeError('date out of range');
  }
  if (tzoffset === null && defaultTz !== null) tzoffset = defaultTz;
  // Python works on naive datetimes here: shifted to UTC when the zone is known, compared with
  // the local "now" either way (a quirk kept for identical results).
  let dr = Date.UTC(year, month - 1, day, hour, minute, 0) / 1000 + second;
  if (tzoffset !== null) dr -= tzoffset * 60;
  const nowNaive = now + localParts(now, clock.local).offset;
  const asRead = dr;
  if (assumeToday && dr > nowNaive) dr -= 86400;
  if (assumeYear && dr > nowNaive + 86400) {
    const t = new Date(dr * 1000);
    const prev = Date.UTC(year - 1, month - 1, day, t.getUTCHours(), t.getUTCMinutes(), t.getUTCSeconds()) / 1000;
    if (new Date(prev * 1000).getUTCMonth() !== month - 1) throw new RangeError('day is out of range for month');
    dr = prev;
  }
  if (tzoffset !== null) return dr;
  // Unshifted, the fields are those read (Date.UTC takes years below 100 as 19xx: not those).
  if (dr === asRead && year >= 100) return clock.local.mktime(year, month, day, hour, minute, second);
  const d = new Date(dr * 1000);
  return clock.local.mktime(d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds());
}
