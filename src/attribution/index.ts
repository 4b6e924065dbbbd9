// The attribution index: given an address or a name and a time, who held it then. Addresses go
// to the netblock index (longest prefix / most specific range wins); names go to a suffix walk
// (www.shop.example.jp finds example.jp unless a more specific name is assigned).
import { domainToASCII } from 'node:url';
import { buildNetIndex, NetblockList, type NetIndex } from './netindex.js';
import { parseIPv4, parseIPv6, parseRange, parseRangeInto } from './ip.js';

export interface Holder {
  customer_id: string;
  service_id: string;
  service_type: string;
  brand: string;
}

export interface Attribution extends Holder {
  /** The inventory resource that matched (address, CIDR, range or name). */
  resource: string;
}

export interface AssignmentInput {
  holder: Holder;
  resource: string;
  validFrom: number;
  validTo: number;
}

export interface IndexConflict { resource: string; holder: string; other: string; otherHolder: string; kind: 'same-range' | 'overlap' | 'same-name' }

interface NameEntry { holder: number; resource: string; from: number; to: number }

export class AttributionIndex {
  private constructor(
    private readonly holders: Holder[],
    private readonly v4: NetIndex,
    private readonly v6: NetIndex,
    private readonly v4holder: Int32Array,
    private readonly v6holder: Int32Array,
    private readonly v4resource: string[],
    private readonly v6resource: string[],
    private readonly names: Map<string, NameEntry[]>,
    readonly conflicts: IndexConflict[],
    readonly conflictCount: number,
    readonly size: number,
  ) {}

  static build(assignments: Iterable<AssignmentInput>): AttributionIndex {
    const holders: Holder[] = [];
    // Rows of one service usually share one holder object: look it up by identity first.
    const byObject = new Map<Holder, number>(), byService = new Map<string, number>();
    const capacity = Array.isArray(assignments) ? assignments.length : 1024;
    const v4 = new NetblockList(1, capacity), v6 = new NetblockList(4, Math.max(1024, capacity >> 2));
    const v4resource: string[] = [], v6resource: string[] = [];
    const names = new Map<string, NameEntry[]>();
    const first = new Uint32Array(4), last = new Uint32Array(4);
    let size = 0;
    for (const a of assignments) {
      let h = byObject.get(a.holder);
      if (h === undefined) {
        h = byService.get(a.holder.service_id);
        if (h === undefined) { h = holders.length; holders.push(a.holder); byService.set(a.holder.service_id, h); }
        byObject.set(a.holder, h);
      }
      const family = parseRangeInto(a.resource, first, last);
      if (family === 4) { v4.add(first, last, a.validFrom, a.validTo, h); v4resource.push(a.resource); }
      else if (family === 6) { v6.add(first, last, a.validFrom, a.validTo, h); v6resource.push(a.resource); }
      else {
        const name = normalizeName(a.resource);
        if (!name) throw new Error(`not an address, range or name: ${a.resource}`);
        const list = names.get(name) ?? [];
        list.push({ holder: h, resource: a.resource, from: a.validFrom, to: a.validTo });
        names.set(name, list);
      }
      size++;
    }
    const b4 = buildNetIndex(v4), b6 = buildNetIndex(v6);
    const holderIds = (l: NetblockList) => l.holder.slice(0, l.n);
    const conflicts: IndexConflict[] = [];
    const describe = (list: string[], hs: Int32Array) => (c: { a: number; b: number; kind: 'same-range' | 'overlap' }) => conflicts.push({
      resource: list[c.b], holder: holders[hs[c.b]].service_id, other: list[c.a], otherHolder: holders[hs[c.a]].service_id, kind: c.kind,
    });
    const h4 = holderIds(v4), h6 = holderIds(v6);
    b4.conflicts.forEach(describe(v4resource, h4));
    b6.conflicts.forEach(describe(v6resource, h6));
    let nameConflicts = 0;
    for (const [name, list] of names) {
      list.sort((x, y) => y.from - x.from);
      for (let i = 0; i < list.length; i++) for (let j = i + 1; j < list.length; j++) {
        const x = list[i], y = list[j];
        if (x.holder !== y.holder && x.from < y.to && y.from < x.to) {
          nameConflicts++;
          conflicts.push({ resource: name, holder: holders[x.holder].service_id, other: name, otherHolder: holders[y.holder].service_id, kind: 'same-name' });
        }
      }
    }
    return new AttributionIndex(holders, b4.index, b6.index, h4, h6, v4resource, v6resource, names, conflicts,
      b4.conflictCount + b6.conflictCount + nameConflicts, size);
  }

  /** Who held an IPv4 address (uint32) at time `at` (ms since epoch). */
  attributeIPv4(ip: number, at: number): Attribution | null {
    const e = this.v4.lookup4(ip, at);
    return e < 0 ? null : result(this.holders[this.v4holder[e]], this.v4resource[e]);
  }

  /** The holder only, without allocating: for hot loops that need just the service. */
  holderOfIPv4(ip: number, at: number): Holder | null {
    const e = this.v4.lookup4(ip, at);
    return e < 0 ? null : this.holders[this.v4holder[e]];
  }

  holderOfIPv6(words: ArrayLike<number>, at: number): Holder | null {
    const e = this.v6.lookup(words, at);
    return e < 0 ? null : this.holders[this.v6holder[e]];
  }

  attributeIPv6(words: ArrayLike<number>, at: number): Attribution | null {
    const e = this.v6.lookup(words, at);
    return e < 0 ? null : result(this.holders[this.v6holder[e]], this.v6resource[e]);
  }

  attributeName(host: string, at: number): Attribution | null {
    let name = normalizeName(host);
    while (name) {
      const list = this.names.get(name);
      if (list) {
        for (const x of list) if (x.from <= at && at < x.to) return result(this.holders[x.holder], x.resource);
      }
      const dot = name.indexOf('.');
      if (dot < 0) break;
      name = name.slice(dot + 1);
    }
    return null;
  }

  /**
   * Any resource as a person or a report gives it: an address, a CIDR or range (attributed when
   * one holder has all of it), an IPv4-mapped IPv6 address, a URL, host:port, an e-mail address,
   * a domain or host name.
   */
  attribute(resource: string, at: number = Date.now()): Attribution | null {
    const s = resource.trim();
    if (!s) return null;
    const v4 = parseIPv4(s);
    if (v4 >= 0) return this.attributeIPv4(v4, at);
    const w = scratch;
    if (parseIPv6(s, w)) return this.attributeV6OrMapped(w, at);
    if (s.includes('://')) {
      let host: string;
      try { host = new URL(s).hostname; } catch { return null; }
      return this.attribute(host.startsWith('[') ? host.slice(1, -1) : host, at);
    }
    if (s.startsWith('[')) {
      const close = s.indexOf(']');
      return close > 0 ? this.attribute(s.slice(1, close), at) : null;
    }
    if (/[/-]/.test(s) && /^[0-9a-f:.]+\s*[/-]/i.test(s)) {
      const r = parseRange(s);
      if (typeof r === 'string') return null;
      const a = r.family === 4 ? this.attributeIPv4(r.first[0], at) : this.attributeIPv6(r.first, at);
      const b = r.family === 4 ? this.attributeIPv4(r.last[0], at) : this.attributeIPv6(r.last, at);
      return a && b && a.service_id === b.service_id && a.resource === b.resource ? a : null;
    }
    const at_ = s.lastIndexOf('@');
    if (at_ >= 0) return this.attribute(s.slice(at_ + 1), at);
    const colon = s.indexOf(':');
    if (colon > 0 && s.indexOf(':', colon + 1) < 0 && /^\d+$/.test(s.slice(colon + 1))) return this.attribute(s.slice(0, colon), at);
    return this.attributeName(s, at);
  }

  private attributeV6OrMapped(w: Uint32Array, at: number): Attribution | null {
    if (w[0] === 0 && w[1] === 0 && w[2] === 0xffff) return this.attributeIPv4(w[3], at);
    return this.attributeIPv6(w, at);
  }

  stats(): { assignments: number; v4Segments: number; v6Segments: number; names: number; holders: number } {
    return { assignments: this.size, v4Segments: this.v4.segments, v6Segments: this.v6.segments, names: this.names.size, holders: this.holders.length };
  }
}

const scratch = new Uint32Array(4);

function result(h: Holder, resource: string): Attribution {
  return { customer_id: h.customer_id, service_id: h.service_id, service_type: h.service_type, brand: h.brand, resource };
}

/** Lower-case ASCII (punycode) form of a host name, no trailing dot, no wildcard; '' if not a name. */
export function normalizeName(s: string): string {
  let n = s.trim().toLowerCase().replace(/\.$/, '');
  if (n.startsWith('*.')) n = n.slice(2);
  if (!n || n.length > 253) return '';
  const ascii = /^[a-z0-9.-]+$/.test(n) ? n : domainToASCII(n);
  if (!ascii || !/^[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*$/.test(ascii)) return '';
  return ascii;
}
