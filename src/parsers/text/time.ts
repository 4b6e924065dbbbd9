// Times as reports write them beside what they report: "2015-09-23 04:04:18 +0200",
// "2022-11-27 23:27:05" (a table row), "2015-09-14 07:49:54 CEST", "2026-11-25T13:40:00Z".

/** Offsets of the zone abbreviations reporters print, in minutes east of UTC. */
const ZONES: Record<string, number> = {
  Z: 0, UTC: 0, GMT: 0, UT: 0, JST: 540, KST: 540, CET: 60, CEST: 120, MET: 60, MEST: 120, WET: 0, WEST: 60, EET: 120, EEST: 180,
  BST: 60, IST: 330, EST: -300, EDT: -240, CST: -360, CDT: -300, MST: -420, MDT: -360, PST: -480, PDT: -420,
};

// Year first, with seconds optional; the zone right after it, if any.
const DATETIME = /(\d{4})[-/](\d\d)[-/](\d\d)[T ]+(\d\d):(\d\d)(?::(\d\d))?(?:\.\d+)?[ \t]*\(?(Z|[+-]\d\d:?\d\d|[A-Z]{2,4}\b)?/;
/** "Time:", "Tested on:", "first_seen:", "Detected at:" and the like, then a time. */
const LABELLED = /^[\s*•-]*(?:time(?:stamp)?|date ?\/ ?time|date and time|tested(?: on| at)?|first[ _-]?seen|last[ _-]?seen|seen(?: at)?|detected(?: at| on)?|observed(?: at)?|event time|確認日時|検知日時|発見日時|観測日時)[ \t]*[:：][ \t]*/i;

/**
 * The first time written on a line, ISO; `zoneless` gives the offset (minutes) assumed when none
 * is written. Undefined when there is none, or it is no real time.
 */
export function timeOn(line: string, zoneless: () => number): string | undefined {
  if (line.length > 2000 || !/\d{4}[-/]\d\d[-/]\d\d/.test(line)) return undefined;
  const m = DATETIME.exec(line);
  if (!m) return undefined;
  const offset = (m[7] ? zoneOffset(m[7]) : undefined) ?? zoneless();
  const [y, mo, d, h, mi, s] = [1, 2, 3, 4, 5, 6].map((i) => Number(m[i] ?? 0));
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return undefined;
  return new Date(Date.UTC(y, mo - 1, d, h, mi, s) - offset * 60000).toISOString();
}

/** Minutes east of UTC of a zone as written ("+0900", "-07:00", "CEST", "UT"); undefined when unknown. */
export function zoneOffset(zone: string): number | undefined {
  const z = zone.trim();
  const m = /^([+-])(\d\d):?(\d\d)$/.exec(z);
  if (m) return (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3]));
  return ZONES[z.toUpperCase()];
}

/** The time of a "Time: ..." line, undefined for any other line. */
export function labelledTime(line: string, zoneless: () => number): string | undefined {
  const m = LABELLED.exec(line);
  return m ? timeOn(line.slice(m[0].length), zoneless) : undefined;
}
