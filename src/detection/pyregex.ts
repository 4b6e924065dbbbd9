// Python `re` patterns translated to JavaScript RegExp source.
//
// fail2ban filters are written for Python's engine; V8 differs in ways that silently change what
// matches: `$` (Python also matches before a trailing newline), `.` (V8 also stops at \r, \u2028),
// `\s` / `\w` / `\d` / `\b` (Python's are Unicode-aware), scoped flags `(?i:...)` and conditionals
// `(?(name)yes|no)` (V8 has neither), `(?P<name>...)`, `{,n}`, atomic groups and possessive
// quantifiers. The pattern is parsed into a tree and emitted again with explicit constructs.
//
// Two variants are emitted: `ascii` for subjects that are pure ASCII (plain V8 classes, fast) and
// `unicode` (the `u` flag with Unicode property classes) for the rest. On an ASCII subject both
// give Python's result; the caller picks the variant per subject.
//
// Capture groups are addressed by index in the emitted pattern; `groups` maps each Python group
// name to its JS index. Extra groups (conditional markers, atomic groups) are not named.

export class PyRegexError extends Error {
  constructor(message: string, readonly pattern: string, readonly position: number) {
    super(`${message} at position ${position}`);
  }
}

type Node =
  | { t: 'seq'; items: Node[] }
  | { t: 'alt'; alts: Node[] }
  | { t: 'char'; cp: number }
  | { t: 'class'; neg: boolean; items: ClassItem[] }
  | { t: 'sh'; c: string } // shorthand: d D w W s S
  | { t: 'dot' }
  | { t: 'anchor'; c: '^' | '$' | 'A' | 'Z' | 'b' | 'B' }
  | { t: 'group'; kind: 'cap' | 'nc' | 'la' | 'nla' | 'lb' | 'nlb' | 'atomic'; index?: number; name?: string; body: Node }
  | { t: 'flags'; on: number; off: number; body: Node }
  | { t: 'quant'; body: Node; min: number; max: number; lazy: boolean; poss: boolean }
  | { t: 'backref'; index: number }
  | { t: 'cond'; index: number; yes: Node; no: Node };

type ClassItem = { t: 'range'; lo: number; hi: number } | { t: 'sh'; c: string };

const F_I = 1, F_M = 2, F_S = 4, F_X = 8, F_A = 16;
const FLAG_BITS: Record<string, number> = { i: F_I, m: F_M, s: F_S, x: F_X, a: F_A, u: 0, L: 0 };

export interface Translated {
  /** Emitted source and flags for ASCII-only subjects. */
  ascii: { source: string; flags: string };
  /** Emitted source and flags for any subject. */
  unicode: { source: string; flags: string };
  /** Python group name -> JS capture indexes: the value is the first one set. */
  groups: Map<string, number[]>;
  /** Python group number -> JS capture indexes (index 0 unused). */
  numbered: number[][];
  /** Number of JS capture groups. */
  groupCount: number;
  /** True when a backreference, lookaround or conditional is present (V8's linear engine cannot run it). */
  needsBacktracking: boolean;
  /**
   * Every run of characters (2 or more) every match contains, longest first: a subject without
   * one of them cannot match, which spares running the expression on most lines.
   */
  literals: string[];
  /** Characters every match starts with at the subject's start (`^abc...` without MULTILINE), or ''. */
  anchoredPrefix: string;
  /**
   * For a pattern anchored at the subject's start (`^...` without MULTILINE): the ASCII characters
   * a subject can start with for a match; a subject starting with another ASCII character cannot
   * match (non-ASCII ones are not judged). null when not anchored or when any start is possible.
   */
  firstChars: number[] | null;
  /**
   * With `group1Start`: the JS group capturing everything before group 1, 0 when group 1 starts
   * the match, -1 when group 1 is nested (its start needs the `d` flag).
   */
  prefixGroup: number;
  /** Captures inside a repeated group: V8 clears them on every iteration where Python keeps the last value. */
  repeatedCaptures: RepeatedCapture[];
  /** Named groups that end where the match ends (only zero-width assertions follow them). */
  endingGroups: string[];
  /**
   * Set by Regex once V8 (this Node version) accepted both variants: a Regex made from it again
   * (another filter, a worker thread, the translation cache) compiles the Unicode one on first use.
   */
  compiled?: boolean;
}

/**
 * A repeated group holding captures, e.g. `(?: user=(\S+)| \w+=\S+)*`. `span` is the capture we add
 * around the whole repetition; `ascii` / `unicode` are the sources of one iteration; `pairs` maps
 * each capture index in one iteration to its index in the whole pattern.
 */
export interface RepeatedCapture { span: number; ascii: string; unicode: string; pairs: Array<[number, number]> }

class Parser {
  pos = 0;
  groupCount = 0;
  names = new Map<string, number>();
  globalFlags = 0;
  private flagStack: number[] = [];
  condRefs = new Set<number>();
  /** Groups whose participation a conditional tests. */
  hasLook = false;
  hasBackref = false;
  constructor(readonly src: string, flags: number) {
    this.globalFlags = flags;
    // Python applies flags given anywhere as `(?x)` to the whole pattern (3.11 demands them at
    // the start; older versions accepted them mid-pattern). Collect them before parsing so that
    // verbose mode is known from the first character.
    const re = /\(\?([aiLmsux]+)\)/g;
    let m: RegExpExecArray | null;
    while ((m = re.exec(src))) {
      if (src[m.index - 1] === '\\' && !isEscapedBackslash(src, m.index - 1)) continue;
      for (const c of m[1]) this.globalFlags |= FLAG_BITS[c] ?? 0;
    }
  }
  get flags(): number { return this.flagStack.length ? this.flagStack[this.flagStack.length - 1] : this.globalFlags; }
  err(msg: string, at = this.pos): never { throw new PyRegexError(msg, this.src, at); }

  parse(): Node {
    const n = this.parseAlt();
    if (this.pos < this.src.length) this.err(this.src[this.pos] === ')' ? 'unbalanced parenthesis' : 'unexpected character');
    return n;
  }

  private skipVerbose(): void {
    if (!(this.flags & F_X)) return;
    const s = this.src;
    for (;;) {
      const c = s[this.pos];
      if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f' || c === '\v') this.pos++;
      else if (c === '#') { while (this.pos < s.length && s[this.pos] !== '\n') this.pos++; }
      else break;
    }
  }

  private parseAlt(): Node {
    const alts: Node[] = [this.parseSeq()];
    while (this.src[this.pos] === '|') { this.pos++; alts.push(this.parseSeq()); }
    return alts.length === 1 ? alts[0] : { t: 'alt', alts };
  }

  private parseSeq(): Node {
    const items: Node[] = [];
    for (;;) {
      this.skipVerbose();
      const c = this.src[this.pos];
      if (c === undefined || c === '|' || c === ')') break;
      let atom = this.parseAtom();
      if (atom === null) continue;
      atom = this.parseQuant(atom);
      items.push(atom);
    }
    return items.length === 1 ? items[0] : { t: 'seq', items };
  }

  private parseQuant(atom: Node): Node {
    for (;;) {
      this.skipVerbose();
      const s = this.src;
      const c = s[this.pos];
      let min: number, max: number;
      if (c === '*') { min = 0; max = Infinity; this.pos++; }
      else if (c === '+') { min = 1; max = Infinity; this.pos++; }
      else if (c === '?') { min = 0; max = 1; this.pos++; }
      else if (c === '{') {
        const m = /^\{(\d*)(?:(,)(\d*))?\}/.exec(s.slice(this.pos, this.pos + 24));
        if (!m || (m[1] === '' && m[2] === undefined)) return atom; // a literal '{' (handled by parseAtom next)
        min = m[1] === '' ? 0 : Number(m[1]);
        max = m[2] === undefined ? min : m[3] === '' ? Infinity : Number(m[3]);
        if (max < min) this.err('min repeat greater than max repeat');
        this.pos += m[0].length;
      } else return atom;
      if (atom.t === 'quant') this.err('multiple repeat');
      if (atom.t === 'anchor' && atom.c !== 'b' && atom.c !== 'B') this.err('nothing to repeat');
      let lazy = false, poss = false;
      if (s[this.pos] === '?') { lazy = true; this.pos++; } else if (s[this.pos] === '+') { poss = true; this.pos++; }
      atom = { t: 'quant', body: atom, min, max, lazy, poss };
    }
  }

  private parseAtom(): Node | null {
    const s = this.src;
    const c = s[this.pos];
    switch (c) {
      case '(': return this.parseGroup();
      case '[': return this.parseClass();
      case '.': this.pos++; return { t: 'dot' };
      case '^': this.pos++; return { t: 'anchor', c: '^' };
      case '$': this.pos++; return { t: 'anchor', c: '$' };
      case '\\': return this.parseEscape();
      case '*': case '+': case '?': this.err('nothing to repeat');
      // falls through (err throws)
      default: {
        const cp = s.codePointAt(this.pos)!;
        this.pos += cp > 0xffff ? 2 : 1;
        return { t: 'char', cp };
      }
    }
  }

  private parseGroup(): Node | null {
    const s = this.src;
    const start = this.pos;
    this.pos++;
    if (s[this.pos] !== '?') {
      const index = ++this.groupCount;
      const body = this.parseAlt();
      this.expect(')', start);
      return { t: 'group', kind: 'cap', index, body };
    }
    this.pos++;
    const c = s[this.pos];
    if (c === 'P' && s[this.pos + 1] === '<' || c === '<' && s[this.pos + 1] !== '=' && s[this.pos + 1] !== '!') {
      this.pos += c === 'P' ? 2 : 1;
      const end = s.indexOf('>', this.pos);
      if (end < 0) this.err('missing >, unterminated name');
      const name = s.slice(this.pos, end);
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) this.err(`bad character in group name '${name}'`);
      if (this.names.has(name)) this.err(`redefinition of group name '${name}'`);
      this.pos = end + 1;
      const index = ++this.groupCount;
      this.names.set(name, index);
      const body = this.parseAlt();
      this.expect(')', start);
      return { t: 'group', kind: 'cap', index, name, body };
    }
    if (c === 'P' && s[this.pos + 1] === '=') {
      const end = s.indexOf(')', this.pos);
      if (end < 0) this.err('missing ), unterminated name');
      const name = s.slice(this.pos + 2, end);
      const index = this.names.get(name);
      if (index === undefined) this.err(`unknown group name '${name}'`);
      this.pos = end + 1;
      this.hasBackref = true;
      return { t: 'backref', index };
    }
    if (c === '#') {
      const end = s.indexOf(')', this.pos);
      if (end < 0) this.err('missing ), unterminated comment');
      this.pos = end + 1;
      return null;
    }
    if (c === '(') {
      // Conditional: (?(id-or-name)yes|no)
      const end = s.indexOf(')', this.pos);
      if (end < 0) this.err('missing ), unterminated name');
      const ref = s.slice(this.pos + 1, end);
      const index = /^\d+$/.test(ref) ? Number(ref) : this.names.get(ref);
      if (index === undefined || index < 1) this.err(`unknown group name '${ref}'`);
      if (index > this.groupCount) this.err('cannot refer to an open or later group');
      this.pos = end + 1;
      const yes = this.parseSeq();
      let no: Node = { t: 'seq', items: [] };
      if (s[this.pos] === '|') { this.pos++; no = this.parseSeq(); }
      if (s[this.pos] === '|') this.err('conditional backref with more than two branches');
      this.expect(')', start);
      this.condRefs.add(index);
      return { t: 'cond', index, yes, no };
    }
    const look: Record<string, 'la' | 'nla' | 'lb' | 'nlb' | 'nc' | 'atomic'> = { '=': 'la', '!': 'nla', ':': 'nc', '>': 'atomic' };
    let kind = look[c];
    if (!kind && c === '<' && (s[this.pos + 1] === '=' || s[this.pos + 1] === '!')) {
      kind = s[this.pos + 1] === '=' ? 'lb' : 'nlb';
      this.pos++;
    }
    if (kind) {
      this.pos++;
      if (kind !== 'nc' && kind !== 'atomic') this.hasLook = true;
      const body = this.parseAlt();
      this.expect(')', start);
      return { t: 'group', kind, body };
    }
    // Inline flags: (?aiLmsux) global, or (?flags-flags:...) scoped.
    const m = /^([aiLmsux]*)(?:-([imsx]*))?([:)])/.exec(s.slice(this.pos, this.pos + 16));
    if (!m || (!m[1] && !m[2])) this.err('unknown extension ?' + (c ?? ''));
    this.pos += m[0].length;
    if (m[3] === ')') {
      if (m[2] !== undefined) this.err('missing :');
      return null; // already applied globally by the constructor
    }
    let on = 0, off = 0;
    for (const f of m[1]) on |= FLAG_BITS[f];
    for (const f of m[2] ?? '') off |= FLAG_BITS[f];
    this.flagStack.push((this.flags | on) & ~off);
    const body = this.parseAlt();
    this.flagStack.pop();
    this.expect(')', start);
    return { t: 'flags', on, off, body };
  }

  private expect(ch: string, openedAt: number): void {
    if (this.src[this.pos] !== ch) this.err('missing ), unterminated subpattern', openedAt);
    this.pos++;
  }

  private parseEscape(): Node {
    const s = this.src;
    const c = s[this.pos + 1];
    if (c === undefined) this.err('bad escape (end of pattern)');
    if ('dDwWsS'.includes(c)) { this.pos += 2; return { t: 'sh', c }; }
    if (c === 'b' || c === 'B' || c === 'A' || c === 'Z') { this.pos += 2; return { t: 'anchor', c }; }
    if (c >= '1' && c <= '9') {
      // Backreference (up to two digits) or octal escape (three octal digits).
      const oct = /^[0-7]{3}/.exec(s.slice(this.pos + 1, this.pos + 4));
      if (c <= '3' && oct) { this.pos += 4; return { t: 'char', cp: parseInt(oct[0], 8) }; }
      const m = /^\d\d?/.exec(s.slice(this.pos + 1, this.pos + 3))!;
      const index = Number(m[0]);
      if (index > this.groupCount) this.err(`invalid group reference ${index}`);
      this.pos += 1 + m[0].length;
      this.hasBackref = true;
      return { t: 'backref', index };
    }
    return { t: 'char', cp: this.parseCharEscape(false) };
  }

  /** An escape producing one code point, at this.pos (the backslash). */
  private parseCharEscape(inClass: boolean): number {
    const s = this.src;
    const c = s[this.pos + 1];
    const simple: Record<string, number> = { n: 10, t: 9, r: 13, f: 12, v: 11, a: 7 };
    if (simple[c] !== undefined) { this.pos += 2; return simple[c]; }
    if (inClass && c === 'b') { this.pos += 2; return 8; }
    const hex = (n: number): number => {
      const h = s.slice(this.pos + 2, this.pos + 2 + n);
      if (h.length !== n || !/^[0-9a-fA-F]+$/.test(h)) this.err(`incomplete escape \\${c}${h}`);
      this.pos += 2 + n;
      const v = parseInt(h, 16);
      if (v > 0x10ffff) this.err(`bad escape \\${c}${h}`);
      return v;
    };
    if (c === 'x') return hex(2);
    if (c === 'u') return hex(4);
    if (c === 'U') return hex(8);
    if (c === 'N') this.err('named Unicode escapes \\N{...} are not supported');
    if (c >= '0' && c <= '7') {
      const m = /^[0-7]{1,3}/.exec(s.slice(this.pos + 1, this.pos + 4))!;
      this.pos += 1 + m[0].length;
      return parseInt(m[0], 8);
    }
    if (/[A-Za-z0-9]/.test(c)) this.err(`bad escape \\${c}`);
    const cp = s.codePointAt(this.pos + 1)!;
    this.pos += cp > 0xffff ? 3 : 2;
    return cp;
  }

  private parseClass(): Node {
    const s = this.src;
    const start = this.pos;
    this.pos++;
    let neg = false;
    if (s[this.pos] === '^') { neg = true; this.pos++; }
    const items: ClassItem[] = [];
    let first = true;
    for (;;) {
      if (this.pos >= s.length) this.err('unterminated character set', start);
      const c = s[this.pos];
      if (c === ']' && !first) { this.pos++; break; }
      first = false;
      let lo: number;
      if (c === '\\') {
        const e = s[this.pos + 1];
        if (e !== undefined && 'dDwWsS'.includes(e)) { this.pos += 2; items.push({ t: 'sh', c: e }); continue; }
        lo = this.parseCharEscape(true);
      } else { lo = s.codePointAt(this.pos)!; this.pos += lo > 0xffff ? 2 : 1; }
      if (s[this.pos] === '-' && s[this.pos + 1] !== ']' && this.pos + 1 < s.length) {
        this.pos++;
        let hi: number;
        if (s[this.pos] === '\\') {
          const e = s[this.pos + 1];
          if (e !== undefined && 'dDwWsS'.includes(e)) this.err('bad character range');
          hi = this.parseCharEscape(true);
        } else { hi = s.codePointAt(this.pos)!; this.pos += hi > 0xffff ? 2 : 1; }
        if (hi < lo) this.err('bad character range');
        items.push({ t: 'range', lo, hi });
      } else items.push({ t: 'range', lo, hi: lo });
    }
    return { t: 'class', neg, items };
  }
}

function isEscapedBackslash(s: string, i: number): boolean {
  let n = 0;
  while (i >= 0 && s[i] === '\\') { n++; i--; }
  return n % 2 === 0;
}

// ---- emission ----

const SPACE_RANGES: Array<[number, number]> = [[0x09, 0x0d], [0x1c, 0x20], [0x85, 0x85], [0xa0, 0xa0], [0x1680, 0x1680],
  [0x2000, 0x200a], [0x2028, 0x2029], [0x202f, 0x202f], [0x205f, 0x205f], [0x3000, 0x3000]];

function complement(ranges: Array<[number, number]>, max: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let next = 0;
  for (const [lo, hi] of ranges) {
    if (lo > max) break;
    if (lo > next) out.push([next, lo - 1]);
    next = hi + 1;
  }
  if (next <= max) out.push([next, max]);
  return out;
}

const ASCII_SPACE: Array<[number, number]> = [[0x09, 0x0d], [0x1c, 0x20]];
const ASCII_WORD: Array<[number, number]> = [[0x30, 0x39], [0x41, 0x5a], [0x5f, 0x5f], [0x61, 0x7a]];
const ASCII_DIGIT: Array<[number, number]> = [[0x30, 0x39]];

function cpEsc(cp: number, u: boolean, inClass = false): string {
  if (cp < 0x80) {
    const ch = String.fromCharCode(cp);
    // Only syntax characters may be escaped in `u` mode.
    if ((inClass ? '\\]-[^' : '^$\\.*+?()[]{}|/').includes(ch)) return '\\' + ch;
    if (cp >= 0x20 && cp < 0x7f) return ch;
    return '\\x' + cp.toString(16).padStart(2, '0');
  }
  if (cp <= 0xffff) return '\\u' + cp.toString(16).padStart(4, '0');
  if (u) return `\\u{${cp.toString(16)}}`;
  const h = Math.floor((cp - 0x10000) / 0x400) + 0xd800, l = ((cp - 0x10000) % 0x400) + 0xdc00;
  return '\\u' + h.toString(16) + '\\u' + l.toString(16);
}

function rangesSrc(r: Array<[number, number]>, u: boolean): string {
  return r.map(([lo, hi]) => lo === hi ? cpEsc(lo, u, true) : cpEsc(lo, u, true) + '-' + cpEsc(hi, u, true)).join('');
}

/** Case counterparts of a range (simple case mapping), for case-insensitivity scoped to part of a pattern. */
function caseRanges(lo: number, hi: number, asciiOnly: boolean): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  const add = (a: number, b: number, d: number) => { const x = Math.max(lo, a), y = Math.min(hi, b); if (x <= y) out.push([x + d, y + d]); };
  add(0x41, 0x5a, 32);
  add(0x61, 0x7a, -32);
  if (!asciiOnly && hi - lo < 2048) {
    for (let cp = Math.max(lo, 0x80); cp <= hi; cp++) {
      const ch = String.fromCodePoint(cp);
      for (const v of [ch.toLowerCase(), ch.toUpperCase()]) {
        const c2 = v.codePointAt(0)!;
        if (v.length === String.fromCodePoint(c2).length && c2 !== cp) out.push([c2, c2]);
      }
    }
  }
  return out;
}

interface EmitCtx {
  u: boolean; // unicode variant
  ciByFlag: boolean; // case-insensitivity handled by the JS `i` flag
  markers: Map<number, number>; // python group index -> JS marker group index (conditionals)
  jsIndex: Map<number, number[]>; // python group index -> JS group indexes (several when a conditional was expanded)
  next: number; // next JS group index
  repeated: Array<{ node: Node; flags: number; span: number; outer: number[] }>;
}

const WORD_U = '\\p{L}\\p{N}_';

class Emitter {
  /** `captured`: the groups emitted as captures (null: all); the others become non-capturing. */
  constructor(private readonly root: Node, private readonly p: Parser, private readonly captured: ReadonlySet<number> | null = null) {}

  emit(u: boolean, ciByFlag: boolean, flags = this.p.globalFlags): { src: string; ctx: EmitCtx } {
    const ctx: EmitCtx = { u, ciByFlag, markers: new Map(), jsIndex: new Map(), next: 1, repeated: [] };
    const src = this.node(this.root, flags, ctx);
    return { src, ctx };
  }

  private node(n: Node, f: number, c: EmitCtx): string {
    switch (n.t) {
      case 'seq': return n.items.map((x) => this.node(x, f, c)).join('');
      case 'alt': return n.alts.map((x) => this.node(x, f, c)).join('|');
      case 'char': return this.char(n.cp, f, c);
      case 'dot': return f & F_S ? '[\\s\\S]' : '[^\\n]';
      case 'sh': return this.shorthand(n.c, f, c);
      case 'class': return this.cls(n, f, c);
      case 'anchor': return this.anchor(n.c, f, c);
      case 'backref': { const all = c.jsIndex.get(n.index)!; return `(?:\\${all[all.length - 1]})`; }
      case 'flags': return `(?:${this.node(n.body, (f | n.on) & ~n.off, c)})`;
      case 'quant': return this.quant(n, f, c);
      case 'cond': {
        const m = c.markers.get(n.index);
        if (m === undefined) throw new PyRegexError('conditional refers to a group defined after it', this.p.src, 0);
        // The marker captured the whole subject when the group took part; otherwise it is unset
        // and a backreference to it matches the empty string.
        const took = `(?<=(?<![\\s\\S])(?=\\${m}(?![\\s\\S]))[\\s\\S]*)`;
        const notTook = `(?<=(?<![\\s\\S])(?!\\${m}(?![\\s\\S]))[\\s\\S]*)`;
        return `(?:${took}(?:${this.node(n.yes, f, c)})|${notTook}(?:${this.node(n.no, f, c)}))`;
      }
      case 'group': {
        switch (n.kind) {
          case 'cap': {
            if (this.captured && !this.captured.has(n.index!)) return `(?:${this.node(n.body, f, c)})`;
            const idx = c.next++;
            c.jsIndex.set(n.index!, [...(c.jsIndex.get(n.index!) ?? []), idx]);
            let marker = '';
            if (this.p.condRefs.has(n.index!)) {
              const m = c.next++;
              c.markers.set(n.index!, m);
              marker = '(?<=(?<![\\s\\S])(?=([\\s\\S]*))[\\s\\S]*)';
            }
            return `(${this.node(n.body, f, c)}${marker})`;
          }
          case 'nc': return `(?:${this.node(n.body, f, c)})`;
          case 'la': return `(?=${this.node(n.body, f, c)})`;
          case 'nla': return `(?!${this.node(n.body, f, c)})`;
          case 'lb': return `(?<=${this.node(n.body, f, c)})`;
          case 'nlb': return `(?<!${this.node(n.body, f, c)})`;
          case 'atomic': {
            const idx = c.next++;
            return `(?=(${this.node(n.body, f, c)}))\\${idx}`;
          }
        }
      }
    }
  }

  private quant(n: Extract<Node, { t: 'quant' }>, f: number, c: EmitCtx): string {
    const q = (n.min === 0 && n.max === Infinity ? '*' : n.min === 1 && n.max === Infinity ? '+' : n.min === 0 && n.max === 1 ? '?'
      : n.max === Infinity ? `{${n.min},}` : n.min === n.max ? `{${n.min}}` : `{${n.min},${n.max}}`) + (n.lazy ? '?' : '');
    const holdsCaptures = n.max > 1 && hasCapture(n.body);
    let spanIdx = 0;
    if (holdsCaptures) spanIdx = c.next++;
    if (n.poss) {
      const idx = c.next++;
      const inner = `(?=(${this.wrapAtom(n.body, f, c)}${q}))\\${idx}`;
      return holdsCaptures ? `(${inner})` : inner;
    }
    const inner = this.wrapAtom(n.body, f, c) + q;
    if (!holdsCaptures) return inner;
    // The copies of the body's groups just emitted are the last ones recorded.
    const outer = collectCaptures(n.body, []).map((i) => c.jsIndex.get(i)!.at(-1)!);
    c.repeated.push({ node: n.body, flags: f, span: spanIdx, outer });
    return `(${inner})`;
  }

  /** Emits n so that a quantifier can follow it. */
  private wrapAtom(n: Node, f: number, c: EmitCtx): string {
    const s = this.node(n, f, c);
    const single = n.t === 'char' || n.t === 'dot' || n.t === 'sh' || n.t === 'class' || n.t === 'backref' || n.t === 'flags'
      || n.t === 'cond' || (n.t === 'group' && n.kind !== 'atomic') || (n.t === 'anchor' && s !== '^');
    return single ? s : `(?:${s})`;
  }

  private char(cp: number, f: number, c: EmitCtx): string {
    if (f & F_I && !c.ciByFlag) {
      const extra = caseRanges(cp, cp, !c.u);
      if (extra.length) return '[' + rangesSrc([[cp, cp], ...extra], c.u) + ']';
    }
    if (!c.u && cp > 0xffff) return `(?:${cpEsc(cp, false)})`;
    return cpEsc(cp, c.u);
  }

  /** Class body (without brackets) for a positive shorthand, or null when it has to be handled as a complement. */
  private shPositive(sh: string, f: number, u: boolean): string | null {
    const ascii = !u || (f & F_A) !== 0;
    switch (sh) {
      case 'd': return ascii ? '0-9' : '\\p{Nd}';
      case 'w': return ascii ? 'A-Za-z0-9_' : WORD_U;
      case 's': return rangesSrc(ascii ? ASCII_SPACE : SPACE_RANGES, u);
      case 'D': return ascii ? (u ? null : rangesSrc(complement(ASCII_DIGIT, 0x7f), u)) : '\\P{Nd}';
      case 'W': return ascii ? (u ? null : rangesSrc(complement(ASCII_WORD, 0x7f), u)) : null;
      case 'S': return ascii ? (u ? null : rangesSrc(complement(ASCII_SPACE, 0x7f), u)) : rangesSrc(complement(SPACE_RANGES, 0x10ffff), u);
    }
    return null;
  }

  private shorthand(sh: string, f: number, c: EmitCtx): string {
    const pos = this.shPositive(sh, f, c.u);
    if (pos !== null) return `[${pos}]`;
    // Complement of an ASCII class in the unicode variant, or \W there.
    const base = this.shPositive(sh.toLowerCase(), f, c.u)!;
    return `[^${base}]`;
  }

  private cls(n: Extract<Node, { t: 'class' }>, f: number, c: EmitCtx): string {
    let body = '';
    const negShorts: string[] = [];
    const ranges: Array<[number, number]> = [];
    for (const it of n.items) {
      if (it.t === 'sh') {
        const pos = this.shPositive(it.c, f, c.u);
        if (pos !== null) body += pos; else negShorts.push(this.shPositive(it.c.toLowerCase(), f, c.u)!);
      } else {
        ranges.push([it.lo, it.hi]);
        if (f & F_I && !c.ciByFlag) ranges.push(...caseRanges(it.lo, it.hi, !c.u));
      }
    }
    body = rangesSrc(ranges, c.u) + body;
    if (!negShorts.length) {
      if (!body) return n.neg ? '[\\s\\S]' : '[]';
      return `[${n.neg ? '^' : ''}${body}]`;
    }
    // A complemented shorthand inside a class, e.g. [\W\d] in the unicode variant: union / intersection via lookahead.
    if (!n.neg) return `(?:${body ? `[${body}]|` : ''}${negShorts.map((x) => `[^${x}]`).join('|')})`;
    const guards = negShorts.slice(0, -1).map((x) => `(?=[${x}])`).join('');
    return `(?:${body ? `(?![${body}])` : ''}${guards}[${negShorts[negShorts.length - 1]}])`;
  }

  private anchor(a: string, f: number, c: EmitCtx): string {
    const multi = (f & F_M) !== 0;
    switch (a) {
      case '^': return multi ? '(?:^|(?<=\\n))' : '^';
      case '$': return multi ? '(?=\\n|(?![\\s\\S]))' : '(?=\\n?(?![\\s\\S]))';
      case 'A': return '^';
      case 'Z': return '(?![\\s\\S])';
      case 'b': case 'B': {
        if (!c.u || f & F_A) return '\\' + a;
        const w = `[${WORD_U}]`;
        const b = `(?:(?<=${w})(?!${w})|(?<!${w})(?=${w}))`;
        return a === 'b' ? b : `(?!${b})`;
      }
    }
    return '';
  }
}

class Unsupported extends Error {}

function defines(n: Node, g: number): boolean {
  switch (n.t) {
    case 'seq': return n.items.some((x) => defines(x, g));
    case 'alt': return n.alts.some((x) => defines(x, g));
    case 'group': return (n.kind === 'cap' && n.index === g) || defines(n.body, g);
    case 'flags': case 'quant': return defines(n.body, g);
    case 'cond': return defines(n.yes, g) || defines(n.no, g);
    default: return false;
  }
}

function testsGroup(n: Node, g: number): boolean {
  switch (n.t) {
    case 'seq': return n.items.some((x) => testsGroup(x, g));
    case 'alt': return n.alts.some((x) => testsGroup(x, g));
    case 'group': case 'flags': case 'quant': return testsGroup(n.body, g);
    case 'cond': return n.index === g || testsGroup(n.yes, g) || testsGroup(n.no, g);
    default: return false;
  }
}

/** Replaces the conditionals on group g by their yes or no branch. */
function resolveCond(n: Node, g: number, took: boolean): Node {
  switch (n.t) {
    case 'seq': return { t: 'seq', items: n.items.map((x) => resolveCond(x, g, took)) };
    case 'alt': return { t: 'alt', alts: n.alts.map((x) => resolveCond(x, g, took)) };
    case 'group': case 'flags': case 'quant': return { ...n, body: resolveCond(n.body, g, took) } as Node;
    case 'cond':
      if (n.index === g) return { t: 'group', kind: 'nc', body: resolveCond(took ? n.yes : n.no, g, took) };
      return { ...n, yes: resolveCond(n.yes, g, took), no: resolveCond(n.no, g, took) };
    default: return n;
  }
}

/**
 * The paths of n where group g takes part (took) or not, in Python's order of preference;
 * null when there is none. Unsupported when the split would change which path is tried first.
 */
function restrict(n: Node, g: number, took: boolean): Node | null {
  switch (n.t) {
    case 'seq': {
      const k = n.items.findIndex((x) => defines(x, g));
      const r = restrict(n.items[k], g, took);
      return r && { t: 'seq', items: n.items.map((x, i) => (i === k ? r : x)) };
    }
    case 'alt': {
      const has = n.alts.map((x) => defines(x, g));
      if (has.some((h, i) => h && i > 0 && !has[i - 1])) throw new Unsupported();
      const alts = n.alts.map((x, i) => (has[i] ? restrict(x, g, took) : took ? null : x)).filter((x): x is Node => x !== null);
      return alts.length === 0 ? null : alts.length === 1 ? alts[0] : { t: 'alt', alts };
    }
    case 'group':
      if (n.kind === 'cap' && n.index === g) return took ? n : null;
      if (n.kind !== 'cap' && n.kind !== 'nc' && n.kind !== 'atomic') throw new Unsupported();
      { const b = restrict(n.body, g, took); return b && { ...n, body: b }; }
    case 'flags': { const b = restrict(n.body, g, took); return b && { ...n, body: b }; }
    case 'quant': {
      if (n.max !== 1 || n.lazy || n.poss) throw new Unsupported();
      const b = restrict(n.body, g, took);
      if (took) return b && (n.min === 1 ? b : { t: 'group', kind: 'nc', body: b });
      if (n.min === 1) return b;
      return b ? { ...n, body: b } : { t: 'seq', items: [] };
    }
    default: throw new Unsupported();
  }
}

/**
 * V8 has no conditionals. Where the group is defined by an item of a sequence and tested later in
 * it, the sequence is split into the case where the group took part and the case where it did not,
 * each with the conditional resolved: plain alternation, as fast as any other pattern.
 */
function expandConditionals(n: Node): Node {
  switch (n.t) {
    case 'seq': {
      const items = n.items.map(expandConditionals);
      for (let i = 0; i < items.length; i++) {
        for (const g of groupsDefined(items[i])) {
          if (!items.slice(i + 1).some((x) => testsGroup(x, g))) continue;
          let yes: Node | null, no: Node | null;
          try { yes = restrict(items[i], g, true); no = restrict(items[i], g, false); } catch (e) {
            if (e instanceof Unsupported) continue;
            throw e;
          }
          const tail = items.slice(i + 1);
          const branch = (head: Node | null, took: boolean): Node[] =>
            head ? [expandConditionals({ t: 'seq', items: [head, ...tail.map((x) => resolveCond(x, g, took))] })] : [];
          const alts = [...branch(yes, true), ...branch(no, false)];
          const split: Node = alts.length === 1 ? alts[0] : { t: 'group', kind: 'nc', body: { t: 'alt', alts } };
          return { t: 'seq', items: [...items.slice(0, i), split] };
        }
      }
      return { t: 'seq', items };
    }
    case 'alt': return { t: 'alt', alts: n.alts.map(expandConditionals) };
    case 'group': case 'flags': case 'quant': return { ...n, body: expandConditionals(n.body) } as Node;
    case 'cond': return { ...n, yes: expandConditionals(n.yes), no: expandConditionals(n.no) };
    default: return n;
  }
}

/**
 * The groups to capture when only `keep` are asked for (and the group before group 1, numbered 0):
 * those and the ones a backreference or conditional reads; all of them when a repeated group
 * holds a capture (its replay needs them).
 */
function capturedGroups(root: Node, keep: readonly number[], condRefs: ReadonlySet<number>): ReadonlySet<number> | null {
  const out = new Set([0, ...keep, ...condRefs]);
  let repeated = false;
  const walk = (x: Node) => {
    switch (x.t) {
      case 'seq': x.items.forEach(walk); break;
      case 'alt': x.alts.forEach(walk); break;
      case 'quant': if (x.max > 1 && hasCapture(x.body)) repeated = true; walk(x.body); break;
      case 'group': case 'flags': walk(x.body); break;
      case 'cond': walk(x.yes); walk(x.no); break;
      case 'backref': out.add(x.index); break;
    }
  };
  walk(root);
  return repeated ? null : out;
}

function groupsDefined(n: Node): number[] {
  return collectCaptures(n, []);
}

function remainingCondRefs(n: Node): Set<number> {
  const out = new Set<number>();
  const walk = (x: Node) => {
    switch (x.t) {
      case 'seq': x.items.forEach(walk); break;
      case 'alt': x.alts.forEach(walk); break;
      case 'group': case 'flags': case 'quant': walk(x.body); break;
      case 'cond': out.add(x.index); walk(x.yes); walk(x.no); break;
    }
  };
  walk(n);
  return out;
}

function hasCapture(n: Node): boolean {
  switch (n.t) {
    case 'seq': return n.items.some(hasCapture);
    case 'alt': return n.alts.some(hasCapture);
    case 'group': return n.kind === 'cap' || hasCapture(n.body);
    case 'flags': case 'quant': return hasCapture(n.body);
    case 'cond': return hasCapture(n.yes) || hasCapture(n.no);
    default: return false;
  }
}

function collectCaptures(n: Node, out: number[]): number[] {
  switch (n.t) {
    case 'seq': n.items.forEach((x) => collectCaptures(x, out)); break;
    case 'alt': n.alts.forEach((x) => collectCaptures(x, out)); break;
    case 'group': if (n.kind === 'cap') out.push(n.index!); collectCaptures(n.body, out); break;
    case 'flags': case 'quant': collectCaptures(n.body, out); break;
    case 'cond': collectCaptures(n.yes, out); collectCaptures(n.no, out); break;
  }
  return out;
}

function flagsUsedAnywhere(n: Node, bit: number): 'on' | 'off' | 'none' {
  let r: 'on' | 'off' | 'none' = 'none';
  const walk = (x: Node) => {
    if (x.t === 'flags') { if (x.off & bit) r = 'off'; else if (x.on & bit && r === 'none') r = 'on'; }
    switch (x.t) {
      case 'seq': x.items.forEach(walk); break;
      case 'alt': x.alts.forEach(walk); break;
      case 'group': case 'flags': case 'quant': walk(x.body); break;
      case 'cond': walk(x.yes); walk(x.no); break;
    }
  };
  walk(n);
  return r;
}

/**
 * Translates a Python regular expression. `multiline` is Python's re.MULTILINE given at compile
 * time (fail2ban sets it for filters with maxlines > 1). Throws PyRegexError when the pattern is
 * invalid for Python or cannot be expressed in JavaScript.
 */
export function translate(pattern: string, opts: TranslateOptions = {}): Translated {
  const key = JSON.stringify([pattern, !!opts.multiline, !!opts.ignoreCase, !!opts.group1Start, opts.keep ?? null]);
  let t = translations.get(key);
  if (!t) {
    translations.set(key, t = translateNew(pattern, opts));
    translatedHere++;
  }
  return t;
}

export interface TranslateOptions { multiline?: boolean; ignoreCase?: boolean; group1Start?: boolean; keep?: readonly number[] }

/**
 * The translations made in this thread, by pattern and options (never changed once made): a
 * worker thread is given them instead of translating the same filter again.
 */
const translations = new Map<string, Translated>();
let translatedHere = 0;

/** How many translations this thread has made itself (not given by useTranslations). */
export function translationCount(): number { return translatedHere; }

export function translationsMade(): Array<[string, Translated]> { return [...translations]; }

export function useTranslations(list: Array<[string, Translated]>): void {
  for (const [k, t] of list) translations.set(k, t);
}

function translateNew(pattern: string, opts: TranslateOptions): Translated {
  const p = new Parser(pattern, (opts.multiline ? F_M : 0) | (opts.ignoreCase ? F_I : 0));
  let root = expandConditionals(p.parse());
  p.condRefs = remainingCondRefs(root);
  // Where group 1 starts without the costly `d` flag: capture what precedes it (date templates).
  let prefix = -1;
  if (opts.group1Start) {
    const items = root.t === 'seq' ? root.items : [root];
    const k = items.findIndex((x) => x.t === 'group' && x.kind === 'cap' && x.index === 1);
    if (k > 0) root = { t: 'seq', items: [{ t: 'group', kind: 'cap', index: 0, body: { t: 'seq', items: items.slice(0, k) } }, ...items.slice(k)] };
    prefix = k;
  }
  // A pattern-wide (?i) is the JS `i` flag, unless a scope switches it off again.
  const ciByFlag = (p.globalFlags & F_I) !== 0 && flagsUsedAnywhere(root, F_I) !== 'off';
  const em = new Emitter(root, p, opts.keep ? capturedGroups(root, opts.keep, p.condRefs) : null);
  const a = em.emit(false, ciByFlag);
  const u = em.emit(true, ciByFlag);
  const flagsA = ciByFlag ? 'i' : '';
  const flagsU = 'u' + flagsA;
  const groups = new Map<string, number[]>();
  for (const [name, idx] of p.names) groups.set(name, a.ctx.jsIndex.get(idx) ?? []);
  const repeatedCaptures: RepeatedCapture[] = [];
  for (const r of a.ctx.repeated) {
    try {
      const bodyA = new Emitter(r.node, p).emit(false, ciByFlag, r.flags);
      const bodyU = new Emitter(r.node, p).emit(true, ciByFlag, r.flags);
      const pairs = collectCaptures(r.node, []).map((i, k): [number, number] => [bodyA.ctx.jsIndex.get(i)![0], r.outer[k]]);
      repeatedCaptures.push({ span: r.span, ascii: bodyA.src, unicode: bodyU.src, pairs });
    } catch (e) {
      // One iteration refers to a group outside it (conditional): its captures stay as V8 leaves them.
      if (!(e instanceof PyRegexError)) throw e;
    }
  }
  return {
    ascii: { source: a.src, flags: flagsA },
    unicode: { source: u.src, flags: flagsU },
    groups,
    numbered: Array.from({ length: p.groupCount + 1 }, (_, i) => (i === 0 ? [] : a.ctx.jsIndex.get(i) ?? [])),
    groupCount: a.ctx.next - 1,
    needsBacktracking: p.hasBackref || p.hasLook || p.condRefs.size > 0,
    repeatedCaptures,
    literals: (p.globalFlags & F_I) ? [] : requiredLiterals(root, p.globalFlags),
    anchoredPrefix: (p.globalFlags & (F_I | F_M)) ? '' : anchoredPrefix(root),
    firstChars: (p.globalFlags & (F_I | F_M)) ? null : anchoredFirstChars(root),
    prefixGroup: prefix > 0 ? a.ctx.jsIndex.get(0)![0] : prefix,
    endingGroups: endingGroups(root, p.names),
  };
}

/** The names of the group the pattern ends with, when only zero-width assertions follow it. */
function endingGroups(root: Node, names: Map<string, number>): string[] {
  const items = root.t === 'seq' ? root.items : [root];
  let k = items.length - 1;
  const zeroWidth = (x: Node) => x.t === 'anchor' || (x.t === 'group' && (x.kind === 'la' || x.kind === 'nla' || x.kind === 'lb' || x.kind === 'nlb'));
  while (k >= 0 && zeroWidth(items[k])) k--;
  const last = items[k];
  if (!last || last.t !== 'group' || last.kind !== 'cap') return [];
  return [...names].filter(([, i]) => i === last.index).map(([n]) => n);
}

/** The characters after a leading `^`, through the groups that open there. */
function anchoredPrefix(root: Node): string {
  const items = root.t === 'seq' ? root.items : [root];
  if (items[0]?.t !== 'anchor' || items[0].c !== '^') return '';
  let out = '';
  // Returns false where the literal run stops.
  const take = (list: Node[]): boolean => {
    for (const x of list) {
      if (x.t === 'char') out += String.fromCodePoint(x.cp);
      else if (x.t === 'group' && (x.kind === 'cap' || x.kind === 'nc')) {
        if (!take(x.body.t === 'seq' ? x.body.items : [x.body])) return false;
      } else return false;
    }
    return true;
  };
  take(items.slice(1));
  return out;
}

/** What can come first in a match of a node: ASCII code bitmap (null: anything) and whether it can match empty. */
interface First { chars: boolean[] | null; empty: boolean }

const ANY: First = { chars: null, empty: true };

const range = (lo: number, hi: number) => Array.from({ length: hi - lo + 1 }, (_, i) => lo + i);
const DIGITS = range(48, 57);
const WORD = [...DIGITS, ...range(65, 90), ...range(97, 122), 95];
const noChars = () => new Array<boolean>(128).fill(false);

/** Starts with one of `codes` (non-ASCII first characters are not judged). */
function startsWith(codes: Iterable<number>): First {
  const chars = noChars();
  for (const c of codes) if (c < 128) chars[c] = true;
  return { chars, empty: false };
}

/** `\d` and `\w` start with what they match; other shorthands are not judged. */
function shorthandCodes(c: string): number[] | null {
  return c === 'd' ? DIGITS : c === 'w' ? WORD : null;
}

/** Adds f's first characters to `chars`; false when f can start with anything. */
function addFirst(chars: boolean[], f: First): boolean {
  if (!f.chars) return false;
  f.chars.forEach((b, i) => { if (b) chars[i] = true; });
  return true;
}

function firstOf(n: Node): First {
  switch (n.t) {
    case 'char': return startsWith([n.cp]);
    case 'class': {
      if (n.neg) return ANY;
      const codes: number[] = [];
      for (const it of n.items) {
        if (it.t === 'sh') {
          const sh = shorthandCodes(it.c);
          if (!sh) return ANY;
          codes.push(...sh);
        } else codes.push(...range(Math.min(it.lo, 128), Math.min(it.hi, 127)));
      }
      return startsWith(codes);
    }
    case 'sh': {
      const sh = shorthandCodes(n.c);
      return sh ? startsWith(sh) : ANY;
    }
    case 'anchor': return { chars: noChars(), empty: true };
    case 'seq': {
      const chars = noChars();
      for (const it of n.items) {
        const f = firstOf(it);
        if (!addFirst(chars, f)) return ANY;
        if (!f.empty) return { chars, empty: false };
      }
      return { chars, empty: true };
    }
    case 'alt': {
      const chars = noChars();
      let empty = false;
      for (const a of n.alts) {
        const f = firstOf(a);
        if (!addFirst(chars, f)) return ANY;
        empty ||= f.empty;
      }
      return { chars, empty };
    }
    case 'group':
      // Lookarounds take no character: what follows decides (a superset of what can start).
      if (n.kind === 'cap' || n.kind === 'nc' || n.kind === 'atomic') return firstOf(n.body);
      return { chars: noChars(), empty: true };
    case 'quant': {
      const f = firstOf(n.body);
      return n.min === 0 ? { chars: f.chars, empty: true } : f;
    }
    case 'cond': {
      const a = firstOf(n.yes), b = firstOf(n.no);
      const chars = noChars();
      if (!addFirst(chars, a) || !addFirst(chars, b)) return ANY;
      return { chars, empty: a.empty || b.empty };
    }
    // Scoped flags (case, multi-line), backreferences, `.`: not judged.
    default: return ANY;
  }
}

function anchoredFirstChars(root: Node): number[] | null {
  const items = root.t === 'seq' ? root.items : [root];
  if (items[0]?.t !== 'anchor' || items[0].c !== '^') return null;
  const f = firstOf({ t: 'seq', items: items.slice(1) });
  if (!f.chars || f.empty) return null;
  return f.chars.flatMap((b, i) => (b ? [i] : []));
}

/** The runs of characters that every match of n must contain, longest first. */
function requiredLiterals(n: Node, flags: number): string[] {
  const found = new Set<string>();
  const keep = (s: string) => { if (s.length >= 2) found.add(s); };
  // Returns the literal run n ends with when n is all literal, else null (the run is broken).
  const walk = (x: Node, f: number, run: string): string => {
    switch (x.t) {
      case 'char':
        if (f & F_I) { keep(run); return ''; }
        return run + String.fromCodePoint(x.cp);
      case 'seq': for (const it of x.items) run = walk(it, f, run); return run;
      case 'group':
        if (x.kind === 'cap' || x.kind === 'nc' || x.kind === 'atomic') return walk(x.body, f, run);
        return run; // lookaround: zero-width, the characters on both sides are adjacent
      case 'flags': keep(run); keep(walk(x.body, (f | x.on) & ~x.off, '')); return '';
      case 'quant':
        keep(run);
        if (x.min >= 1) keep(walk(x.body, f, ''));
        return '';
      case 'anchor': return run;
      case 'alt': keep(run); keep(commonSubstring(x.alts.map((b) => requiredLiterals(b, f)[0] ?? ''))); return '';
      default: keep(run); return '';
    }
  };
  keep(walk(n, flags, ''));
  return [...found].sort((a, b) => b.length - a.length);
}

/** The longest string contained in all of them ('' if none). */
function commonSubstring(list: string[]): string {
  const shortest = list.reduce((a, b) => (b.length < a.length ? b : a), list[0] ?? '');
  for (let len = shortest.length; len > 0; len--) {
    for (let i = 0; i + len <= shortest.length; i++) {
      const cand = shortest.slice(i, i + len);
      if (list.every((x) => x.includes(cand))) return cand;
    }
  }
  return '';
}
