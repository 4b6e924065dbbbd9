// Date templates and the date detector, ported from fail2ban's datetemplate.py and
// datedetector.py: the same default template list, the same anchoring rules, and the same
// "last template first, then search and reorder" strategy, so that the same date is found
// in the same place of a line.
import { Regex } from './regex.js';
import { DIRECTIVE_RE, directiveName, groupsToEpoch, timeRE, TimeZoneError, zoneOffset, type Clock } from './strptime.js';

const LINE_BEGIN = 8, LINE_END = 4, WORD_BEGIN = 2, WORD_END = 1;

const RE_GROUPED = /(?<!(?:\(\?))(?<!\\)\((?!\?)/;
const RE_GROUP = /^((?:\(\?\w+\))?\^?(?:\(\?\w+\))?)(.*?)(\$?)$/s;
const RE_GLOBALFLAGS = /((?:^|(?!<\\))\(\?[a-z]+\))/;
const RE_EXLINE_NO_BOUNDS = /^\{UNB\}/;
const RE_EXLINE_BOUND_BEG = /^\{\^LN-BEG\}/;
const RE_EXSANC_BOUND_BEG = /^\((?:\?:)?\^\|\\b\|\\W\)/;
const RE_EXEANC_BOUND_BEG = /\(\?=\\b\|\\W\|\$\)$/;
const RE_NO_WRD_BOUND_BEG = /^\(*(?:\(\?\w+\))?(?:\^|\(*\*\*|\((?:\?:)?\^)/;
const RE_NO_WRD_BOUND_END = /(?<!\\)(?:\$\)?|\\b|\\s|\*\*\)*)$/;
const RE_DEL_WRD_BOUNDS = /^\(*(?:\(\?\w+\))?\(*\*\*|(?<!\\)\*\*\)*$/g;
const RE_LINE_BOUND_BEG = /^(?:\(\?\w+\))?(?:\^|\((?:\?:)?\^(?!\|))/;
const RE_LINE_BOUND_END = /(?<![\\|])(?:\$\)?)$/;
const RE_ALPHA_PATTERN = /(?<!%)%[aAbBpc]/;
const RE_EPOCH_PATTERN = /(?<!\\)\{L?EPOCH\}/i;
const RE_DATE_PREMATCH = /(?<!\\)\{DATE\}/gi;

export class DatePatternError extends Error {}

/** A date template: a regex whose first group is the date text. */
export abstract class DateTemplate {
  name = '';
  weight = 1.0;
  flags = 0;
  regex = '';
  pattern?: string;
  private compiled: Regex | null = null;
  private probed: Regex | null = null;
  /** The numbered groups getDate reads from a probe() match. */
  protected probeGroups = [1];

  /** DateTemplate.setRegex: word/line anchoring, `**` markers, global flags kept in front. */
  protected setRegexBase(regex: string, wordBegin: boolean | 'start' = true, wordEnd = true): void {
    regex = regex.trim();
    const gf = RE_GLOBALFLAGS.exec(regex);
    if (gf) regex = regex.replace(RE_GLOBALFLAGS, '');
    const boundBegin = wordBegin && !RE_NO_WRD_BOUND_BEG.test(regex);
    const boundEnd = wordEnd && !RE_NO_WRD_BOUND_END.test(regex);
    if (!RE_GROUPED.test(regex)) regex = regex.replace(RE_GROUP, '$1($2)$3');
    this.flags = 0;
    if (boundBegin) {
      this.flags |= wordBegin !== 'start' ? WORD_BEGIN : LINE_BEGIN;
      if (wordBegin !== 'start') regex = String.raw`(?=^|\b|\W)` + regex;
      else {
        regex = String.raw`^(?:\W{0,2})?` + regex;
        if (!this.name.startsWith('{^LN-BEG}')) this.name = '{^LN-BEG}' + this.name;
      }
    }
    if (boundEnd) {
      this.flags |= WORD_END;
      regex += String.raw`(?=\b|\W|$)`;
    }
    if (!(this.flags & LINE_BEGIN) && RE_LINE_BOUND_BEG.test(regex)) this.flags |= LINE_BEGIN;
    if (!(this.flags & LINE_END) && RE_LINE_BOUND_END.test(regex)) this.flags |= LINE_END;
    regex = regex.replace(RE_DEL_WRD_BOUNDS, (m) => m.replace(/\*\*/g, ''));
    if (gf) regex = gf[1] + regex;
    this.regex = regex;
    this.compiled = null;
    this.probed = null;
  }

  /** The expressions made so far (re(), probe()), to warm without making the others. */
  made(): Regex[] {
    return [this.compiled, this.probed].filter((r): r is Regex => r !== null);
  }

  get anchored(): boolean { return (this.flags & (LINE_BEGIN | LINE_END)) !== 0; }

  /** The compiled template; throws DatePatternError when the pattern is not a valid regex. */
  re(): Regex {
    return (this.compiled ??= this.compile());
  }

  /**
   * The same expression reporting only the groups a date is found by (and getDate needs): what
   * runs on a line while this template keeps finding the dates, a smaller match to build. Compiled
   * on first use: most templates never are.
   */
  probe(): Regex {
    return (this.probed ??= this.compile(this.probeGroups));
  }

  private compile(keep?: number[]): Regex {
    try { return new Regex(this.regex, { plain: true, group1Start: true, keep }); } catch (e) {
      throw new DatePatternError(`date pattern ${this.name}: ${(e as Error).message}`);
    }
  }

  /** Successful matches over the process (fail2ban counts them per shared template). */
  hits = 0;

  matchDate(line: string, pos?: number, endpos?: number, uni?: boolean, re = this.re()): RegExpExecArray | null {
    const m = re.search(line, pos, endpos, uni);
    if (m) this.hits++;
    return m;
  }

  /** Epoch seconds of the matched date, or null when the fields do not make a date. */
  abstract getDate(dm: DateMatch, clock: Clock, defaultTz: number | null): number | null;
}

export class DateEpoch extends DateTemplate {
  private readonly longFrm: boolean;
  private readonly grpIdx: number;
  constructor(opts: { lineBeginOnly?: boolean; pattern?: string; longFrm?: boolean } = {}) {
    super();
    this.longFrm = opts.longFrm ?? false;
    this.name = opts.pattern ?? (this.longFrm ? 'LongEpoch' : 'Epoch');
    const epochRE = this.longFrm ? String.raw`\d{10,11}(?:\d{3}(?:\.\d{1,6}|\d{3})?)?` : String.raw`\d{10,11}\b(?:\.\d{3,6})?`;
    this.grpIdx = 1;
    if (opts.pattern) {
      this.pattern = opts.pattern;
      this.grpIdx = 2;
      this.probeGroups = [1, 2];
      this.setRegexBase('(' + opts.pattern.replace(new RegExp(RE_EPOCH_PATTERN.source, 'gi'), () => `(${epochRE})`) + ')');
    } else if (!opts.lineBeginOnly) {
      this.setRegexBase(String.raw`((?:^|(?P<square>(?<=^\[))|(?P<selinux>(?<=\baudit\()))${epochRE})(?:(?(selinux)(?=:\d+\)))|(?(square)(?=\])))`, false);
    } else {
      this.setRegexBase(String.raw`((?P<square>(?<=^\[))?${epochRE})(?(square)(?=\]))`, 'start', true);
    }
  }
  getDate(dm: DateMatch): number | null {
    const v = dm.re.groupByIndex(dm.match, this.grpIdx);
    if (v === undefined) return null;
    let n = Number(v);
    if (this.longFrm && v.length >= 13) n = v.length >= 16 && !v.includes('.') ? n / 1000000 : n / 1000;
    return n;
  }
}

export class DateTai64n extends DateTemplate {
  constructor(wordBegin: boolean | 'start' = false) {
    super();
    this.name = 'TAI64N';
    this.setRegexBase('@[0-9a-f]{24}', wordBegin);
  }
  getDate(dm: DateMatch): number | null {
    const v = dm.re.groupByIndex(dm.match, 1);
    return v === undefined ? null : parseInt(v.slice(2, 17), 16);
  }
}

export class DatePatternRegex extends DateTemplate {
  constructor(pattern: string, private readonly times: Record<string, string>, wordBegin: boolean | 'start' = true, wordEnd = true) {
    super();
    this.pattern = pattern;
    let p = pattern;
    if (RE_EXLINE_NO_BOUNDS.test(p)) { p = p.replace(RE_EXLINE_NO_BOUNDS, ''); wordBegin = wordEnd = false; }
    if (wordBegin && RE_EXLINE_BOUND_BEG.test(p)) { p = p.replace(RE_EXLINE_BOUND_BEG, ''); wordBegin = 'start'; }
    this.name = p.replace(DIRECTIVE_RE, (_m, k: string) => directiveName(k));
    let regex = p.replace(DIRECTIVE_RE, (_m, k: string) => {
      const r = times[k];
      if (r === undefined) throw new DatePatternError(`unknown directive %${k} in date pattern '${pattern}'`);
      return r;
    });
    if (/%(?!%)/.test(regex.replace(/%%/g, ''))) {
      // Python's `%` formatting rejects a stray percent sign.
      throw new DatePatternError(`Failed to set datepattern '${pattern}' (may be an invalid format or unescaped percent char)`);
    }
    regex = regex.replace(/%%/g, '%');
    if (RE_ALPHA_PATTERN.test(p)) regex = '(?iu)' + regex;
    this.setRegexBase(regex, wordBegin, wordEnd);
  }
  /** Consecutive lines mostly share their stamp: the last results, valid for the same "now" and zone. */
  private readonly recent = new Map<string, { now: number; tz: number | null; epoch: number | null }>();

  /** The last result on its own: a comparison instead of a hash for the usual run of equal stamps. */
  private last: { key: string; now: number; tz: number | null; epoch: number | null } | null = null;

  getDate(dm: DateMatch, clock: Clock, defaultTz: number | null): number | null {
    const m = dm.match;
    const now = clock.now();
    const last = this.last;
    if (last !== null && last.key === m[0] && last.now === now && last.tz === defaultTz) return last.epoch;
    const hit = this.recent.get(m[0]);
    if (hit && hit.now === now && hit.tz === defaultTz) {
      this.last = { key: m[0], ...hit };
      return hit.epoch;
    }
    let epoch: number | null;
    try {
      epoch = groupsToEpoch(this.re().groups(dm.re === this.re() ? m : rerunAt(this.re(), m)), clock, defaultTz);
    } catch (e) {
      // fail2ban's DateDetector.getTime drops the date on any ValueError: a day out of range, or a
      // zone it does not know ("Wed" read as %Z by a template an earlier line chose).
      if (!(e instanceof RangeError || e instanceof TimeZoneError)) throw e;
      epoch = null;
    }
    if (this.recent.size >= 64) this.recent.clear();
    this.recent.set(m[0], { now, tz: defaultTz, epoch });
    this.last = { key: m[0], now, tz: defaultTz, epoch };
    return epoch;
  }
}

/**
 * Runs the template again where a probe() match is, for all its groups: searched from the match's
 * start in the same text, it finds the same match (an anchored one starts the text).
 */
function rerunAt(re: Regex, m: RegExpExecArray): RegExpExecArray {
  const full = re.search(m.input, m.index);
  if (!full || full.index !== m.index || full[0] !== m[0]) throw new Error('date template: a second search found another match');
  return full;
}

const DEFAULT_TEMPLATES = [
  String.raw`%ExY(?P<_sep>[-/.])%m(?P=_sep)%d(?:T|  ?)%H:%M:%S(?:[.,]%f)?(?:\s*%z)?`,
  String.raw`(?:%a )?%b %d %k:%M:%S(?:\.%f)?(?: %ExY)?`,
  String.raw`(?:%a )?%b %d %ExY %k:%M:%S(?:\.%f)?`,
  String.raw`%d(?P<_sep>[-/])%m(?P=_sep)(?:%ExY|%Exy) %k:%M:%S`,
  String.raw`%d(?P<_sep>[-/])%b(?P=_sep)%ExY[ :]?%H:%M:%S(?:\.%f)?(?: %z)?`,
  String.raw`%m/%d/%ExY:%H:%M:%S`,
  String.raw`%m-%d-%ExY %k:%M:%S(?:\.%f)?`,
  'EPOCH',
  '{^LN-BEG}%H:%M:%S',
  '^<%m/%d/%Exy@%H:%M:%S>',
  '%Exy%Exm%Exd  ?%H:%M:%S',
  '%b %d, %ExY %I:%M:%S %p',
  '^%b-%d-%Exy %k:%M:%S',
  String.raw`%ExY%Exm%Exd(?:T|  ?)%ExH%ExM%ExS(?:[.,]%f)?(?:\s*%z)?`,
  String.raw`(?:%Z )?(?:%a )?%b %d %k:%M:%S(?:\.%f)?(?: %ExY)?`,
  String.raw`(?:%z )?(?:%a )?%b %d %k:%M:%S(?:\.%f)?(?: %ExY)?`,
  'TAI64N',
];

/** Templates by key, one set per `%ExY` table (fail2ban's DD_patternCache). */
class TemplateCache {
  private readonly cache = new Map<string, DateTemplate>();
  private defaults: DateTemplate[] | null = null;
  private all: DateTemplate[] | null = null;
  constructor(readonly times: Record<string, string>) {}

  /** _getPatternTemplate */
  pattern(pattern: string, key?: string): DateTemplate {
    if (key === undefined) key = pattern.includes('%') ? pattern : pattern.toUpperCase();
    let t = this.cache.get(key);
    if (!t) {
      if (key.includes('EPOCH')) {
        if (RE_EPOCH_PATTERN.test(pattern)) t = new DateEpoch({ pattern, longFrm: key.includes('LEPOCH') });
        else if (key === 'EPOCH' || key === '{^LN-BEG}EPOCH' || key === '^EPOCH') t = new DateEpoch({ lineBeginOnly: key !== 'EPOCH' });
        else if (key === 'LEPOCH' || key === '{^LN-BEG}LEPOCH' || key === '^LEPOCH') t = new DateEpoch({ lineBeginOnly: key !== 'LEPOCH', longFrm: true });
      }
      if (!t) {
        if (key === 'TAI64N' || key === '{^LN-BEG}TAI64N' || key === '^TAI64N') t = new DateTai64n(key !== 'TAI64N' ? 'start' : false);
        else t = new DatePatternRegex(pattern, this.times);
      }
      this.cache.set(key, t);
    }
    return t;
  }

  /** _getAnchoredTemplate */
  anchored(t: DateTemplate, wrap: (s: string) => string = (s) => '{^LN-BEG}' + s): DateTemplate {
    const name = wrap(t.name);
    let t2 = this.cache.get(name);
    if (!t2) {
      const regex = wrap(t.pattern ?? t.regex);
      if (t.pattern !== undefined) t2 = this.cache.get(regex);
      if (!t2) t2 = t.pattern === undefined ? this.pattern(name) : this.pattern(regex);
    }
    return t2;
  }

  defaultTemplates(): DateTemplate[] {
    return (this.defaults ??= DEFAULT_TEMPLATES.map((p) => this.pattern(p)));
  }

  /** The default list: anchored variants (weight 100) first, then the plain ones. */
  allTemplates(): DateTemplate[] {
    if (!this.all) {
      const anchored: DateTemplate[] = [], plain: DateTemplate[] = [];
      for (const t of this.defaultTemplates()) {
        if (!t.name.startsWith('{^LN-BEG}') && !t.name.startsWith('^')) {
          const t2 = this.anchored(t);
          if (t2.name !== t.name) { t2.weight = 100.0; anchored.push(t2); }
        }
        plain.push(t);
      }
      this.all = [...anchored, ...plain];
    }
    return this.all;
  }
}

const caches = new Map<string, TemplateCache>();
function cacheFor(yearCent: string): TemplateCache {
  let c = caches.get(yearCent);
  if (!c) { c = new TemplateCache(timeRE(yearCent)); caches.set(yearCent, c); }
  return c;
}

interface Slot { template: DateTemplate; hits: number; lastUsed: number; distance: number }

function unboundPattern(p: string): string {
  return p.replace(RE_EXLINE_NO_BOUNDS, '').replace(RE_EXLINE_BOUND_BEG, '').replace(RE_EXSANC_BOUND_BEG, '').replace(RE_EXEANC_BOUND_BEG, '');
}

/** A date found: the match, its template and the expression that matched (its re() or probe()). */
export interface DateMatch { match: RegExpExecArray; template: DateTemplate; re: Regex }

/** Finds the date in a line with a list of templates (fail2ban's DateDetector). */
export class DateDetector {
  private readonly slots: Slot[] = [];
  private readonly known = new Set<string>();
  private readonly cache: TemplateCache;
  private lastPos: [number, string | null, string | null] = [1, null, null];
  private lastEndPos: [number, string | null, string | null] = [0x7fffffff, null, null];
  private lastTemplIdx = 0x7fffffff;
  private firstUnused = 0;
  defaultTz: number | null = null;
  /**
   * Lines on which the last template did not give the date and all were tried. Only then do hit
   * counts, last-use times and distances decide anything (which template wins, the order).
   */
  searches = 0;

  constructor(yearCent: string) { this.cache = cacheFor(yearCent); }

  get templates(): DateTemplate[] { return this.slots.map((s) => s.template); }

  private append(t: DateTemplate, ignoreDup = false): void {
    if (this.known.has(t.name)) {
      if (ignoreDup) return;
      throw new DatePatternError(`There is already a template with name ${t.name}`);
    }
    this.known.add(t.name);
    this.slots.push({ template: t, hits: 0, lastUsed: 0, distance: 0x7fffffff });
  }

  /** DateDetector.appendTemplate(str) */
  appendPattern(pattern: string): void {
    const key = pattern.includes('%') ? pattern : pattern.toUpperCase();
    if (key === '{^LN-BEG}' || key === '{DEFAULT}') {
      this.addDefaults(key === '{^LN-BEG}' ? (t) => (t.flags & LINE_BEGIN) !== 0 : undefined);
      return;
    }
    if (key.includes('{DATE}')) {
      const from = this.slots.length;
      this.addDefaults(undefined, pattern, false);
      // The filter's own text around each default: a broken one is reported at load.
      for (const s of this.slots.slice(from)) s.template.re();
      return;
    }
    const t = key === '{NONE}' ? this.cache.pattern('{UNB}^', key) : this.cache.pattern(pattern, key);
    t.re(); // compile now: a broken pattern is reported at load
    this.append(t);
  }

  addDefaults(filter?: (t: DateTemplate) => boolean, preMatch?: string, allDefaults = true): void {
    const ignoreDup = this.slots.length > 0;
    for (let t of allDefaults ? this.cache.allTemplates() : this.cache.defaultTemplates()) {
      if (filter && !filter(t)) continue;
      if (preMatch !== undefined) t = this.cache.anchored(t, (s) => preMatch.replace(RE_DATE_PREMATCH, () => unboundPattern(s)));
      this.append(t, ignoreDup);
    }
  }

  /** DateDetector.matchTime */
  matchTime(line: string, uni?: boolean): DateMatch | null {
    const slots = this.slots;
    if (!slots.length) this.addDefaults();
    let match: RegExpExecArray | null = null;
    /** A match kept while the others are tried, with its place and template, and whether probe() found it. */
    let found: [RegExpExecArray | null, number, number, number, boolean] = [null, 0x7fffffff, 0x7fffffff, -1, false];
    let ignoreBySearch = 0x7fffffff;
    let i = this.lastTemplIdx;
    let slot: Slot | undefined;
    let template: DateTemplate | undefined;
    /** The last template found the date again: its probe() runs (fewer groups), where all are tried its re(). */
    let probed = false;
    if (i < slots.length) {
      slot = slots[i];
      template = slot.template;
      const probe = template.probe();
      probed = true;
      if (template.anchored) {
        match = template.matchDate(line, undefined, undefined, uni, probe);
        ignoreBySearch = i;
      } else {
        const [distance] = this.lastPos;
        const [endpos] = this.lastEndPos;
        const lp = this.lastPos, le = this.lastEndPos;
        const at = (a: number, b: number) => line.slice(Math.max(a, 0), Math.max(b, 0));
        const isAlnum = (s: string | null) => s !== null && /^[\p{L}\p{N}]+$/u.test(s);
        if ((at(distance - 1, distance) === lp[1] || (at(distance, distance + 1) === lp[2] && !isAlnum(lp[2])))
          && (at(endpos, endpos + 1) === le[2] || (at(endpos - 1, endpos) === le[1] && !isAlnum(le[1])))) {
          match = template.matchDate(line, distance, endpos, uni, probe);
        } else {
          match = template.matchDate(line, undefined, undefined, uni, probe);
          ignoreBySearch = i;
        }
      }
      if (match) {
        const distance = match.index, endpos = match.index + match[0].length;
        if (!(slots.length === 1 || template.anchored || (distance === this.lastPos[0] && endpos === this.lastEndPos[0]))) {
          found = [match, distance, endpos, i, true];
          match = null;
        }
      }
    }
    if (!match) {
      this.searches++;
      probed = false;
      i = 0;
      for (const s of slots) {
        if (i === ignoreBySearch) { i++; continue; }
        template = s.template;
        match = template.matchDate(line, undefined, undefined, uni);
        if (match) {
          slot = s;
          const distance = match.index;
          if (i + 1 >= slots.length) break;
          if (template.anchored) break;
          if (distance === 0 && s.hits && !slots[i + 1].template.hits) break;
          if (distance > s.distance || distance > this.lastPos[0]) {
            if (distance < found[1]) found = [match, distance, match.index + match[0].length, i, false];
            match = null;
            i++;
            continue;
          }
          break;
        }
        i++;
      }
      if (!match && found[0]) {
        match = found[0];
        i = found[3];
        probed = found[4];
        slot = slots[i];
        template = slot.template;
      }
    }
    if (match && slot && template) {
      const distance = match.index, endpos = match.index + match[0].length;
      slot.hits++;
      slot.lastUsed = Date.now() / 1000;
      slot.distance = distance;
      if (this.firstUnused === i) this.firstUnused++;
      // Written in place: a line each, nothing else holds them.
      const lp = this.lastPos, le = this.lastEndPos;
      lp[0] = distance; lp[1] = distance > 0 ? line[distance - 1] : ''; lp[2] = line[distance] ?? '';
      le[0] = endpos; le[1] = line[endpos - 1] ?? ''; le[2] = line.slice(endpos, endpos + 1);
      if (i && i !== this.lastTemplIdx) i = this.reorder(i);
      this.lastTemplIdx = i;
      return { match, template, re: probed ? template.probe() : template.re() };
    }
    return null;
  }

  private weight(s: Slot): number { return s.hits * s.template.weight / Math.max(1, s.distance); }

  /** _reorderTemplate: move a template up when it is used more than the ones before it. */
  private reorder(num: number): number {
    const slots = this.slots;
    const slot = slots[num];
    const untime = slot.lastUsed - 300;
    const weight = this.weight(slot);
    let pos = this.firstUnused < num ? this.firstUnused : Math.floor(num / 2);
    const moveable = () => weight > this.weight(slots[pos]) || untime > slots[pos].lastUsed;
    if (!moveable()) {
      if (pos === num - 1) return num;
      pos = num - 1;
      if (!moveable()) return num;
    }
    slots.splice(num, 1);
    slots.splice(pos, 0, slot);
    while (this.firstUnused < slots.length && slots[this.firstUnused].hits) this.firstUnused++;
    return pos;
  }

  /** What the next lines' dates depend on, as text, but for what only a search reads (see `searches`). */
  carryState(): unknown {
    return [this.slots.map((s) => s.template.name), this.lastPos, this.lastEndPos, this.lastTemplIdx, this.firstUnused];
  }

  /** Epoch seconds of a date found by matchTime, or null. */
  getTime(dm: DateMatch, clock: Clock): number | null {
    return dm.template.getDate(dm, clock, this.defaultTz);
  }
}

/** Builds the detector for a filter's `datepattern` (one pattern per line), or fail2ban's defaults. */
export function dateDetector(datepattern: string | undefined, yearCent: string, logTimeZone?: string): DateDetector {
  const dd = new DateDetector(yearCent);
  if (logTimeZone) dd.defaultTz = zoneOffset(logTimeZone);
  if (datepattern !== undefined) {
    for (const p of datepattern.split(/\n+/).map((s) => s.trim()).filter(Boolean)) dd.appendPattern(p);
  }
  // fail2ban adds the defaults on the first line; now. They compile when first tried: most logs
  // need one or two of them.
  if (!dd.templates.length) dd.addDefaults();
  return dd;
}
