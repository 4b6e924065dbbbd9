// A list against the inventory: every list entry that covers addresses of an assignment, with the
// number of addresses it covers there and who held them.
import { formatRange, type Family } from '../attribution/ip.js';
import type { Inventory } from './inventory.js';
import { intersect, type Ranges } from './ranges.js';
import type { Hit } from './store.js';

export interface ListSets { v4: Ranges; v6: Ranges }

export function entryText(r: Ranges, i: number): string {
  const w = r.w, at = i * 2 * w;
  const family: Family = w === 1 ? 4 : 6;
  return formatRange({ family, first: r.data.subarray(at, at + w), last: r.data.subarray(at + w, at + 2 * w) });
}

export function matchList(list: ListSets, inv: Inventory): Hit[] {
  const hits: Hit[] = [];
  for (const [ranges, owned] of [[list.v4, inv.v4], [list.v6, inv.v6]] as const) {
    intersect(ranges, owned, (entry, i, shared) => {
      const h = inv.holders[owned.owner[i]];
      hits.push({
        entry: entryText(ranges, entry), ipCount: shared,
        assignmentId: h.assignment_id, customerId: h.customer_id, serviceId: h.service_id, netblock: h.netblock,
      });
    });
  }
  return hits;
}
