// The provider's address space as the matcher sees it: every IP assignment valid at one moment,
// as sorted owned ranges per family, each pointing at who held it then.
import { parseIPv4, parseIPv6 } from '../attribution/ip.js';
import type { Db } from '../store/db.js';
import { RangeBuilder, sortOwned, type OwnedRanges, type Ranges } from './ranges.js';

export interface Holder {
  assignment_id: string;
  customer_id: string;
  service_id: string;
  /** The assignment as written in the inventory (address, CIDR or range). */
  netblock: string;
}

export interface Inventory {
  v4: OwnedRanges;
  v6: OwnedRanges;
  holders: Holder[];
  /** The moment the inventory describes (ms since the epoch). */
  at: number;
}

/** Loads the IP assignments valid at `at` (history: whoever held an address then, not now). */
export async function loadInventory(db: Db, at: Date = new Date()): Promise<Inventory> {
  const r = await db.query<{ id: string; service_id: string; customer_id: string; resource: string; first: string; last: string }>(
    `SELECT a.id::text AS id, a.service_id, s.customer_id, a.resource, host(a.first_ip) AS first, host(a.last_ip) AS last
       FROM assignments a JOIN services s ON s.id = a.service_id
      WHERE a.kind = 'ip' AND a.valid_from <= $1 AND (a.valid_to IS NULL OR a.valid_to > $1)`,
    [at.toISOString()]);
  const holders: Holder[] = [];
  const v4 = new Owned(1), v6 = new Owned(4);
  const f = new Uint32Array(4), l = new Uint32Array(4);
  for (const row of r.rows) {
    const a = parseIPv4(row.first), b = parseIPv4(row.last);
    const holder = holders.length;
    if (a >= 0 && b >= 0) v4.add4(a, b, holder);
    else if (parseIPv6(row.first, f) && parseIPv6(row.last, l)) v6.add6(f, l, holder);
    else continue; // the inet columns always parse; a stray row is skipped rather than fatal
    holders.push({ assignment_id: row.id, customer_id: row.customer_id, service_id: row.service_id, netblock: row.resource });
  }
  return { v4: v4.sorted(), v6: v6.sorted(), holders, at: at.getTime() };
}

/** An inventory made of plain ranges (a netblock file), each its own holder: for checks and the benchmark. */
export function inventoryFromRanges(v4: Ranges, v6: Ranges, describe: (family: 4 | 6, i: number) => Holder): Inventory {
  const holders: Holder[] = [];
  const own = (r: Ranges, family: 4 | 6): OwnedRanges => {
    const owner = new Int32Array(r.n);
    for (let i = 0; i < r.n; i++) { owner[i] = holders.length; holders.push(describe(family, i)); }
    return sortOwned({ ...r, owner });
  };
  return { v4: own(v4, 4), v6: own(v6, 6), holders, at: Date.now() };
}

class Owned {
  private readonly ranges: RangeBuilder;
  private owner = new Int32Array(1024);
  constructor(w: 1 | 4) { this.ranges = new RangeBuilder(w); }
  private note(holder: number): void {
    if (this.ranges.n > this.owner.length) {
      const next = new Int32Array(this.owner.length * 2);
      next.set(this.owner);
      this.owner = next;
    }
    this.owner[this.ranges.n - 1] = holder;
  }
  add4(first: number, last: number, holder: number): void { this.ranges.push4(first, last); this.note(holder); }
  add6(first: Uint32Array, last: Uint32Array, holder: number): void { this.ranges.push6(first, last); this.note(holder); }
  sorted(): OwnedRanges {
    const r = this.ranges.ranges();
    return sortOwned({ ...r, owner: this.owner.subarray(0, r.n) });
  }
}
