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

interface NameEntry { id: number; holder: number; resource: string; from: number; to: number }

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
    private readonly nameEntries: NameEntry[],
    readonly conflicts: IndexConflict[],
    readonly conflictCount: number,
    readonly size: number,
  ) {}

  /** `assignments` may say how many it holds (`count`), so that the tables are made at that size. */
  static build(assignments: Iterable<AssignmentInput> & { count?: number }): AttributionIndex {
    const holders: Holder[] = [];
    const byService = new Map<string, number>();
    const capacity = Array.isArray(assignments) ? assignments.length : Math.max(1024, assignments.count ?? 0);
    const v4 = new NetblockList(1, capacity), v6 = new NetblockList(4, Math.max(1024, capacity >> 2));
    const v4resource: string[] = [], v6resource: string[] = [];
    const names = new Map<string, NameEntry[]>();
    const nameEntries: NameEntry[] = [];
    const first = new Uint32Array(4), last = new Uint32Array(4);
    let size = 0;
    for (const a of assignments) {
      let h = byService.get(a.holder.service_id);
      if (h === undefined) { h = holders.length; holders.push(a.holder); byService.set(a.holder.service_id, h); }
      const family = parseRangeInto(a.resource, first, last);
      if (family === 4) { v4.add(first, last, a.validFrom, a.validTo, h); v4resource.push(a.resource); }
      else if (family === 6) { v6.add(first, last, a.validFrom, a.validTo, h); v6resource.push(a.resource); }
      else {
        const name = normalizeName(a.resource);
        if (!name) throw new Error(`not an address, range or name: ${a.resource}`);
        const list = names.get(name) ?? [];
        const entry = { id: -1, holder: h, resource: a.resource, from: a.validFrom, to: a.validTo };
        list.push(entry);
        nameEntries.push(entry);
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
    nameEntries.forEach((e, i) => { e.id = v4.n + v6.n + i; });
    return new AttributionIndex(holders, b4.index, b6.index, h4, h6, v4resource, v6resource, names, nameEntries, conflicts,
      b4.conflictCount + b6.conflictCount + nameConflicts, size);
  }

  // Entries are numbered across the three tables: IPv4 ranges, then IPv6 ranges, then names.
  // find* return such a number (or -1) without allocating; entry() turns one into an Attribution.

  /** The entry holding an IPv4 address (uint32) at time `at` (ms since epoch), or -1. */
  findIPv4(ip: number, at: number): number {
    return this.v4.lookup4(ip, at);
  }

  findIPv6(words: ArrayLike<number>, at: number): number {
    if (words[0] === 0 && words[1] === 0 && words[2] === 0xffff) return this.v4.lookup4(words[3], at);
    const e = this.v6.lookup(words, at);
    return e < 0 ? -1 : this.v4holder.length + e;
  }

  findName(host: string, at: number): number {
    let name = normalizeName(host);
    while (name) {
      const list = this.names.get(name);
      if (list) for (const x of list) if (x.from <= at && at < x.to) return x.id;
      const dot = name.indexOf('.');
      if (dot < 0) break;
      name = name.slice(dot + 1);
    }
    return -1;
  }

  /**
   * Any resource as a person or a report gives it: an address, a CIDR or range (the most specific
   * block holding all of it), an IPv4-mapped IPv6 address, a URL, host:port, an e-mail address,
   * a domain or host name.
   */
  find(resource: string, at: number): number {
    const v4 = parseIPv4(resource);
    if (v4 >= 0) return this.v4.lookup4(v4, at);
    if (parseIPv6(resource, scratch)) return this.findIPv6(scratch, at);
    const s = resource.trim();
    if (!s) return -1;
    if (s !== resource) return this.find(s, at);
    if (s.includes('://')) {
      let host: string;
      try { host = new URL(s).hostname; } catch { return -1; }
      return this.find(host.startsWith('[') ? host.slice(1, -1) : host, at);
    }
    if (s.startsWith('[')) {
      const close = s.indexOf(']');
      return close > 0 ? this.find(s.slice(1, close), at) : -1;
    }
    if (/^[0-9a-f:.]+\s*[/-]/i.test(s)) {
      const r = parseRange(s);
      if (typeof r === 'string') return -1;
      const a = r.family === 4 ? this.findIPv4(r.first[0], at) : this.findIPv6(r.first, at);
      const b = r.family === 4 ? this.findIPv4(r.last[0], at) : this.findIPv6(r.last, at);
      // The block holding both ends holds everything between them.
      return a === b ? a : -1;
    }
    const atSign = s.lastIndexOf('@');
    if (atSign >= 0) return this.find(s.slice(atSign + 1), at);
    const colon = s.indexOf(':');
    if (colon > 0 && s.indexOf(':', colon + 1) < 0 && /^\d+$/.test(s.slice(colon + 1))) return this.find(s.slice(0, colon), at);
    return this.findName(s, at);
  }

  /** The holder of an entry found by find*, without allocating. */
  holder(id: number): Holder {
    const n4 = this.v4holder.length, n6 = this.v6holder.length;
    if (id < n4) return this.holders[this.v4holder[id]];
    if (id < n4 + n6) return this.holders[this.v6holder[id - n4]];
    return this.holders[this.nameEntries[id - n4 - n6].holder];
  }

  /** The inventory resource (address, CIDR, range or name) of an entry. */
  resourceOf(id: number): string {
    const n4 = this.v4resource.length, n6 = this.v6resource.length;
    if (id < n4) return this.v4resource[id];
    if (id < n4 + n6) return this.v6resource[id - n4];
    return this.nameEntries[id - n4 - n6].resource;
  }

  entry(id: number): Attribution {
    const h = this.holder(id);
    return { customer_id: h.customer_id, service_id: h.service_id, service_type: h.service_type, brand: h.brand, resource: this.resourceOf(id) };
  }

  attribute(resource: string, at: number = Date.now()): Attribution | null {
    const id = this.find(resource, at);
    return id < 0 ? null : this.entry(id);
  }

  /** Who held an IPv4 address (uint32) at time `at` (ms since epoch). */
  attributeIPv4(ip: number, at: number): Attribution | null {
    const id = this.findIPv4(ip, at);
    return id < 0 ? null : this.entry(id);
  }

  attributeIPv6(words: ArrayLike<number>, at: number): Attribution | null {
    const id = this.findIPv6(words, at);
    return id < 0 ? null : this.entry(id);
  }

  stats(): { assignments: number; v4Segments: number; v6Segments: number; names: number; holders: number } {
    return { assignments: this.size, v4Segments: this.v4.segments, v6Segments: this.v6.segments, names: this.names.size, holders: this.holders.length };
  }
}

const scratch = new Uint32Array(4);

/** Lower-case ASCII (punycode) form of a host name, no trailing dot, no wildcard; '' if not a name. */
export function normalizeName(s: string): string {
  let n = s.trim().toLowerCase().replace(/\.$/, '');
  if (n.startsWith('*.')) n = n.slice(2);
  if (!n || n.length > 253) return '';
  const ascii = /^[a-z0-9.-]+$/.test(n) ? n : domainToASCII(n);
  if (!ascii || !/^[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*$/.test(ascii)) return '';
  return ascii;
}
