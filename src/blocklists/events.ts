// Listings as desk events: a listing of a customer's address is an `other/blacklist` event (or
// the type its list's category or configuration names), and a delisting is an event too, so that
// the case about the listing records when it ended.
import { formatIPv4, formatIPv6, parseRange } from '../attribution/ip.js';
import { classify, type Event } from '../events/event.js';
import type { ListingRow } from './store.js';

/** What is known about the list a listing is on. */
export interface ListMeta {
  category?: string | null;
  maintainer?: string | null;
  url?: string | null;
  /** Classification type configured for the list. */
  type?: string;
  sourceDate?: string | null;
}

/** FireHOL categories to event types; every other category is a plain `blacklist`. */
const TYPE_BY_CATEGORY: Record<string, string> = { spam: 'spam', malware: 'malware', dnsbl: 'blacklist' };

export function eventType(meta: ListMeta): string {
  return meta.type ?? TYPE_BY_CATEGORY[meta.category ?? ''] ?? 'blacklist';
}

/** The first address the entry and the customer's netblock share: what attribution looks up. */
function firstShared(entry: string, netblock: string | null): string {
  const e = parseRange(entry);
  if (typeof e === 'string') return entry;
  const n = netblock ? parseRange(netblock) : null;
  let first = e.first;
  if (n && typeof n !== 'string' && n.family === e.family) {
    for (let k = 0; k < first.length; k++) if (n.first[k] !== first[k]) { if (n.first[k] > first[k]) first = n.first; break; }
  }
  return e.family === 4 ? formatIPv4(first[0]) : formatIPv6(first);
}

/** One event per listing; `delisted` events say the listing ended. */
export function listingEvents(rows: ListingRow[], meta: (list: string) => ListMeta, kind: 'listed' | 'delisted' = 'listed'): Event[] {
  return rows.map((r) => {
    const m = meta(r.list);
    const when = kind === 'listed' ? r.first_seen : r.delisted_at ?? r.last_seen;
    const e: Event = {
      'source.ip': firstShared(r.entry, r.netblock),
      'feed.name': r.list,
      'time.observation': new Date(when).toISOString(),
      'event_description.text': kind === 'listed'
        ? `${r.entry} is listed on ${r.list} (${r.ip_count} of our addresses${r.netblock ? ` in ${r.netblock}` : ''})`
        : `${r.entry} is no longer listed on ${r.list}`,
      'extra.blocklist.listing_id': r.id,
      'extra.blocklist.entry': r.entry,
      'extra.blocklist.ip_count': r.ip_count,
      'extra.blocklist.first_seen': new Date(r.first_seen).toISOString(),
      'extra.blocklist.delisted': kind === 'delisted',
      'extra.blocklist.category': m.category ?? null,
      'extra.customer_id': r.customer_id,
      'extra.service_id': r.service_id,
    };
    if (m.maintainer) e['feed.provider'] = m.maintainer;
    if (m.url) e['feed.url'] = m.url;
    if (m.sourceDate && kind === 'listed') e['time.source'] = new Date(m.sourceDate).toISOString();
    if (kind === 'delisted') e['extra.blocklist.delisted_at'] = new Date(when).toISOString();
    const codes = r.detail?.meanings;
    if (Array.isArray(codes)) e['extra.blocklist.codes'] = codes.map(String);
    return classify(e, eventType(m), r.list);
  });
}
