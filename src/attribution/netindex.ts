// The netblock index: every assigned address range (with its validity period) flattened into
// disjoint segments, each pointing at the ranges that cover it, most specific first. A lookup is
// one binary search plus a walk of a short list, so that history-aware, longest-prefix attribution
// costs about as much as a plain longest-prefix match.
import { compareWords } from './ip.js';

export interface NetblockConflict {
  /** Entry numbers (as given to the builder) of two ranges held by different holders at once. */
  a: number;
  b: number;
  kind: 'same-range' | 'overlap';
}

export interface NetIndexBuild {
  index: NetIndex;
  conflicts: NetblockConflict[];
  conflictCount: number;
}

const MAX_CONFLICTS_KEPT = 1000;

/**
 * Entries for one address family. `words` is 1 (IPv4) or 4 (IPv6); first/last hold `words`
 * uint32 per entry. `holder` says who holds the range (a service number): ranges of the same
 * holder overlapping are not conflicts.
 */
export class NetblockList {
  n = 0;
  first: Uint32Array;
  last: Uint32Array;
  size: Float64Array;
  from: Float64Array;
  to: Float64Array;
  holder: Int32Array;
  constructor(readonly words: 1 | 4, capacity = 1024) {
    this.first = new Uint32Array(capacity * words);
    this.last = new Uint32Array(capacity * words);
    this.size = new Float64Array(capacity);
    this.from = new Float64Array(capacity);
    this.to = new Float64Array(capacity);
    this.holder = new Int32Array(capacity);
  }

  /** Adds a range; returns its entry number. validTo may be Infinity. */
  add(first: ArrayLike<number>, last: ArrayLike<number>, validFrom: number, validTo: number, holder: number): number {
    if (this.n === this.size.length) this.grow();
    const i = this.n++, w = this.words;
    let f = 0, l = 0;
    for (let k = 0; k < w; k++) {
      this.first[i * w + k] = first[k];
      this.last[i * w + k] = last[k];
      f = f * 4294967296 + first[k];
      l = l * 4294967296 + last[k];
    }
    this.size[i] = l - f + 1;
    this.from[i] = validFrom;
    this.to[i] = validTo;
    this.holder[i] = holder;
    return i;
  }

  private grow(): void {
    const cap = this.size.length * 2, w = this.words;
    const g = <T extends Uint32Array | Float64Array | Int32Array>(a: T, len: number): T => {
      const b = new (a.constructor as new (n: number) => T)(len);
      b.set(a);
      return b;
    };
    this.first = g(this.first, cap * w);
    this.last = g(this.last, cap * w);
    this.size = g(this.size, cap);
    this.from = g(this.from, cap);
    this.to = g(this.to, cap);
    this.holder = g(this.holder, cap);
  }
}

export class NetIndex {
  /** top16[t] = the first segment starting at or above t << 16 (IPv4 only): narrows every search to one /16. */
  private readonly top16: Int32Array;

  constructor(
    private readonly words: 1 | 4,
    /** Segment start addresses, `words` uint32 each, ascending. */
    private readonly segStart: Uint32Array,
    /**
     * The entries covering each segment, most specific first (then newest first), as
     * (valid from, valid to, entry number) triples. The first one of segment s is head[3s..3s+2]
     * (from = to = 0 when nothing covers s), so that a lookup usually reads one place after the
     * search; the others are rest[3k..] for k in restOff[s] .. restOff[s + 1].
     */
    private readonly head: Float64Array,
    private readonly restOff: Int32Array,
    private readonly rest: Float64Array,
  ) {
    this.top16 = new Int32Array(words === 1 ? 65537 : 0);
    if (words === 1) {
      let seg = 0;
      for (let t = 0; t <= 65536; t++) {
        const base = t * 65536;
        while (seg < segStart.length && segStart[seg] < base) seg++;
        this.top16[t] = seg;
      }
    }
  }

  get segments(): number { return this.restOff.length - 1; }

  /** The entry number holding `addr` at time `at` (ms), or -1. */
  lookup(addr: ArrayLike<number>, at: number): number {
    return this.pick(this.words === 1 ? this.find4(addr[0]) : this.find6(addr), at);
  }

  /** IPv4 fast path: the entry for a uint32 address. */
  lookup4(ip: number, at: number): number {
    return this.pick(this.find4(ip), at);
  }

  private pick(s: number, at: number): number {
    if (s < 0) return -1;
    const head = this.head, h = s * 3;
    if (head[h] <= at && at < head[h + 1]) return head[h + 2];
    const rest = this.rest, end = this.restOff[s + 1] * 3;
    for (let k = this.restOff[s] * 3; k < end; k += 3) {
      if (rest[k] <= at && at < rest[k + 1]) return rest[k + 2];
    }
    return -1;
  }

  private find4(ip: number): number {
    // The /16 table narrows the search to the segments starting in ip's /16 plus the one before.
    const a = this.segStart, top = ip >>> 16;
    let lo = this.top16[top] - 1, n = this.top16[top + 1] - lo;
    if (lo < 0) { lo = 0; n--; if (n <= 0 || a[0] > ip) return -1; }
    // Branch-free halving: lo stays on a segment starting at or below ip.
    while (n > 1) {
      const half = n >>> 1;
      lo = a[lo + half] <= ip ? lo + half : lo;
      n -= half;
    }
    return lo;
  }

  private find6(w: ArrayLike<number>): number {
    const a = this.segStart;
    let lo = 0, hi = (a.length >> 2) - 1, ans = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1, o = mid << 2;
      let c = 0;
      for (let k = 0; k < 4; k++) { const x = a[o + k], y = w[k]; if (x !== y) { c = x < y ? -1 : 1; break; } }
      if (c <= 0) { ans = mid; lo = mid + 1; } else hi = mid - 1;
    }
    return ans;
  }
}

/** Flattens the ranges into segments (a sweep over all range boundaries). */
export function buildNetIndex(list: NetblockList): NetIndexBuild {
  const { words: w, n } = list;
  // Boundaries: every range's first address and the address after its last.
  const raw = new Uint32Array(2 * n * w);
  let nb = 0;
  const ends = new Uint8Array(n); // 1 when last is the family's top address (no "after")
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < w; k++) raw[nb * w + k] = list.first[i * w + k];
    nb++;
    if (incrementInto(list.last, i * w, w, raw, nb * w)) nb++; else ends[i] = 1;
  }
  const bounds = sortUnique(raw, nb, w);
  const nbu = bounds.length / w;

  const startSeg = new Int32Array(n), endSeg = new Int32Array(n);
  const tmp = new Uint32Array(w);
  for (let i = 0; i < n; i++) {
    startSeg[i] = searchExact(bounds, list.first, i * w, w);
    if (ends[i]) endSeg[i] = nbu;
    else { incrementInto(list.last, i * w, w, tmp, 0); endSeg[i] = searchExact(bounds, tmp, 0, w); }
  }
  // Bucket entries by the segment where they begin and end (counting sort).
  const byStart = bucket(startSeg, nbu + 1), byEnd = bucket(endSeg, nbu + 1);

  // Every boundary starts or ends a range, so each one opens a segment of its own: the segments
  // are the boundaries, and the sweep writes each one's covering entries straight into head/rest.
  const head = new Float64Array(nbu * 3), restOff = new Int32Array(nbu + 1);
  let rest = new Float64Array(Math.max(48, n)), nRest = 0;
  const put = (to: Float64Array, at: number, e: number) => { to[at] = list.from[e]; to[at + 1] = list.to[e]; to[at + 2] = e; };
  // Ranges covering the current segment, most specific first; usually a handful.
  let active = new Int32Array(16);
  let nActive = 0;
  const conflicts: NetblockConflict[] = [];
  let conflictCount = 0;
  const before = (a: number, b: number) =>
    list.size[a] < list.size[b] || (list.size[a] === list.size[b] && list.from[a] > list.from[b]);

  for (let s = 0; s < nbu; s++) {
    for (let k = byEnd.off[s]; k < byEnd.off[s + 1]; k++) {
      const e = byEnd.items[k];
      let i = 0;
      while (active[i] !== e) i++;
      active.copyWithin(i, i + 1, nActive--);
    }
    for (let k = byStart.off[s]; k < byStart.off[s + 1]; k++) {
      const e = byStart.items[k];
      for (let i = 0; i < nActive; i++) {
        const a = active[i];
        if (list.holder[a] !== list.holder[e] && list.from[a] < list.to[e] && list.from[e] < list.to[a]) {
          conflictCount++;
          if (conflicts.length < MAX_CONFLICTS_KEPT) {
            const same = list.size[a] === list.size[e] && compareWords(list.first.subarray(a * w, a * w + w), list.first.subarray(e * w, e * w + w)) === 0;
            conflicts.push({ a, b: e, kind: same ? 'same-range' : 'overlap' });
          }
        }
      }
      if (nActive === active.length) { const bigger = new Int32Array(active.length * 2); bigger.set(active); active = bigger; }
      let pos = nActive;
      while (pos > 0 && before(e, active[pos - 1])) pos--;
      active.copyWithin(pos + 1, pos, nActive++);
      active[pos] = e;
    }
    restOff[s] = nRest;
    if (nActive === 0) continue; // head stays (0, 0, 0): valid at no time
    put(head, s * 3, active[0]);
    if ((nRest + nActive) * 3 > rest.length) { const bigger = new Float64Array((nRest + nActive) * 6); bigger.set(rest); rest = bigger; }
    for (let i = 1; i < nActive; i++) put(rest, 3 * nRest++, active[i]);
  }
  restOff[nbu] = nRest;
  const index = new NetIndex(w, bounds, head, restOff, rest.slice(0, nRest * 3));
  return { index, conflicts, conflictCount };
}

/** Writes src[at..at+w) + 1 into dst[to..]; false when src is the top address (no successor). */
function incrementInto(src: Uint32Array, at: number, w: number, dst: Uint32Array, to: number): boolean {
  let carry = 1;
  for (let k = w - 1; k >= 0; k--) {
    const v = src[at + k] + carry;
    dst[to + k] = v >>> 0;
    carry = v > 0xffffffff ? 1 : 0;
  }
  return carry === 0;
}

function sortUnique(raw: Uint32Array, count: number, w: number): Uint32Array {
  if (w === 1) {
    const a = raw.slice(0, count).sort();
    let m = 0;
    for (let i = 0; i < count; i++) if (i === 0 || a[i] !== a[m - 1]) a[m++] = a[i];
    return a.slice(0, m);
  }
  const idx = new Int32Array(count);
  for (let i = 0; i < count; i++) idx[i] = i;
  idx.sort((x, y) => {
    for (let k = 0; k < 4; k++) { const a = raw[x * 4 + k], b = raw[y * 4 + k]; if (a !== b) return a < b ? -1 : 1; }
    return 0;
  });
  const out = new Uint32Array(count * 4);
  let m = 0;
  for (let i = 0; i < count; i++) {
    const x = idx[i] * 4;
    if (m > 0 && raw[x] === out[(m - 1) * 4] && raw[x + 1] === out[(m - 1) * 4 + 1] && raw[x + 2] === out[(m - 1) * 4 + 2] && raw[x + 3] === out[(m - 1) * 4 + 3]) continue;
    out.set(raw.subarray(x, x + 4), m * 4);
    m++;
  }
  return out.slice(0, m * 4);
}

function searchExact(bounds: Uint32Array, key: Uint32Array, at: number, w: number): number {
  let lo = 0, hi = bounds.length / w - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    let c = 0;
    for (let k = 0; k < w; k++) { const x = bounds[mid * w + k], y = key[at + k]; if (x !== y) { c = x < y ? -1 : 1; break; } }
    if (c === 0) return mid;
    if (c < 0) lo = mid + 1; else hi = mid - 1;
  }
  throw new Error('netindex: boundary not found');
}

function bucket(keys: Int32Array, buckets: number): { off: Int32Array; items: Int32Array } {
  const off = new Int32Array(buckets + 1);
  for (let i = 0; i < keys.length; i++) off[keys[i] + 1]++;
  for (let b = 0; b < buckets; b++) off[b + 1] += off[b];
  const fill = off.slice(0, buckets);
  const items = new Int32Array(keys.length);
  for (let i = 0; i < keys.length; i++) items[fill[keys[i]]++] = i;
  return { off, items };
}
