// IP addresses as numbers: IPv4 as one uint32, IPv6 as four uint32 words (most significant
// first). Parsers are hand-written because they sit on every hot path (attribution, blocklists,
// detection) and must never throw on hostile input: they return -1 / false instead.

/** Parses dotted-quad IPv4 in s[start, end); returns the address or -1. */
export function parseIPv4(s: string, start = 0, end = s.length): number {
  let acc = 0, part = 0, digits = 0, dots = 0;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      // A leading zero with more digits is refused: 010 means octal to some tools, decimal to others.
      if (digits === 1 && part === 0) return -1;
      part = part * 10 + (c - 48);
      if (++digits > 3 || part > 255) return -1;
    } else if (c === 46) {
      if (digits === 0 || ++dots > 3) return -1;
      acc = acc * 256 + part;
      part = 0; digits = 0;
    } else return -1;
  }
  if (dots !== 3 || digits === 0) return -1;
  return acc * 256 + part;
}

const groups = new Int32Array(8);

/** Parses IPv6 (with :: and an embedded IPv4 tail, without zone) into out[0..3]; false if invalid. */
export function parseIPv6(s: string, out: Uint32Array, start = 0, end = s.length): boolean {
  const g = groups;
  let n = 0, gap = -1, i = start;
  if (end - start < 2) return false;
  if (s.charCodeAt(i) === 58) {
    if (s.charCodeAt(i + 1) !== 58) return false;
    gap = 0; i += 2;
    if (i === end) { out[0] = out[1] = out[2] = out[3] = 0; return true; }
  }
  while (i < end) {
    let v = 0, d = 0, j = i;
    for (; j < end; j++) {
      const c = s.charCodeAt(j);
      let h: number;
      if (c >= 48 && c <= 57) h = c - 48;
      else if (c >= 97 && c <= 102) h = c - 87;
      else if (c >= 65 && c <= 70) h = c - 55;
      else break;
      if (++d > 4) return false;
      v = v * 16 + h;
    }
    if (j < end && s.charCodeAt(j) === 46) {
      // IPv4 tail: takes the last two groups.
      const v4 = parseIPv4(s, i, end);
      if (v4 < 0 || n > 6) return false;
      g[n++] = v4 >>> 16; g[n++] = v4 & 0xffff;
      i = end;
      break;
    }
    if (d === 0 || n >= 8) return false;
    g[n++] = v;
    i = j;
    if (i === end) break;
    if (s.charCodeAt(i) !== 58) return false;
    i++;
    if (i < end && s.charCodeAt(i) === 58) {
      if (gap >= 0) return false;
      gap = n; i++;
      if (i === end) break;
    } else if (i === end) return false;
  }
  if (gap < 0 ? n !== 8 : n > 7) return false;
  // Group k of the full address: groups before the gap stay, those after it move to the end.
  const tail = gap < 0 ? 0 : n - gap;
  for (let k = 0; k < 4; k++) {
    const hi = groupAt(g, 2 * k, gap, tail), lo = groupAt(g, 2 * k + 1, gap, tail);
    out[k] = (hi * 65536 + lo) >>> 0;
  }
  return true;
}

function groupAt(g: Int32Array, k: number, gap: number, tail: number): number {
  if (gap < 0 || k < gap) return g[k];
  if (k >= 8 - tail) return g[gap + k - (8 - tail)];
  return 0;
}

export function formatIPv4(v: number): string {
  return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
}

/** RFC 5952 text form: lower case, longest run of two or more zero groups as ::. */
export function formatIPv6(w: ArrayLike<number>, off = 0): string {
  const g: number[] = [];
  for (let k = 0; k < 4; k++) { g.push(w[off + k] >>> 16, w[off + k] & 0xffff); }
  let best = -1, bestLen = 1;
  for (let k = 0; k < 8;) {
    if (g[k] !== 0) { k++; continue; }
    let e = k; while (e < 8 && g[e] === 0) e++;
    if (e - k > bestLen) { best = k; bestLen = e - k; }
    k = e;
  }
  const hex = (a: number[]) => a.map((x) => x.toString(16)).join(':');
  if (best < 0) return hex(g);
  return `${hex(g.slice(0, best))}::${hex(g.slice(best + bestLen))}`;
}

export type Family = 4 | 6;

/** An inclusive address range; first/last hold 1 word for IPv4, 4 for IPv6. */
export interface IpRange { family: Family; first: Uint32Array; last: Uint32Array }

/**
 * Parses an address, a CIDR (`192.0.2.0/24`, `2001:db8::/32`) or a range (`192.0.2.10-192.0.2.20`)
 * into first/last (4 words each; IPv4 uses word 0). Returns the family, or why it is not one.
 * Host bits set in a CIDR are an error (`192.0.2.1/24` is ambiguous: an address or a network?).
 * Allocates nothing on success: it runs once per netblock and per blocklist entry.
 */
export function parseRangeInto(input: string, first: Uint32Array, last: Uint32Array): Family | string {
  let start = 0, end = input.length;
  while (start < end && input.charCodeAt(start) <= 32) start++;
  while (end > start && input.charCodeAt(end - 1) <= 32) end--;
  const dash = input.indexOf('-', start);
  if (dash > 0 && dash < end) {
    const fa = parseAddressInto(input, start, trimEnd(input, start, dash), first);
    const fb = parseAddressInto(input, trimStart(input, dash + 1, end), end, last);
    if (!fa || !fb) return `not an address range: ${input}`;
    if (fa !== fb) return `range mixes IPv4 and IPv6: ${input}`;
    if (compareWords(first.subarray(0, fa === 4 ? 1 : 4), last.subarray(0, fa === 4 ? 1 : 4)) > 0) return `range ends before it starts: ${input}`;
    return fa;
  }
  let slash = input.indexOf('/', start);
  if (slash < 0 || slash >= end) slash = -1;
  const family = parseAddressInto(input, start, slash < 0 ? end : slash, first);
  if (!family) return `not an IP address: ${input}`;
  const w = family === 4 ? 1 : 4, bits = family === 4 ? 32 : 128;
  if (slash < 0) { for (let k = 0; k < w; k++) last[k] = first[k]; return family; }
  let plen = 0, digits = 0;
  for (let i = slash + 1; i < end; i++) {
    const c = input.charCodeAt(i);
    if (c < 48 || c > 57 || ++digits > 3) return `bad prefix length in ${input}`;
    plen = plen * 10 + c - 48;
  }
  if (digits === 0 || plen > bits) return `bad prefix length in ${input}`;
  if (applyPrefix(first, last, w, plen)) return `host bits set in ${input} (did you mean ${formatRange({ family, first: first.slice(0, w), last: last.slice(0, w) })}?)`;
  return family;
}

/**
 * Turns first[0..words) into the network of a /plen and last into its top address.
 * Returns true when first had host bits set (they are cleared).
 */
export function applyPrefix(first: Uint32Array, last: Uint32Array, words: number, plen: number): boolean {
  let hostBits = false;
  for (let k = 0; k < words; k++) {
    const keep = Math.max(0, Math.min(32, plen - 32 * k));
    const mask = keep === 0 ? 0 : (0xffffffff << (32 - keep)) >>> 0;
    const net = (first[k] & mask) >>> 0;
    if (net !== first[k]) hostBits = true;
    first[k] = net;
    last[k] = (net | ~mask) >>> 0;
  }
  return hostBits;
}

function trimStart(s: string, i: number, end: number): number { while (i < end && s.charCodeAt(i) <= 32) i++; return i; }
function trimEnd(s: string, start: number, i: number): number { while (i > start && s.charCodeAt(i - 1) <= 32) i--; return i; }

function parseAddressInto(s: string, start: number, end: number, out: Uint32Array): Family | 0 {
  const v4 = parseIPv4(s, start, end);
  if (v4 >= 0) { out[0] = v4; return 4; }
  return parseIPv6(s, out, start, end) ? 6 : 0;
}

const scratchFirst = new Uint32Array(4), scratchLast = new Uint32Array(4);

/** parseRangeInto, with the result in fresh arrays of the family's size. */
export function parseRange(input: string): IpRange | string {
  const family = parseRangeInto(input, scratchFirst, scratchLast);
  if (typeof family === 'string') return family;
  const w = family === 4 ? 1 : 4;
  return { family, first: scratchFirst.slice(0, w), last: scratchLast.slice(0, w) };
}

export function compareWords(a: ArrayLike<number>, b: ArrayLike<number>): number {
  for (let k = 0; k < a.length; k++) if (a[k] !== b[k]) return a[k] < b[k] ? -1 : 1;
  return 0;
}

/** Number of addresses in a range, as a float (exact up to 2^53). */
export function rangeSize(r: IpRange): number {
  let f = 0, l = 0;
  for (let k = 0; k < r.first.length; k++) { f = f * 4294967296 + r.first[k]; l = l * 4294967296 + r.last[k]; }
  return l - f + 1;
}

/** The shortest text for a range: an address, a CIDR when it is one, else first-last. */
export function formatRange(r: IpRange): string {
  const fmt = (w: Uint32Array) => (r.family === 4 ? formatIPv4(w[0]) : formatIPv6(w));
  if (compareWords(r.first, r.last) === 0) return fmt(r.first);
  const plen = cidrPrefix(r);
  return plen >= 0 ? `${fmt(r.first)}/${plen}` : `${fmt(r.first)}-${fmt(r.last)}`;
}

/** Prefix length if the range is exactly one CIDR, else -1. */
export function cidrPrefix(r: IpRange): number {
  let plen = 0, k = 0;
  for (; k < r.first.length; k++) {
    const x = (r.first[k] ^ r.last[k]) >>> 0;
    if (x === 0) { plen += 32; continue; }
    // The differing bits must be a run of ones at the bottom, first all 0 and last all 1 there.
    const bitsFree = 32 - Math.clz32(x);
    const low = bitsFree === 32 ? 0xffffffff : ((1 << bitsFree) - 1) >>> 0;
    if (x !== low || (r.first[k] & low) !== 0) return -1;
    plen += 32 - bitsFree;
    break;
  }
  for (k++; k < r.first.length; k++) if (r.first[k] !== 0 || r.last[k] !== 0xffffffff) return -1;
  return plen;
}
