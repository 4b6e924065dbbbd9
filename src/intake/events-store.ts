// Writing events: each flat event gets its attribution (which customer and service the reported
// resource belonged to at the event's time) and the columns case work selects on, and goes into
// the `events` table in batches of one statement.
import type { Desk } from '../desk.js';
import type { Event } from '../events/event.js';
import { parseIPv4, parseIPv6 } from '../attribution/ip.js';
import type { Db } from '../store/db.js';
import type { StoredEvent } from './sinks.js';

/** An event ready for its row: attributed, timed, cleaned. */
export interface EventRow {
  reportId: number | null;
  /** 'report' for events parsed from a report; 'blocklist:NAME', 'detection:JAIL', ... otherwise. */
  source: string;
  time: string;
  sourceIp: string | null;
  classificationType: string | null;
  customerId: string | null;
  serviceId: string | null;
  /** The inventory resource (range or name) the event was attributed through. */
  attributedTo: string | null;
  event: Event;
}

const v6 = new Uint32Array(4);

function validIp(s: unknown): string | null {
  if (typeof s !== 'string' || s.length > 45) return null;
  return parseIPv4(s) >= 0 || parseIPv6(s, v6) ? s : null;
}

function validTime(s: unknown): string | null {
  if (typeof s !== 'string' && typeof s !== 'number') return null;
  const t = new Date(s);
  const ms = t.getTime();
  // Outside these bounds a date is a typo or an attack on the column, not an observation.
  return Number.isFinite(ms) && ms > 0 && ms < 4102444800000 ? t.toISOString() : null;
}

// PostgreSQL text and jsonb refuse NUL characters and unpaired surrogates; hostile reports carry both.
const UNSTORABLE = /[\u0000\ud800-\udfff]/;
const UNSTORABLE_ALL = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
export function storable(s: string): string {
  return UNSTORABLE.test(s) ? s.replace(UNSTORABLE_ALL, '\ufffd') : s;
}

function storableValue(v: unknown): unknown {
  return typeof v === 'string' ? storable(v) : Array.isArray(v) ? v.map(storableValue) : v;
}

function cleanEvent(e: Event): Event {
  const dirty = (v: unknown): boolean => typeof v === 'string' ? UNSTORABLE.test(v) : Array.isArray(v) && v.some(dirty);
  if (!Object.entries(e).some(([k, v]) => UNSTORABLE.test(k) || dirty(v))) return e;
  return Object.fromEntries(Object.entries(e).map(([k, v]) => [storable(k), storableValue(v)])) as Event;
}

// Names identify a tenant more closely than an address (many sites share a web server's address),
// so they are tried first.
const ATTRIBUTION_KEYS = ['source.url', 'source.fqdn', 'source.account', 'source.ip'] as const;

export function prepareEvent(desk: Desk, raw: Event, reportId: number | null, source: string, fallbackTime: string): EventRow {
  const event = cleanEvent(raw);
  const time = validTime(event['time.source']) ?? validTime(event['time.observation']) ?? fallbackTime;
  const at = Date.parse(time);
  let attribution = null;
  for (const k of ATTRIBUTION_KEYS) {
    const v = event[k];
    if (typeof v === 'string' && v && (attribution = desk.attribution.attribute(v, at))) break;
  }
  const type = event['classification.type'];
  return {
    reportId, source, time, event,
    sourceIp: validIp(event['source.ip']),
    classificationType: typeof type === 'string' ? type : null,
    customerId: attribution?.customer_id ?? null,
    serviceId: attribution?.service_id ?? null,
    attributedTo: attribution?.resource ?? null,
  };
}

/**
 * Inserts the rows in one statement (the whole batch travels as one JSON parameter, which both
 * drivers pass without per-value encoding) and returns them with their ids, in order.
 */
export async function insertEvents(tx: Db, rows: EventRow[]): Promise<StoredEvent[]> {
  if (!rows.length) return [];
  const payload = JSON.stringify(rows.map((r) => [r.reportId, r.source, r.time, r.sourceIp, r.classificationType, r.customerId, r.serviceId, r.attributedTo, r.event]));
  const res = await tx.query<{ id: string }>(
    `INSERT INTO events (report_id, source, time, source_ip, classification_type, customer_id, service_id, attributed_to, event)
     SELECT (r->>0)::bigint, r->>1, (r->>2)::timestamptz, (r->>3)::inet, r->>4, r->>5, r->>6, r->>7, (r->8)::jsonb
       FROM json_array_elements($1::json) WITH ORDINALITY AS x(r, n) ORDER BY n
     RETURNING id`, [payload]);
  return rows.map((r, i) => ({ ...r, id: Number(res.rows[i].id) }));
}
