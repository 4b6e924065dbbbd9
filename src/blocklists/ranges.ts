// The interval core of the blocklist watch: address ranges of one family in flat typed arrays,
// sorted and reduced so that every question (which inventory ranges does a list touch, how many
// addresses changed between two versions, how much do two lists overlap) is one linear sweep.
// IPv4 uses 1 uint32 word per address, IPv6 4 words (most significant first).
import { endianness } from 'node:os';

export type Words = 1 | 4;

/**
 * Ranges of one family: entry i has its first address in data[i*2w, i*2w+w) and its last address
 * in data[i*2w+w, i*2w+2w).
 */
export interface Ranges { w: Words; n: number; data: Uint32Array }

export function emptyRanges(w: Words): Ranges {
  return { w, n: 0, data: new Uint32Array(0) };
}

/** Collects ranges as they are parsed; grows by doubling. */
export class RangeBuilder {
  n = 0;
  data: Uint32Array;
  constructor(readonly w: Words, capacity = 1024) { this.data = new Uint32Array(capacity * 2 * w); }

  private room(): number {
    const stride = 2 * this.w;
    if ((this.n + 1) * stride > this.data.length) {
      const next = new Uint32Array(this.data.length * 2 || stride * 1024);
      next.set(this.data);
      this.data = next;
    }
    return this.n++ * stride;
  }

  push4(first: number, last: number): void {
    const at = this.room();
    this.data[at] = first;
    this.data[at + 1] = last;
  }

  push6(first: ArrayLike<number>, last: ArrayLike<number>): void {
    const at = this.room();
    for (let k = 0; k < 4; k++) { this.data[at + k] = first[k]; this.data[at + 4 + k] = last[k]; }
  }

  ranges(): Ranges { return { w: this.w, n: this.n, data: this.data.subarray(0, this.n * 2 * this.w) }; }
}

/** Compares the address at a[ai..ai+w) with b[bi..bi+w). */
function cmp(a: Uint32Array, ai: number, b: Uint32Array, bi: number, w: Words): number {
  for (let k = 0; k < w; k++) {
    const x = a[ai + k], y = b[bi + k];
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

/** Whether the address at a[ai..) is exactly one below the one at b[bi..) (a + 1 === b). */
function adjacent(a: Uint32Array, ai: number, b: Uint32Array, bi: number, w: Words): boolean {
  let carry = 1;
  for (let k = w - 1; k >= 0; k--) {
    const sum = a[ai + k] + carry;
    carry = sum > 0xffffffff ? 1 : 0;
    if ((sum >>> 0) !== b[bi + k]) return false;
  }
  return carry === 0;
}

/**
 * b - a for the addresses at a[ai..) and b[bi..), as a float. Word by word, so that the difference
 * keeps its precision even where the addresses themselves (IPv6) are far beyond 2^53.
 */
function minus(b: Uint32Array, bi: number, a: Uint32Array, ai: number, w: Words): number {
  let d = 0;
  for (let k = 0; k < w; k++) d = d * 4294967296 + (b[bi + k] - a[ai + k]);
  return d;
}

/** Addresses in the range d[first..) - d[last..) (exact for IPv4, a float for IPv6). */
export function span(d: Uint32Array, first: number, last: number, w: Words): number {
  return minus(d, last, d, first, w) + 1;
}

// Low / high uint32 halves of a uint64 in memory, so that IPv4 pairs sort as one BigUint64Array.
const LO = endianness() === 'LE' ? 0 : 1;
const HI = 1 - LO;

/**
 * Sorts entries by first address (ties: the widest first) and drops every entry that lies inside
 * an earlier one. What remains never nests, so first and last addresses both ascend: that is what
 * makes every sweep below linear. Entries are otherwise kept as listed (not merged), so that an
 * entry keeps its identity from one version of a list to the next.
 */
export function canonical(r: Ranges): Ranges {
  if (r.n === 0) return emptyRanges(r.w);
  return r.w === 1 ? canonical4(r) : canonicalWide(r);
}

function canonical4(r: Ranges): Ranges {
  const sorted = sortByFirst4(r.data, r.n);
  const out = new Uint32Array(r.n * 2);
  let n = 0, maxLast = -1;
  for (let i = 0; i < r.n; i++) {
    const first = sorted[2 * i], last = sorted[2 * i + 1];
    if (last <= maxLast) continue;
    // Same first address as the entry kept last, but wider: it replaces that entry.
    if (n > 0 && out[2 * n - 2] === first) n--;
    out[2 * n] = first;
    out[2 * n + 1] = last;
    maxLast = last;
    n++;
  }
  return { w: 1, n, data: out.slice(0, 2 * n) };
}

/**
 * IPv4 (first, last) pairs sorted by first address: a two-pass LSD radix sort on 16-bit digits,
 * linear in the number of entries (lists of millions of entries are the normal case).
 */
function sortByFirst4(data: Uint32Array, n: number): Uint32Array {
  let src = data.slice(0, 2 * n);
  // FireHOL's files (and most others) come sorted already.
  let sorted = true;
  for (let i = 1; i < n && sorted; i++) sorted = src[2 * i - 2] <= src[2 * i];
  if (sorted) return src;
  let dst = new Uint32Array(2 * n);
  const count = new Int32Array(65536);
  for (const shift of [0, 16]) {
    count.fill(0);
    for (let i = 0; i < n; i++) count[(src[2 * i] >>> shift) & 0xffff]++;
    for (let d = 0, sum = 0; d < 65536; d++) { const c = count[d]; count[d] = sum; sum += c; }
    for (let i = 0; i < n; i++) {
      const at = count[(src[2 * i] >>> shift) & 0xffff]++;
      dst[2 * at] = src[2 * i];
      dst[2 * at + 1] = src[2 * i + 1];
    }
    [src, dst] = [dst, src];
  }
  return src;
}

function canonicalWide(r: Ranges): Ranges {
  const w = r.w, stride = 2 * w, d = r.data;
  const order = new Int32Array(r.n);
  for (let i = 0; i < r.n; i++) order[i] = i;
  order.sort((a, b) => cmp(d, a * stride, d, b * stride, w) || cmp(d, b * stride + w, d, a * stride + w, w));
  const out = new Uint32Array(r.n * stride);
  let n = 0;
  for (let i = 0; i < r.n; i++) {
    const at = order[i] * stride;
    if (n > 0 && cmp(d, at + w, out, (n - 1) * stride + w, w) <= 0) continue;
    out.set(d.subarray(at, at + stride), n * stride);
    n++;
  }
  return { w, n, data: out.slice(0, n * stride) };
}

/** Joins overlapping and adjacent entries of a canonical set: disjoint, sorted ranges. */
export function merged(r: Ranges): Ranges {
  const w = r.w, stride = 2 * w, d = r.data;
  const out = new Uint32Array(r.n * stride);
  let n = 0;
  for (let i = 0; i < r.n; i++) {
    const at = i * stride, top = (n - 1) * stride;
    if (n > 0 && (cmp(d, at, out, top + w, w) <= 0 || adjacent(out, top + w, d, at, w))) {
      if (cmp(d, at + w, out, top + w, w) > 0) out.set(d.subarray(at + w, at + stride), top + w);
      continue;
    }
    out.set(d.subarray(at, at + stride), n * stride);
    n++;
  }
  return { w, n, data: out.slice(0, n * stride) };
}

/** Number of addresses in a set of disjoint ranges. */
export function addressCount(r: Ranges): number {
  let total = 0;
  const stride = 2 * r.w;
  for (let i = 0; i < r.n; i++) total += span(r.data, i * stride, i * stride + r.w, r.w);
  return total;
}

/** Number of addresses two sets of disjoint sorted ranges have in common. */
export function commonCount(a: Ranges, b: Ranges): number {
  const w = a.w, stride = 2 * w, x = a.data, y = b.data;
  const lo = new Uint32Array(w), hi = new Uint32Array(w);
  let i = 0, j = 0, total = 0;
  while (i < a.n && j < b.n) {
    const ai = i * stride, bj = j * stride;
    const firstAt = cmp(x, ai, y, bj, w) >= 0 ? [x, ai] as const : [y, bj] as const;
    const aEndsFirst = cmp(x, ai + w, y, bj + w, w) <= 0;
    const lastAt = aEndsFirst ? [x, ai + w] as const : [y, bj + w] as const;
    if (cmp(firstAt[0], firstAt[1], lastAt[0], lastAt[1], w) <= 0) {
      lo.set(firstAt[0].subarray(firstAt[1], firstAt[1] + w));
      hi.set(lastAt[0].subarray(lastAt[1], lastAt[1] + w));
      total += minus(hi, 0, lo, 0, w) + 1;
    }
    if (aEndsFirst) i++; else j++;
  }
  return total;
}

/**
 * Ranges to match lists against, each with an owner number, sorted by first address. They may
 * overlap (a reseller's block and a customer's address inside it, or successive holders).
 */
export interface OwnedRanges extends Ranges { owner: Int32Array }

/** Sorts owned ranges by first address. */
export function sortOwned(r: OwnedRanges): OwnedRanges {
  const w = r.w, stride = 2 * w, d = r.data;
  const order = new Int32Array(r.n);
  for (let i = 0; i < r.n; i++) order[i] = i;
  order.sort((a, b) => cmp(d, a * stride, d, b * stride, w));
  const data = new Uint32Array(r.n * stride), owner = new Int32Array(r.n);
  for (let i = 0; i < r.n; i++) {
    data.set(d.subarray(order[i] * stride, order[i] * stride + stride), i * stride);
    owner[i] = r.owner[order[i]];
  }
  return { w, n: r.n, data, owner };
}

/**
 * Every (list entry, owned range) pair that shares addresses, with the number shared. `list` must
 * be canonical and `owned` sorted by first address. A merge sweep: the list cursor only moves
 * forward, because both first and last addresses of a canonical list ascend.
 */
export function intersect(list: Ranges, owned: OwnedRanges, hit: (entry: number, ownedIndex: number, shared: number) => void): void {
  if (list.w === 1) return intersect4(list, owned, hit);
  const w = list.w, stride = 2 * w, L = list.data, O = owned.data;
  const lo = new Uint32Array(w), hi = new Uint32Array(w);
  let j = 0;
  for (let i = 0; i < owned.n && j < list.n; i++) {
    const oi = i * stride;
    while (j < list.n && cmp(L, j * stride + w, O, oi, w) < 0) j++;
    for (let k = j; k < list.n && cmp(L, k * stride, O, oi + w, w) <= 0; k++) {
      const lk = k * stride;
      lo.set(cmp(L, lk, O, oi, w) >= 0 ? L.subarray(lk, lk + w) : O.subarray(oi, oi + w));
      hi.set(cmp(L, lk + w, O, oi + w, w) <= 0 ? L.subarray(lk + w, lk + stride) : O.subarray(oi + w, oi + stride));
      hit(k, i, minus(hi, 0, lo, 0, w) + 1);
    }
  }
}

function intersect4(list: Ranges, owned: OwnedRanges, hit: (entry: number, ownedIndex: number, shared: number) => void): void {
  const L = list.data, O = owned.data;
  let j = 0;
  for (let i = 0; i < owned.n && j < list.n; i++) {
    const first = O[2 * i], last = O[2 * i + 1];
    while (j < list.n && L[2 * j + 1] < first) j++;
    for (let k = j; k < list.n && L[2 * k] <= last; k++) {
      hit(k, i, Math.min(L[2 * k + 1], last) - Math.max(L[2 * k], first) + 1);
    }
  }
}

/**
 * Addresses shared by every pair of lists, for disjoint sorted sets of one family: one sweep over
 * all range boundaries instead of a sweep per pair. Returns a symmetric n*n matrix (the diagonal
 * holds each list's own size).
 */
export function pairwiseOverlap(sets: Ranges[]): Float64Array {
  const n = sets.length, out = new Float64Array(n * n);
  if (n === 0) return out;
  const w = sets[0].w;
  const b = w === 1 ? boundaries4(sets) : boundariesWide(sets, w);
  const active: number[] = [];
  const pos = new Int32Array(n).fill(-1);
  // An address plus a flag word: 1 means "just after this address", so that a range ending at the
  // very last address of the space still has somewhere to stop.
  let prev = new Uint32Array(w + 1), cur = new Uint32Array(w + 1);
  for (let x = 0; x < b.count; x++) {
    b.at(x, cur);
    if (active.length > 0) {
      const len = minus(cur, 0, prev, 0, w) + cur[w] - prev[w];
      if (len > 0) {
        for (let p = 0; p < active.length; p++) {
          for (let q = p; q < active.length; q++) {
            out[active[p] * n + active[q]] += len;
            if (p !== q) out[active[q] * n + active[p]] += len;
          }
        }
      }
    }
    const li = b.list(x);
    if (cur[w] === 0) { pos[li] = active.length; active.push(li); }
    else {
      const k = pos[li], moved = active.pop()!;
      if (k < active.length) { active[k] = moved; pos[moved] = k; }
      pos[li] = -1;
    }
    [prev, cur] = [cur, prev];
  }
  return out;
}

/** Range boundaries of several lists in address order (a start before a stop at one address). */
interface Boundaries {
  count: number;
  /** Writes the address words and the stop flag of boundary x. */
  at(x: number, into: Uint32Array): void;
  list(x: number): number;
}

/** IPv4: one native sort of 64-bit keys (address << 32 | stop << 31 | list); 8 bytes a boundary. */
function boundaries4(sets: Ranges[]): Boundaries {
  let count = 0;
  for (const s of sets) count += 2 * s.n;
  if (sets.length >= 0x80000000) throw new RangeError('too many lists for one overlap sweep');
  const keys = new BigUint64Array(count);
  const half = new Uint32Array(keys.buffer);
  let b = 0;
  sets.forEach((s, li) => {
    for (let i = 0; i < s.n; i++) {
      half[2 * b + HI] = s.data[2 * i]; half[2 * b + LO] = li; b++;
      half[2 * b + HI] = s.data[2 * i + 1]; half[2 * b + LO] = (0x80000000 | li) >>> 0; b++;
    }
  });
  keys.sort();
  return {
    count,
    at(x, into) { into[0] = half[2 * x + HI]; into[1] = half[2 * x + LO] >>> 31; },
    list(x) { return half[2 * x + LO] & 0x7fffffff; },
  };
}

/** IPv6: boundaries as words plus flag, ordered through an index sort. */
function boundariesWide(sets: Ranges[], w: Words): Boundaries {
  const stride = 2 * w, s = w + 1;
  let count = 0;
  for (const set of sets) count += 2 * set.n;
  const at = new Uint32Array(count * s), who = new Int32Array(count);
  let b = 0;
  sets.forEach((set, li) => {
    for (let i = 0; i < set.n; i++) {
      at.set(set.data.subarray(i * stride, i * stride + w), b * s); who[b++] = li;
      at.set(set.data.subarray(i * stride + w, i * stride + stride), b * s); at[b * s + w] = 1; who[b++] = li;
    }
  });
  const order = new Int32Array(count);
  for (let i = 0; i < count; i++) order[i] = i;
  order.sort((x, y) => {
    for (let k = 0; k < s; k++) if (at[x * s + k] !== at[y * s + k]) return at[x * s + k] < at[y * s + k] ? -1 : 1;
    return 0;
  });
  return {
    count,
    at(x, into) { into.set(at.subarray(order[x] * s, order[x] * s + s)); },
    list(x) { return who[order[x]]; },
  };
}
