// fail2ban's Regex / FailRegex: `<HOST>`-style tags expanded, the Python pattern translated once,
// and a match that reports groups under their fail2ban names.
import { PyRegexError, translate, type RepeatedCapture } from './pyregex.js';

const IP_4_RE = String.raw`(?:\d{1,3}\.){3}\d{1,3}`;
const IP_6_RE = String.raw`(?:[0-9a-fA-F]{1,4}::?|::){1,7}(?:[0-9a-fA-F]{1,4}|(?<=:):)`;
const R_IPV4 = String.raw`(?:::f{4,6}:)?(?P<ip4>${IP_4_RE})`;
const R_IPV6 = `(?P<ip6>${IP_6_RE})`;
const R_DNS = String.raw`(?P<dns>[\w\-.^_]*\w)`;
const R_ADDR = String.raw`\[?(?:${R_IPV4}|${R_IPV6})\]?`;
const R_HOST = `(?:${R_ADDR}|${R_DNS})`;
const R_CIDR = String.raw`(?P<cidr>\d+)`;
const R_SUBNET = String.raw`\[?(?:${R_IPV4}|${R_IPV6})(?:/${R_CIDR})?\]?`;

const RH4TAG: Record<string, string> = {
  'IP4': R_IPV4, 'F-IP4/': R_IPV4,
  'IP6': R_IPV6, 'F-IP6/': R_IPV6,
  'ADDR': R_ADDR, 'F-ADDR/': R_ADDR,
  'CIDR': R_CIDR, 'F-CIDR/': R_CIDR,
  'SUBNET': R_SUBNET, 'F-SUBNET/': R_SUBNET,
  'DNS': R_DNS, 'F-DNS/': R_DNS,
  'F-ID/': String.raw`(?P<fid>\S+)`,
  'F-PORT/': String.raw`(?P<fport>\w+)`,
};
const R_MAP: Record<string, string> = { id: 'fid', port: 'fport' };

/** fail2ban's group name for a tag name: F-ID -> fid, F-USER -> user. */
export function tagToGroup(tag: string): string {
  const t = tag.toLowerCase();
  return R_MAP[t] ?? t;
}

/** Regex._resolveHostTag: replaces fail2ban's tags by regular expressions. */
export function resolveHostTag(regex: string, useDns = 'yes'): string {
  const open = new Set<string>();
  let nl = 0;
  return regex.replace(/<\/?[\w-]+\/?>/g, (tag) => {
    const tn = tag.slice(1, -1);
    if (tn === 'HOST') return useDns !== 'no' ? R_HOST : R_ADDR;
    if (tn === 'SKIPLINES') return String.raw`\n(?P<skiplines${nl++}>(?:(?:.*\n)*?))`;
    if (RH4TAG[tn] !== undefined) return RH4TAG[tn];
    const m = /^(\/?)F-([A-Z0-9_-]+)$/.exec(tn);
    if (!m) return tag;
    if (m[1]) return open.has(m[2]) ? ')' : tag;
    open.add(m[2]);
    return `(?P<${tagToGroup(m[2])}>`;
  });
}

/** `((?i)x)` and `(?:(?i)x)` become `(?i:x)`, as fail2ban rewrites them for newer Pythons. */
function globalToLocalFlags(regex: string): string {
  return regex.replace(/(?<!\\)\((?:\?:)?(\(\?[a-z]+)\)/g, '$1:');
}

export class RegexError extends Error {}

/** The first of a group's copies that took part in the match. */
function pick(m: RegExpExecArray, idx: number[]): string | undefined {
  for (let k = 0; k < idx.length; k++) if (m[idx[k]] !== undefined) return m[idx[k]];
  return undefined;
}

export const NON_ASCII = /[^\x00-\x7f]/;

export type Groups = Record<string, string | undefined>;

/** One compiled pattern: the Python source, both V8 variants and group names. */
export class Regex {
  readonly source: string;
  readonly names: string[];
  private readonly indexes: number[][];
  private readonly numbered: number[][];
  /** groupdict() compiled for this pattern's names: objects of one shape, built without loops. */
  private readonly dict: (m: RegExpExecArray) => Groups;
  /** All strings every match contains (at most four, the longest). */
  readonly literals: string[];
  /** Every match starts the subject with it. */
  private readonly prefix: string;
  /** Anchored at the start: by ASCII code, 1 where a subject starting with it may match (null: not judged). */
  readonly firstChars: Uint8Array | null;
  private readonly prefixGroup: number;
  private readonly ascii: RegExp;
  /** Made on first use when V8 has accepted it before (Translated.compiled): most logs are ASCII. */
  private unicodeRe: RegExp | null = null;
  private readonly unicodeSource: { source: string; flags: string };
  private readonly repeated: RepeatedCapture[];
  private readonly repeatedRe = new Map<string, RegExp>();
  private readonly repeatedFlags: string;
  /** Alt/tuple names as fail2ban merges them: alt_user_1 -> user. */
  private readonly altValues: Array<[string, string]> = [];
  private readonly tupleValues: Array<[string, string]> = [];
  readonly skiplines: number;
  readonly linear: boolean;
  /** Named groups that end where the match ends. */
  readonly endingGroups: readonly string[];

  /**
   * `plain` skips fail2ban's tag expansion and flag rewriting (date templates). `group1Start`
   * makes group1Start() available. `keep`: only these numbered groups are reported (the others do
   * not capture: a smaller match to build; the match is the same).
   */
  constructor(regex: string, opts: { multiline?: boolean; useDns?: string; plain?: boolean; group1Start?: boolean; keep?: readonly number[] } = {}) {
    let r = regex;
    if (!opts.plain) {
      r = resolveHostTag(regex, opts.useDns ?? 'yes');
      if (r.trim() === '') throw new RegexError('Cannot add empty regex');
      r = globalToLocalFlags(r);
    }
    this.source = r;
    let t;
    try {
      t = translate(r, { multiline: opts.multiline, group1Start: opts.group1Start, keep: opts.keep });
    } catch (e) {
      if (e instanceof PyRegexError) throw new RegexError(`Unable to compile regular expression '${regex}': ${e.message}`);
      throw e;
    }
    try {
      // Match positions (the `d` flag) are needed only to replay repeated groups.
      const d = t.repeatedCaptures.length || (opts.group1Start && t.prefixGroup < 0) ? 'd' : '';
      this.ascii = new RegExp(t.ascii.source, 'g' + d + t.ascii.flags);
      this.unicodeSource = { source: t.unicode.source, flags: 'g' + d + t.unicode.flags };
      // The Unicode variant is made now the first time (an untranslatable pattern fails at load),
      // else on first use: its Unicode classes cost V8 up to ~10 ms each to set up.
      if (!t.compiled) this.unicode();
    } catch (e) {
      throw new RegexError(`Cannot express regular expression '${regex}' in JavaScript: ${(e as Error).message}`);
    }
    t.compiled = true;
    this.repeated = t.repeatedCaptures;
    this.repeatedFlags = t.ascii.flags;
    this.names = [...t.groups.keys()];
    this.indexes = this.names.map((n) => t.groups.get(n)!);
    this.numbered = t.numbered;
    // Names are Python identifiers (checked by the parser), indexes are integers.
    const value = (idx: number[]) => idx.length ? idx.map((i) => `m[${i}]`).join(' ?? ') : 'undefined';
    this.dict = new Function('m', `return {${this.names.map((n, i) => `${JSON.stringify(n)}: ${value(this.indexes[i])}`).join(', ')}};`) as (m: RegExpExecArray) => Groups;
    this.literals = t.literals.slice(0, 4);
    this.prefix = t.anchoredPrefix;
    if (t.firstChars) {
      this.firstChars = new Uint8Array(128);
      for (const c of t.firstChars) this.firstChars[c] = 1;
    } else this.firstChars = null;
    this.prefixGroup = t.prefixGroup;
    this.endingGroups = t.endingGroups;
    this.linear = !t.needsBacktracking;
    let skip = 0;
    while (t.groups.has('skiplines' + skip)) skip++;
    this.skiplines = skip;
    for (const k of [...this.names].sort()) {
      const m = /^(alt_|tuple_)(.*?)(?:_\d+)?$/.exec(k);
      if (!m || k.length <= 4) continue;
      (m[1] === 'alt_' ? this.altValues : this.tupleValues).push([k, tagToGroup(m[2])]);
    }
  }

  has(name: string): boolean { return this.names.includes(name); }

  /** Every key groups() may return: the group names and the alt_/tuple_ merge targets. */
  get keys(): string[] {
    return [...new Set([...this.names, ...this.altValues.map(([, n]) => n), ...this.tupleValues.map(([, n]) => n)])];
  }

  /** Runs the expression once so that V8 compiles it now (one-byte and two-byte subjects for Unicode). */
  warm(unicode: boolean): void {
    for (const subject of unicode ? ['\u00e9\n', '\u044f\n'] : ['x\n']) {
      const re = unicode ? this.unicode() : this.ascii;
      re.lastIndex = 0;
      re.exec(subject);
    }
  }

  /** Python's re.search(subject, pos, endpos). */
  search(subject: string, pos = 0, endpos?: number, uni = NON_ASCII.test(subject)): RegExpExecArray | null {
    if (endpos !== undefined && endpos < subject.length) subject = subject.slice(0, endpos);
    if (this.prefix && (pos > 0 || !subject.startsWith(this.prefix))) return null;
    if (this.firstChars && (pos > 0 || this.firstChars[subject.charCodeAt(0)] === 0)) return null;
    for (let i = 0; i < this.literals.length; i++) if (subject.indexOf(this.literals[i], pos) < 0) return null;
    const re = uni ? this.unicode() : this.ascii;
    re.lastIndex = pos;
    const m = re.exec(subject);
    if (m && this.repeated.length) this.recoverRepeated(m, subject, uni);
    return m;
  }

  private unicode(): RegExp {
    return (this.unicodeRe ??= new RegExp(this.unicodeSource.source, this.unicodeSource.flags));
  }

  /** Python keeps a capture from an earlier iteration of `(...)*`; V8 clears it: replay the iterations. */
  private recoverRepeated(m: RegExpExecArray, subject: string, uni: boolean): void {
    for (const r of this.repeated) {
      const span = m[r.span];
      if (span === undefined || span === '') continue;
      const start = m.indices![r.span]![0];
      const key = (uni ? 'u' : 'a') + r.span;
      let re = this.repeatedRe.get(key);
      if (!re) {
        re = new RegExp(uni ? r.unicode : r.ascii, 'y' + (uni ? 'u' : '') + this.repeatedFlags);
        this.repeatedRe.set(key, re);
      }
      const end = start + span.length;
      const last: Array<string | undefined> = r.pairs.map(() => undefined);
      let pos = start;
      while (pos < end) {
        re.lastIndex = pos;
        const it = re.exec(subject);
        if (!it || re.lastIndex > end || re.lastIndex === pos) break;
        r.pairs.forEach(([inner], k) => { if (it[inner] !== undefined) last[k] = it[inner]; });
        pos = re.lastIndex;
      }
      if (pos !== end) continue; // the replay took another path: keep what V8 reported
      r.pairs.forEach(([, outer], k) => { if (last[k] !== undefined && m[outer] === undefined) m[outer] = last[k]!; });
    }
  }

  /** groupdict() with fail2ban's alt_/tuple_ merging. */
  groups(m: RegExpExecArray): Groups {
    const out = this.dict(m);
    for (const [k, n] of this.altValues) {
      const v = out[k];
      if (v && !out[n]) out[n] = v;
    }
    if (this.tupleValues.length) {
      const tuples = out as Record<string, unknown>;
      for (const [k, n] of this.tupleValues) {
        const t = tuples[n];
        tuples[n] = Array.isArray(t) ? [...t, out[k]] : [t, out[k]];
      }
    }
    return out;
  }

  /** Python's m.groups(): every numbered group, undefined where it did not take part. */
  pyGroups(m: RegExpExecArray): Array<string | undefined> {
    return this.numbered.slice(1).map((idx) => pick(m, idx));
  }

  /** Python's m.group(n). */
  groupByIndex(m: RegExpExecArray, n: number): string | undefined {
    return pick(m, this.numbered[n]);
  }

  /** Python's m.start(1); needs the `group1Start` option. */
  group1Start(m: RegExpExecArray): number {
    const copies = this.numbered[1];
    let idx = -1;
    for (let k = 0; k < copies.length && idx < 0; k++) if (m[copies[k]] !== undefined) idx = copies[k];
    if (idx < 0) return -1;
    if (this.prefixGroup < 0) return m.indices![idx]![0];
    return this.prefixGroup ? m.index + m[this.prefixGroup]!.length : m.index;
  }

  group(m: RegExpExecArray, name: string): string | undefined {
    const i = this.names.indexOf(name);
    return i < 0 ? undefined : pick(m, this.indexes[i]);
  }
}

/**
 * Which expressions of a list could match a subject, judged by the strings each one requires
 * (Regex.literals): one scan of the subject for the longest required string of every expression
 * instead of a search per expression. Never leaves out an expression that could match: a subject
 * lacking one of its required strings cannot match it.
 */
const FEW_KEYS = 6;

export class LiteralDispatch {
  /** The key strings, longest first, as one alternation (null when no expression has one or they are few). */
  private readonly scan: RegExp | null;
  /** A few keys are looked for one by one: cheaper than a scan that builds a match per key found. */
  private readonly few: string[] | null;
  /** Per expression: the index of its key string, or -1 (no usable string: always a candidate). */
  private readonly keyOf: Int32Array;
  /** Per expression: the strings checked (its key first). */
  private readonly required: string[][];
  /** Per key string: the keys it contains as a prefix (itself included), all found where it is. */
  private readonly implied = new Map<string, number[]>();
  /** Per key: the scan number that found it last. */
  private readonly seenAt: Uint32Array;
  private scanNo = 0;
  /** The candidates of the last call (reused: read it before the next call). */
  readonly out: number[] = [];

  /** `allowNewline`: strings holding a line break may be required (the subject has the whole buffer). */
  constructor(list: readonly Regex[], allowNewline = true) {
    const keys: string[] = [];
    this.keyOf = new Int32Array(list.length);
    this.required = list.map((re) => re.literals.filter((l) => allowNewline || !l.includes('\n')));
    list.forEach((re, i) => {
      const key = this.required[i][0];
      if (key === undefined) { this.keyOf[i] = -1; return; }
      let k = keys.indexOf(key);
      if (k < 0) k = keys.push(key) - 1;
      this.keyOf[i] = k;
    });
    this.seenAt = new Uint32Array(keys.length);
    for (const key of keys) this.implied.set(key, keys.flatMap((other, k) => (key.startsWith(other) ? [k] : [])));
    // Longest first: where several keys start at one place, the alternation reports the longest,
    // and every other key found there is a prefix of it.
    const sorted = [...keys].sort((a, b) => b.length - a.length);
    this.few = keys.length <= FEW_KEYS ? keys : null;
    this.scan = keys.length > FEW_KEYS ? new RegExp(sorted.map((l) => l.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&')).join('|'), 'g') : null;
  }

  /** True when no expression has a key string: every subject gives every expression. */
  get useless(): boolean { return this.scan === null && !this.few?.length; }

  /** Indexes (in list order) of the expressions whose required strings all occur in subject. */
  candidates(subject: string): number[] {
    const out = this.out;
    out.length = 0;
    const no = ++this.scanNo;
    const scan = this.scan, few = this.few;
    if (few) {
      for (let k = 0; k < few.length; k++) if (subject.includes(few[k])) this.seenAt[k] = no;
    } else if (scan) {
      scan.lastIndex = 0;
      for (let m = scan.exec(subject); m !== null; m = scan.exec(subject)) {
        const ks = this.implied.get(m[0])!;
        for (let j = 0; j < ks.length; j++) this.seenAt[ks[j]] = no;
        scan.lastIndex = m.index + 1; // keys may overlap
      }
    }
    const keyOf = this.keyOf;
    for (let i = 0; i < keyOf.length; i++) {
      const k = keyOf[i];
      if (k >= 0) {
        if (this.seenAt[k] !== no) continue;
        const req = this.required[i];
        let all = true;
        for (let j = 1; j < req.length && all; j++) all = subject.includes(req[j]);
        if (!all) continue;
      }
      out.push(i);
    }
    return out;
  }
}

/**
 * Which expressions of a list could match a subject, by its first character: for lists where
 * expressions are anchored at the start (fail2ban's failregexes after a prefregex mostly are).
 */
export class StartDispatch {
  private readonly byChar: number[][];
  readonly all: number[];
  /** True when no expression is judged by its first character. */
  readonly useless: boolean;
  constructor(list: readonly Regex[]) {
    this.all = list.map((_, i) => i);
    this.byChar = Array.from({ length: 128 }, (_, c) => this.all.filter((i) => !list[i].firstChars || list[i].firstChars![c] === 1));
    this.useless = list.every((re) => !re.firstChars);
  }
  /** Indexes (in list order) of the expressions a subject starting as this one may match. */
  candidates(subject: string): number[] {
    const c = subject.charCodeAt(0);
    return c < 128 ? this.byChar[c] : this.all;
  }
}

export const FAILURE_ID_GROUPS = ['fid', 'ip4', 'ip6', 'dns'];
const FAILURE_ID_PRESENTS = [...FAILURE_ID_GROUPS, 'mlfid'];

/** A failregex: must have a failure-id group itself or through the prefregex. */
export class FailRegex extends Regex {
  constructor(regex: string, opts: { multiline?: boolean; useDns?: string; prefRegex?: Regex | null } = {}) {
    super(regex, opts);
    if (!FAILURE_ID_PRESENTS.some((g) => this.has(g)) && !(opts.prefRegex && FAILURE_ID_PRESENTS.some((g) => opts.prefRegex!.has(g)))) {
      throw new RegexError(`No failure-id group in '${regex}'`);
    }
  }
}
