// The detection engine: a fail2ban filter applied line by line, as fail2ban's Filter.processLine /
// findFailure do it (date detection, multi-line buffer, prefregex and <F-CONTENT>, ignoreregex,
// <F-MLFID> merging with <F-NOFAIL>/<F-MLFFORGET>/<F-MLFGAINED>, <SKIPLINES>).
import { readFilterDefinition, parseFilterSpec, FilterConfigError, type FilterDefinition } from './config.js';
import { dateDetector, DatePatternError, type DateDetector, type DateMatch } from './dates.js';
import { localTime, type LocalTime } from './localtime.js';
import { FailRegex, LiteralDispatch, NON_ASCII, Regex, RegexError, StartDispatch, type Groups } from './regex.js';
import { yearCentRE, type Clock } from './strptime.js';
import { LineBudget, runGuarded } from './budget.js';
import { TranslationCache } from './translationcache.js';
import { enableBacktrackFallback } from '../regexp-fallback.js';
import { formatIPv4, formatIPv6, parseIPv6 } from '../attribution/ip.js';

export interface FilterOptions {
  /** "Now" in epoch seconds: year-less dates resolve against it, journal lines take it as their time. */
  now?: () => number;
  /**
   * Try every failregex on a line (fail2ban-regex and fail2ban's sample tests do); false stops at
   * the first match as fail2ban's server does. Default true.
   */
  checkAll?: boolean;
  /**
   * Skip lines that are empty or start with `#`, uncounted, as fail2ban-regex does when it reads
   * a file (Fail2banRegex.process); fail2ban's server reads them as any line. Default false.
   */
  skipComments?: boolean;
  /** Base directory for `name` specs without a path (default /etc/fail2ban). */
  basedir?: string;
  /** Time zone of log dates without one (fail2ban's `logtimezone`), e.g. `UTC+0200`. */
  logTimeZone?: string;
  /** Local time zone for dates without zone (default: TZ of the process). */
  timeZone?: string;
  /** Per-line time budget in milliseconds (default 1000): a line that takes longer is abandoned and counted. */
  lineBudgetMs?: number;
  /** Lines longer than this run under the budget guard even in process() (default 2000 characters). */
  guardLength?: number;
  /**
   * Run only the failregexes a line could match, judged by the strings they require and the
   * character they start with (default true). false runs every one on every line: the same
   * results, slower; the tests compare both.
   */
  dispatch?: boolean;
  /**
   * A directory where the filter's translated expressions are kept between runs
   * (translationcache.ts; e.g. defaultTranslationCacheDir()). Default: none.
   */
  translationCache?: string;
}

/** A failure found in the log: one per matching line, the way fail2ban reports it. */
export interface Failure {
  /** 1-based number of the line that completed the failure. */
  line: number;
  /** Epoch seconds (fractional for epoch stamps); NaN when the line had no usable date. */
  epoch: number;
  /** Failure id: the address (as `ip`) or the <F-ID> value. */
  fid: string;
  /** Host as captured (ip4, ip6 or dns group), or null for an id-only failure. */
  host: string | null;
  /** The ip4 or ip6 capture, an IPv6 address spelt as fail2ban's IPAddr does (ipv6Id): one spelling per address. */
  ip: string | null;
  /** Lines that make up the failure so far (fail2ban's `matches`). */
  attempts: number;
  /** Every named capture under its fail2ban name; `users` is a list when merged by <F-MLFID>. */
  captures: Record<string, string | string[]>;
  /** The matched lines, without dates. */
  lines: string[];
}

/**
 * Counts over the lines processed. `lines`, `ignored` and `matched` are fail2ban-regex's "Lines:"
 * counts (the rest are "missed"), `failregexHits` and `ignoreregexHits` its per-regex hits, so
 * both tools' summaries compare as they are.
 */
export interface FilterStats {
  lines: number;
  /**
   * fail2ban-regex's "matched": lines that gave a failure or a pending match (an <F-MLFID> match
   * still without a host), neither ignored nor <F-NOFAIL>; with a multi-line buffer also the
   * earlier lines a match took out of it.
   */
  matched: number;
  /** Lines an ignoreregex matched or that gave an <F-NOFAIL> match (fail2ban-regex's "ignored"). */
  ignored: number;
  /** Failures with an id (what `process` returns): neither pending nor <F-NOFAIL>. */
  failures: number;
  /** Lines without a date a template could read. */
  noDate: number;
  /** Lines whose regular expressions ran past the per-line budget. */
  overBudget: number;
  /** Longest time spent on one line, ms. */
  slowestLineMs: number;
  /**
   * Hits per failregex index: matches that gave a failure, a pending or a <F-NOFAIL> match (not
   * those an ignoreregex dropped); per ignoreregex index: its matches (with checkAll every one
   * that matched, as fail2ban-regex counts).
   */
  failregexHits: number[];
  ignoreregexHits: number[];
}

export interface Filter {
  readonly name: string;
  readonly logtype: string;
  readonly definition: FilterDefinition;
  /** Processes one log line (without its newline); returns the failures it completes. */
  process(line: string, lineNo: number): Failure[];
  /** Processes consecutive lines, all under the per-line budget; failures in line order. */
  processLines(lines: readonly string[], firstLineNo: number, hints?: BatchHints): Failure[];
  stats(): FilterStats;
  /**
   * What processing later lines depends on (multi-line buffer, last date, <F-MLFID> state, the
   * date detector's template order and positions), as text. Two filters with the same carry
   * state give the same results on the same lines while their date detector does not search all
   * templates (dateSearches() unchanged): only then do its hit counts matter, which this leaves out.
   */
  carryState(): string;
  dateSearches(): number;
  /** Stores translations made since load (a date template's probe) in the translation cache, if any. */
  saveTranslations(): void;
}

/** What the caller knows of a batch of lines, to spare work. */
export interface BatchHints {
  /** No line holds a non-ASCII character (the reader saw the bytes): no test per line. */
  ascii?: boolean;
  /** Failures are only counted (in stats()), not returned: no Failure objects are built. */
  countOnly?: boolean;
  /**
   * Every line still ends with its `\n`, which is not part of it: the searched text (a line's part
   * after its date, with a line end) is then a slice of it, not a copy.
   */
  newline?: boolean;
}

export class FilterError extends Error {
  constructor(message: string, readonly filter: string, readonly pattern?: string) { super(message); }
}

type TupleLine = [string, string, string];

/** fail2ban's failure dict during merging. */
type FailData = Record<string, unknown> & { matches?: TupleLine[]; users?: Set<string> };

function tupleBuf(lines: TupleLine[]): string {
  let s = '';
  for (const l of lines) s += l[0] + l[2] + '\n';
  return s;
}

/** The lines a match covers and the ones it does not (Regex.search with tupleLines). */
function splitMatched(re: Regex, m: RegExpExecArray, buf: string, org: TupleLine[]): { matched: TupleLine[]; unmatched: TupleLine[] } {
  if (org.length <= 1) return { matched: org, unmatched: [] };
  const start = buf.lastIndexOf('\n', m.index) + 1;
  let end = buf.indexOf('\n', Math.max(m.index + m[0].length - 1, 0));
  end = end < 0 ? buf.length : end + 1;
  const count = (to: number) => { let n = 0; for (let i = buf.indexOf('\n'); i >= 0 && i < to; i = buf.indexOf('\n', i + 1)) n++; return n; };
  const c1 = count(start), c2 = count(end);
  const matched = org.slice(c1, c2);
  const unmatched = org.slice(0, c1);
  if (re.skiplines) {
    let skipped = '';
    for (let n = 0; n < re.skiplines; n++) skipped += re.group(m, 'skiplines' + n) ?? '';
    let pos = 0;
    for (const sk of skipped.split(/\r\n|\n|\r/).filter((x, i, a) => i < a.length - 1 || x !== '')) {
      for (let k = pos; k < matched.length; k++) {
        if (matched[k][0] + matched[k][2] === sk) {
          unmatched.push(...matched.splice(k, 1));
          pos = k;
          break;
        }
      }
    }
  }
  unmatched.push(...org.slice(c2));
  return { matched, unmatched };
}

/**
 * How many earlier lines of a multi-line buffer (`org`: the buffer with the new line last) are
 * not in the buffer the line left (`after`), compared by value: fail2ban-regex counts them as
 * matched (it compares the buffer before the line, less the line a full buffer drops, with the
 * buffer after).
 */
function takenFromBuffer(org: TupleLine[], after: TupleLine[]): number {
  let n = 0;
  outer: for (let k = 0; k < org.length - 1; k++) {
    const t = org[k];
    if (after.includes(t)) continue; // the same line, kept (the usual case: no string compared)
    for (const u of after) if (u[2] === t[2] && u[1] === t[1] && u[0] === t[0]) continue outer; // the text first: it differs soonest
    n++;
  }
  return n;
}

/** Adds a failure's user to the users merged under its <F-MLFID>. */
function updateUsers(f: FailData, user: unknown): Set<string> | undefined {
  if (user) {
    if (!f.users) f.users = new Set();
    f.users.add(String(user));
  }
  return f.users;
}

/** A tiny version of fail2ban's Utils.Cache for <F-MLFID> state: bounded, oldest out first. */
class MlfidCache {
  private readonly map = new Map<string, FailData>();
  constructor(private readonly max = 100) {}
  get(k: string): FailData | undefined { return this.map.get(k); }
  set(k: string, v: FailData): void {
    this.map.delete(k);
    if (this.map.size >= this.max) this.map.delete(this.map.keys().next().value!);
    this.map.set(k, v);
  }
  unset(k: string): void { this.map.delete(k); }
  entries(): Array<[string, FailData]> { return [...this.map]; }
}

const v6 = new Uint32Array(4);

/**
 * A captured IPv6 address as fail2ban's IPAddr writes it (inet_ntop): lower case, zeros
 * compressed, an IPv4-mapped address as IPv4, an IPv4-compatible one with its IPv4 tail; the
 * text as captured when it is no address. IPv4 needs nothing: an address inet_pton reads is
 * already written so (it refuses leading zeros).
 */
export function ipv6Id(raw: string): string {
  if (!parseIPv6(raw, v6)) return raw;
  if (v6[0] === 0 && v6[1] === 0 && v6[2] === 0xffff) return formatIPv4(v6[3]);
  if (v6[0] === 0 && v6[1] === 0 && v6[2] === 0 && v6[3] >>> 16 !== 0) return `::${formatIPv4(v6[3])}`;
  return formatIPv6(v6);
}

/** No failure (shared, never written to). */
const NONE: Failure[] = [];

/** Lines per guarded call: a vm call with a timeout costs 0.2-1 ms (a watchdog thread), a line a few microseconds. */
const CHUNK = 8192;

const INTERNAL = new Set(['matches', 'nofail-matches', 'mlfpending', 'mlfforget', 'mlfgained', 'content']);

class FilterEngine implements Filter {
  readonly name: string;
  readonly logtype: string;
  private readonly pref: Regex | null;
  private readonly fails: FailRegex[];
  /** Per failregex: prefregex groups updated with the failregex's (Python's dict.update), one object shape. */
  private readonly combine: Array<(pre: Groups, fail: Groups) => FailData>;
  private readonly ignores: Regex[];
  private readonly maxlines: number;
  private readonly dd: DateDetector;
  private readonly clock: Clock;
  private readonly checkAll: boolean;
  private readonly skipComments: boolean;
  private readonly journal: boolean;
  private readonly local: LocalTime;
  private buffer: TupleLine[] = [];
  private lastTimeText = '';
  private lastDate: number | null = null;
  /** The date of the last skipped line, read when needed. */
  private lazyDate: DateMatch | null = null;
  /**
   * Single-line filters: which failregexes (and early ignoreregexes) a line could match, from
   * the strings they require; a line with none is done after its date.
   */
  private readonly lineDispatch: LiteralDispatch | null;
  private readonly lineIgnoreDispatch: LiteralDispatch | null;
  /** The failregexes worth running on a buffer: by its first character, or by the strings they require. */
  private readonly startDispatch: StartDispatch | null;
  private readonly failDispatch: LiteralDispatch | null;
  private readonly allFails: number[];
  /** <F-CONTENT> ends the prefregex's match. */
  private readonly contentEndsPref: boolean;
  /** ignoreregex runs before the failregexes (fail2ban: when there are fewer of them). */
  private readonly ignoreFirst: boolean;
  /** Failures are counted, not built (processLines with countOnly). */
  private countOnly = false;
  private readonly mlfid = new MlfidCache();
  private readonly budget: LineBudget;
  private readonly guardLength: number;
  private readonly st: FilterStats;

  constructor(readonly definition: FilterDefinition, opts: FilterOptions, private readonly cache: TranslationCache | null = null) {
    this.name = definition.name;
    this.logtype = definition.logtype;
    this.journal = definition.logtype === 'journal';
    const nowFn = opts.now ?? (() => Date.now() / 1000);
    this.local = localTime(opts.timeZone);
    this.clock = { now: nowFn, local: this.local };
    this.checkAll = opts.checkAll ?? true;
    this.skipComments = opts.skipComments ?? false;
    this.maxlines = definition.maxlines ?? 1;
    const useDns = definition.usedns ?? 'warn';
    enableBacktrackFallback();
    const multiline = this.maxlines > 1;
    const compile = <T>(pattern: string, make: () => T): T => {
      try { return make(); } catch (e) {
        if (e instanceof RegexError) throw new FilterError(`filter ${this.name}: ${e.message}`, this.name, pattern);
        throw e;
      }
    };
    this.pref = definition.prefregex ? compile(definition.prefregex, () => new Regex(definition.prefregex!, { useDns })) : null;
    this.fails = definition.failregex.map((r) => compile(r, () => new FailRegex(r, { multiline, useDns, prefRegex: this.pref })));
    this.ignores = definition.ignoreregex.map((r) => compile(r, () => new Regex(r, { useDns })));
    this.contentEndsPref = this.pref?.endingGroups.includes('content') ?? false;
    this.ignoreFirst = this.ignores.length > 0 && this.ignores.length < this.fails.length - 2;
    this.allFails = this.fails.map((_, i) => i);
    const dispatch = opts.dispatch ?? true;
    const startDispatch = new StartDispatch(this.fails);
    this.startDispatch = startDispatch.useless || !dispatch ? null : startDispatch;
    const failDispatch = new LiteralDispatch(this.fails);
    this.failDispatch = failDispatch.useless || this.startDispatch || !dispatch ? null : failDispatch;
    // A line holds no line break: strings with one are not looked for in it. After a prefregex
    // whose content the first character dispatches, the scan costs more than it spares.
    const lineDispatch = this.maxlines === 1 && dispatch && !(this.pref && this.startDispatch) ? new LiteralDispatch(this.fails, false) : null;
    this.lineDispatch = lineDispatch && !lineDispatch.useless ? lineDispatch : null;
    this.lineIgnoreDispatch = this.lineDispatch && this.ignoreFirst ? new LiteralDispatch(this.ignores, false) : null;
    this.combine = this.fails.map((fr) => {
      const own = new Set(fr.keys);
      const keys = [...new Set([...(this.pref?.keys ?? []), ...own])];
      // Keys are Python identifiers (the parser checks group names).
      const body = keys.map((k) => `${JSON.stringify(k)}: ${own.has(k) ? 'f' : 'p'}[${JSON.stringify(k)}]`).join(', ');
      return new Function('p', 'f', `return {${body}};`) as (pre: Groups, fail: Groups) => FailData;
    });
    // Years %ExY accepts: around "now" and back to 1970, as fail2ban-regex sets it up.
    const nowYear = new Date(nowFn() * 1000).getUTCFullYear();
    const realYear = new Date().getUTCFullYear();
    const alt = opts.now ? Math.min(nowYear, 1970) : 1970;
    try {
      this.dd = dateDetector(definition.datepattern, yearCentRE(realYear, alt), opts.logTimeZone);
    } catch (e) {
      if (e instanceof DatePatternError || e instanceof RegexError) throw new FilterError(`filter ${this.name}: ${e.message}`, this.name, definition.datepattern);
      throw e;
    }
    this.budget = new LineBudget(opts.lineBudgetMs ?? 1000);
    this.guardLength = opts.guardLength ?? 2000;
    this.st = { lines: 0, matched: 0, ignored: 0, failures: 0, noDate: 0, overBudget: 0, slowestLineMs: 0,
      failregexHits: this.fails.map(() => 0), ignoreregexHits: this.ignores.map(() => 0) };
    // Compiled at load, as Python compiles them: a broken one fails here, not on some line.
    this.warm(false);
  }

  stats(): FilterStats {
    return { ...this.st, failregexHits: [...this.st.failregexHits], ignoreregexHits: [...this.st.ignoreregexHits], overBudget: this.budget.over, slowestLineMs: this.budget.slowest };
  }

  carryState(): string {
    const lazy = this.lazyDate ? [this.lazyDate.template.name, this.lazyDate.match.index, [...this.lazyDate.match]] : null;
    const state = [this.buffer, this.lastTimeText, this.lastDate, lazy, this.mlfid.entries(), this.dd.carryState()];
    return JSON.stringify(state, (_k, v: unknown) => (v instanceof Set ? { set: [...v] } : v));
  }

  dateSearches(): number { return this.dd.searches; }

  saveTranslations(): void { this.cache?.save(); }

  process(line: string, lineNo: number): Failure[] {
    if (this.skipComments && (line.length === 0 || line.charCodeAt(0) === 35)) return [];
    const uni = NON_ASCII.test(line);
    this.warm(uni);
    this.countOnly = false;
    let out = NONE;
    if (line.length <= this.guardLength) out = this.timed(line, lineNo, uni);
    else if (!runGuarded(() => { out = this.timed(line, lineNo, uni); }, this.budget.ms)) this.abandon();
    return out === NONE ? [] : out;
  }

  processLines(lines: readonly string[], firstLineNo: number, hints: BatchHints = {}): Failure[] {
    const out: Failure[] = [];
    this.countOnly = hints.countOnly === true;
    let i = 0;
    while (i < lines.length) {
      const end = Math.min(lines.length, i + CHUNK);
      // Which lines need the Unicode variants: known before the guarded run, to compile them first.
      if (hints.ascii) this.uniFlags.fill(0);
      else {
        for (let k = i; k < end; k++) {
          const uni = NON_ASCII.test(lines[k]);
          this.uniFlags[k - i] = uni ? 1 : 0;
          if (uni && !this.warmedUnicode) this.warm(true);
        }
      }
      this.warm(false);
      const base = i;
      // One clock reading per line: a line ends where the next one starts.
      let lineStart = performance.now();
      // A skipped line is empty: "" or, with the newline hint, "\n".
      const skip = this.skipComments, empty = hints.newline ? 1 : 0;
      const skipped = (raw: string) => skip && (raw.length === empty || raw.charCodeAt(0) === 35);
      // Lines before `settled` are done. The guard may stop the loop anywhere, also between a
      // line's work and i moving on, so lines are counted up to `settled`, after the guarded run.
      const from = i;
      let settled = i, started = -1, lastFound: Failure[] = [];
      const done = runGuarded(() => {
        for (; i < end; i++) {
          const raw = lines[i];
          if (skipped(raw)) { settled = i + 1; continue; }
          started = i;
          const found = hints.newline ? this.processLine(raw.slice(0, -1), firstLineNo + i, this.uniFlags[i - base] === 1, raw)
            : this.processLine(raw, firstLineNo + i, this.uniFlags[i - base] === 1);
          // No interrupt point between a return and these assignments: the line is done and its
          // failures known together. Copying them may still be stopped (finished below).
          settled = i + 1;
          lastFound = found;
          for (let k = 0; k < found.length; k++) out.push(found[k]);
          const t = performance.now();
          this.budget.record(t - lineStart);
          lineStart = t;
        }
      }, this.budget.ms);
      if (!skip) this.st.lines += settled - from;
      else for (let k = from; k < settled; k++) if (!skipped(lines[k])) this.st.lines++;
      if (done) continue;
      i = settled;
      // The last line done may have been stopped while its failures were copied (their `line` is
      // the line that completed them).
      let copied = 0;
      while (copied < out.length && copied < lastFound.length && out[out.length - 1 - copied].line === firstLineNo + i - 1) copied++;
      for (let k = copied; k < lastFound.length; k++) out.push(lastFound[k]);
      // Stopped between two lines, or the chunk as a whole was slow (the thread waited for a core,
      // a collection ran), not this line: it runs again. The guard stops a line almost always
      // inside its expressions, before it has changed any state.
      if (started !== i || performance.now() - lineStart < this.budget.ms / 2) continue;
      this.abandon();
      this.st.lines++; // abandoned, but a line
      i++;
    }
    return out;
  }

  /**
   * V8 compiles an expression on its first use, for Unicode classes in tens of milliseconds: that
   * is done outside the per-line budget, for the ASCII variants at load, for the Unicode ones on
   * the first line that needs them. Default date templates are made when the detector first tries
   * them (inside the budget: a millisecond or so each, most never are).
   */
  private warm(uni: boolean): void {
    if (this.warmedAscii && (!uni || this.warmedUnicode)) return;
    const all: Regex[] = [...(this.pref ? [this.pref] : []), ...this.fails, ...this.ignores, ...this.dd.templates.flatMap((t) => t.made())];
    for (const re of all) re.warm(uni);
    this.warmedAscii = true;
    if (uni) this.warmedUnicode = true;
  }
  private warmedAscii = false;
  private warmedUnicode = false;
  private readonly uniFlags = new Uint8Array(CHUNK);

  /** A line ran past the budget: counted, and the multi-line state it may have left half-done is dropped. */
  private abandon(): void {
    this.budget.over++;
    this.buffer = [];
  }

  private timed(line: string, lineNo: number, uni: boolean): Failure[] {
    this.st.lines++;
    const t = performance.now();
    try {
      return this.processLine(line, lineNo, uni);
    } finally {
      this.budget.record(performance.now() - t);
    }
  }

  /** `withNewline`: the line followed by `\n`, when the caller has it. */
  private processLine(line: string, lineNo: number, uni: boolean, withNewline: string | null = null): Failure[] {
    const now = this.clock.now();
    /** The failregexes this line could match, when known from the line itself. */
    let cands: number[] | null = null;
    let tuple: TupleLine;
    let date: number | null = null;
    if (this.journal) {
      tuple = ['', this.local.format(now), line];
      date = now;
      this.lastTimeText = tuple[1];
      this.lastDate = date;
      this.lazyDate = null;
    } else {
      const tm = this.dd.matchTime(line, uni);
      const re = tm?.re;
      const g1 = tm ? re!.groupByIndex(tm.match, 1) ?? '' : '';
      const s = tm ? re!.group1Start(tm.match) : 0;
      // No failregex can match a line without the strings it requires; when what is searched is
      // a part of the line, the line is done, and its date is read only if a later line needs it.
      if (this.lineDispatch && (s <= 0 || !g1)) {
        cands = this.lineDispatch.candidates(line);
        if (!cands.length && !this.lineIgnoreDispatch?.candidates(line).length) {
          if (g1) this.lazyDate = tm;
          else if (!tm) this.st.noDate++;
          return NONE;
        }
      }
      if (tm) {
        tuple = [line.slice(0, s), g1, line.slice(s + g1.length)];
        if (g1) {
          const d = this.dd.getTime(tm, this.clock);
          if (d !== null) { date = d; this.lastTimeText = g1; this.lastDate = d; this.lazyDate = null; }
        } else if (this.recentDate(now)) {
          tuple = ['', this.lastTimeText, line];
          date = this.lastDate;
        } else date = now;
      } else tuple = ['', '', line];
      if (date === null) {
        this.st.noDate++;
        if (this.recentDate(now)) {
          tuple = ['', this.lastTimeText, line];
          date = this.lastDate;
        }
      }
    }
    return this.findFailure(tuple, date, lineNo, uni, cands, withNewline);
  }

  /** fail2ban's "last date within a minute", reading a date left unread by a skipped line first. */
  private recentDate(now: number): boolean {
    if (this.lazyDate) {
      const tm = this.lazyDate;
      this.lazyDate = null;
      const d = this.dd.getTime(tm, this.clock);
      if (d !== null) { this.lastDate = d; this.lastTimeText = tm.re.groupByIndex(tm.match, 1)!; }
    }
    return this.lastDate !== null && this.lastDate > now - 60;
  }

  private ignoreLine(buf: string, org: TupleLine[], fail?: { matched: TupleLine[]; unmatched: TupleLine[] }): number | null {
    if (fail && this.maxlines > 1) { org = fail.matched; buf = tupleBuf(org); }
    let found: number | null = null;
    for (let i = 0; i < this.ignores.length; i++) {
      if (this.ignores[i].search(buf)) {
        this.st.ignoreregexHits[i]++;
        if ((!this.checkAll || this.maxlines > 1) && fail) this.buffer = fail.unmatched;
        found = i;
        // fail2ban tries every ignoreregex when it checks all (each one's hits are counted).
        if (!this.checkAll) break;
      }
    }
    if (found !== null) this.lineIgnored = true;
    return found;
  }

  /**
   * One line's search, and how fail2ban-regex counts the line: ignored (an ignoreregex or a
   * <F-NOFAIL> match), matched (a failure or a pending match), or missed; a multi-line buffer's
   * earlier lines that a match took out of it count as matched too.
   */
  private findFailure(tuple: TupleLine, date: number | null, lineNo: number, uni: boolean, lineCands: number[] | null, withNewline: string | null): Failure[] {
    let org: TupleLine[];
    if (this.maxlines > 1) {
      this.buffer.push(tuple);
      if (this.buffer.length > this.maxlines) this.buffer = this.buffer.slice(-this.maxlines);
      org = this.buffer;
    } else {
      org = this.buffer = [tuple];
    }
    this.lineIgnored = false;
    this.lineReported = false;
    const out = this.searchLine(org, date, lineNo, uni, lineCands, withNewline);
    if (this.lineIgnored) this.st.ignored++;
    else if (this.lineReported) this.st.matched++;
    // The buffer is another array only when a match (or a prefregex's content) replaced it.
    if (this.maxlines > 1 && this.buffer !== org) this.st.matched += takenFromBuffer(org, this.buffer);
    return out;
  }
  /** The line being searched hit an ignoreregex or gave a <F-NOFAIL> match. */
  private lineIgnored = false;
  /** The line being searched gave a failure or a pending match. */
  private lineReported = false;

  /** `lineCands`: failregexes the line could match (single-line filters): what is searched is part of that line. */
  private searchLine(org: TupleLine[], date: number | null, lineNo: number, uni: boolean, lineCands: number[] | null, withNewline: string | null): Failure[] {
    let out = NONE;
    let found = 0;
    const tuple = org[org.length - 1];
    // tuple[2] ends the line: without a text before the date, the buffer is the end of withNewline.
    let buf: string | null = this.maxlines > 1 ? tupleBuf(org)
      : withNewline !== null && tuple[0] === '' ? withNewline.slice(withNewline.length - 1 - tuple[2].length) : tuple[0] + tuple[2] + '\n';
    // Earlier lines in the buffer decide too: the ASCII variants are only right on ASCII text.
    if (this.maxlines > 1 && !uni) uni = NON_ASCII.test(buf);
    if (this.ignoreFirst && this.ignoreLine(buf, org) !== null) return out;
    /** The prefregex's groups but <F-CONTENT>, read when a failregex matches. */
    let preGroups: Groups | null = null;
    let preMatch: RegExpExecArray | null = null;
    if (this.pref) {
      preMatch = this.pref.search(buf, 0, undefined, uni);
      if (!preMatch) return out;
      const repl = this.pref.group(preMatch, 'content');
      if (repl) {
        this.buffer = [['', '', repl]];
        // tupleBuf(this.buffer): for a single line whose content ends the match, and the match the
        // text before its line end, the end of buf (no copy).
        const end = preMatch.index + preMatch[0].length;
        buf = this.maxlines > 1 ? null
          : this.contentEndsPref && end === buf.length - 1 && buf.charCodeAt(end) === 10 ? buf.slice(end - repl.length) : repl + '\n';
      }
    }
    // Only the failregexes whose required strings are in the buffer run; they run in their order.
    let cands = lineCands;
    let next = 0;
    for (let last = -1; ; ) {
      if (buf === null) {
        buf = tupleBuf(this.buffer);
        if (this.maxlines > 1) cands = null; // lines left out of a buffer join differently
      }
      if (cands === null) {
        cands = this.startDispatch ? this.startDispatch.candidates(buf) : this.failDispatch ? this.failDispatch.candidates(buf) : this.allFails;
        next = 0;
        while (next < cands.length && cands[next] <= last) next++;
      }
      if (next >= cands.length) break;
      const i = cands[next++];
      last = i;
      const fr = this.fails[i];
      const m = fr.search(buf, 0, undefined, uni);
      if (!m) continue;
      // The lines the match covers and the others, where they are used (no closure: it would cost
      // a context per line).
      const lines = this.ignores.length || !this.checkAll || this.maxlines > 1 || !this.countOnly ? splitMatched(fr, m, buf, org) : null;
      let fail: FailData = fr.groups(m);
      if (this.ignores.length && this.ignoreLine(buf, org, lines!) !== null) {
        buf = null;
        if (!this.checkAll) break;
        continue;
      }
      if (!this.checkAll || this.maxlines > 1) { this.buffer = lines!.unmatched; buf = null; }
      if (preMatch) {
        if (!preGroups) { preGroups = this.pref!.groups(preMatch); preGroups.content = undefined; }
        fail = this.combine[i](preGroups, fail as Groups);
      }
      const mlfid = fail.mlfid as string | undefined;
      // Counted failures carry no lines: `matches` is left out.
      if (mlfid !== undefined && mlfid !== null) {
        fail = this.mergeFailure(mlfid, fail, this.countOnly ? null : lines!.matched);
        if (fail.nofail && !this.checkAll) return out;
      } else if (!this.countOnly) {
        fail.matches = [...(fail.matches ?? []), ...lines!.matched];
      }
      let fid = fail.fid as string | undefined;
      let ip = (fail.ip4 ?? fail.ip6 ?? fail.dns) as string | undefined;
      if (ip === undefined && fid === undefined && (mlfid === undefined || mlfid === null)) {
        continue; // fail2ban: "No group found" (RegexException, logged and skipped)
      }
      if (ip === undefined) ip = fid;
      // fail2ban reports this match (fail2ban-regex counts it), a pending or <F-NOFAIL> one too.
      this.st.failregexHits[i]++;
      if (fail.nofail) this.lineIgnored = true;
      else this.lineReported = true;
      if (ip === undefined) {
        fail.mlfpending = 1;
        continue; // pending: waits for an identifier on a later line
      }
      if (fid === undefined || fid === ip) fid = ip;
      else fail.ip = ip;
      if (fail.nofail) continue;
      found++;
      if (!this.countOnly) {
        if (out === NONE) out = [];
        out.push(this.toFailure(fail, fid, date, lineNo));
      }
      if (!this.checkAll) break;
    }
    this.st.failures += found;
    return out;
  }

  /** `matched`: the lines of this match, or null when failures are only counted (no `matches` kept). */
  private mergeFailure(mlfid: string, fail: FailData, matched: TupleLine[] | null): FailData {
    let cached = this.mlfid.get(mlfid);
    let users: Set<string> | undefined;
    let nf = 0;
    if (fail.mlfgained) {
      nf |= 8 | 1;
      if (!fail.nofail) fail.nofail = fail.mlfgained;
    } else if (fail.nofail) nf |= 1;
    if (fail.mlfforget) nf |= 2;
    fail.mlfforget = undefined;
    if (cached) {
      users = updateUsers(cached, fail.user);
      if (cached.nofail) nf |= 4;
      cached.nofail = undefined;
      if (cached.mlfgained) nf |= 4;
      cached.mlfgained = undefined;
      if (nf & 8) cached.mlfpending = undefined;
      if ((nf & 4) === 0 && !cached.mlfpending) cached.matches = undefined;
      for (const k in fail) { const v = fail[k]; if (v !== undefined && v !== null) cached[k] = v; }
      fail = cached;
      if (nf & 2) this.mlfid.unset(mlfid);
    } else if (!(nf & 2)) {
      users = updateUsers(fail, fail.user);
      cached = fail;
      this.mlfid.set(mlfid, cached);
    }
    const pending = fail.mlfpending;
    fail.mlfpending = undefined;
    if (pending || (users && users.size > 1)) {
      fail.nofail = undefined;
      fail.mlfgained = undefined;
      nf &= ~(8 | 1);
    }
    if (matched === null) return fail;
    if ((nf & 1) === 0) {
      const m = ((fail['nofail-matches'] as TupleLine[] | undefined) ?? []).concat(fail.matches ?? []);
      fail['nofail-matches'] = undefined;
      if ((nf & 8) === 0) for (const t of matched) m.push(t);
      fail.matches = m;
    } else if ((nf & 3) === 1) {
      fail['nofail-matches'] = [...((fail['nofail-matches'] as TupleLine[] | undefined) ?? []), ...matched];
    }
    return fail;
  }

  private toFailure(fail: FailData, fid: string, date: number | null, lineNo: number): Failure {
    const captures: Record<string, string | string[]> = {};
    for (const k in fail) {
      const v = fail[k];
      if (v === undefined || v === null || INTERNAL.has(k) || k.startsWith('skiplines')) continue;
      if (k === 'users') captures.users = [...(v as Set<string>)];
      else if (Array.isArray(v)) captures[k] = v.map(String);
      else captures[k] = String(v);
    }
    const host = (fail.ip4 ?? fail.ip6 ?? fail.dns ?? null) as string | null;
    const ip = fail.ip4 !== undefined ? fail.ip4 as string : fail.ip6 !== undefined ? ipv6Id(fail.ip6 as string) : null;
    const matches = fail.matches ?? [];
    return {
      line: lineNo,
      epoch: date ?? NaN,
      // fail2ban's IPAddr(ip) when the id is the address: one spelling per address.
      fid: fid === host && ip !== null ? ip : fid,
      host,
      ip,
      attempts: matches.length,
      captures,
      lines: matches.map((t) => t[0] + t[2]),
    };
  }
}

/**
 * Loads a filter: `path/to/name.conf[key=value, ...]` or a name in `basedir/filter.d`.
 * Throws FilterError (naming the filter and the pattern) when it cannot be used.
 */
export function loadFilter(spec: string, opts: FilterOptions = {}): Filter {
  let def: FilterDefinition;
  try {
    const { path, options } = parseFilterSpec(spec);
    def = readFilterDefinition(path, options, opts.basedir);
  } catch (e) {
    if (e instanceof FilterConfigError) throw new FilterError(`filter ${spec}: ${e.message}`, spec);
    throw e;
  }
  return filterFromDefinition(def, opts);
}

/** Builds a filter from an already read definition (jails that override failregex etc.). */
export function filterFromDefinition(def: FilterDefinition, opts: FilterOptions = {}): Filter {
  const cache = opts.translationCache ? new TranslationCache(opts.translationCache, def) : null;
  cache?.open();
  const filter = new FilterEngine(def, opts, cache);
  // Every template and expression is translated by now (warmed at load).
  cache?.save();
  return filter;
}
