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
  private readonly prefixGroup: number;
  private readonly ascii: RegExp;
  private readonly unicodeRe: RegExp;
  private readonly repeated: RepeatedCapture[];
  private readonly repeatedRe = new Map<string, RegExp>();
  private readonly repeatedFlags: string;
  /** Alt/tuple names as fail2ban merges them: alt_user_1 -> user. */
  private readonly altValues: Array<[string, string]> = [];
  private readonly tupleValues: Array<[string, string]> = [];
  readonly skiplines: number;
  readonly linear: boolean;

  /** `plain` skips fail2ban's tag expansion and flag rewriting (date templates). */
  /** `indices` records group positions (the `d` flag), for groupStart(). */
  constructor(regex: string, opts: { multiline?: boolean; useDns?: string; plain?: boolean; group1Start?: boolean } = {}) {
    let r = regex;
    if (!opts.plain) {
      r = resolveHostTag(regex, opts.useDns ?? 'yes');
      if (r.trim() === '') throw new RegexError('Cannot add empty regex');
      r = globalToLocalFlags(r);
    }
    this.source = r;
    let t;
    try {
      t = translate(r, { multiline: opts.multiline, group1Start: opts.group1Start });
    } catch (e) {
      if (e instanceof PyRegexError) throw new RegexError(`Unable to compile regular expression '${regex}': ${e.message}`);
      throw e;
    }
    try {
      // Match positions (the `d` flag) are needed only to replay repeated groups.
      const d = t.repeatedCaptures.length || (opts.group1Start && t.prefixGroup < 0) ? 'd' : '';
      this.ascii = new RegExp(t.ascii.source, 'g' + d + t.ascii.flags);
      // Compile the Unicode variant now as well, so that an untranslatable pattern fails at load.
      this.unicodeRe = new RegExp(t.unicode.source, 'g' + d + t.unicode.flags);
    } catch (e) {
      throw new RegexError(`Cannot express regular expression '${regex}' in JavaScript: ${(e as Error).message}`);
    }
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
    this.prefixGroup = t.prefixGroup;
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

  /** False when `text` lacks a string every match contains (text must hold the whole subject). */
  couldMatch(text: string): boolean {
    for (let i = 0; i < this.literals.length; i++) if (!text.includes(this.literals[i])) return false;
    return true;
  }

  /** Runs the expression once so that V8 compiles it now (one-byte and two-byte subjects for Unicode). */
  warm(unicode: boolean): void {
    for (const subject of unicode ? ['\u00e9\n', '\u044f\n'] : ['x\n']) {
      const re = unicode ? this.unicodeRe : this.ascii;
      re.lastIndex = 0;
      re.exec(subject);
    }
  }

  /** Python's re.search(subject, pos, endpos). */
  search(subject: string, pos = 0, endpos?: number, uni = NON_ASCII.test(subject)): RegExpExecArray | null {
    if (endpos !== undefined && endpos < subject.length) subject = subject.slice(0, endpos);
    if (this.prefix && (pos > 0 || !subject.startsWith(this.prefix))) return null;
    for (let i = 0; i < this.literals.length; i++) if (subject.indexOf(this.literals[i], pos) < 0) return null;
    const re = uni ? this.unicodeRe : this.ascii;
    re.lastIndex = pos;
    const m = re.exec(subject);
    if (m && this.repeated.length) this.recoverRepeated(m, subject, uni);
    return m;
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
    const idx = this.numbered[1].find((i) => m[i] !== undefined);
    if (idx === undefined) return -1;
    if (this.prefixGroup < 0) return m.indices![idx]![0];
    return this.prefixGroup ? m.index + m[this.prefixGroup]!.length : m.index;
  }

  group(m: RegExpExecArray, name: string): string | undefined {
    const i = this.names.indexOf(name);
    return i < 0 ? undefined : pick(m, this.indexes[i]);
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
