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

function dirty(v: unknown): boolean {
  return typeof v === 'string' ? UNSTORABLE.test(v) : Array.isArray(v) && v.some(dirty);
}

function cleanEvent(e: Event): Event {
  // Every event passes here and nearly all are clean: the check allocates nothing.
  let clean = true;
  for (const k in e) if (UNSTORABLE.test(k) || dirty(e[k as keyof Event])) { clean = false; break; }
  if (clean) return e;
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
 * Inserts the rows in one statement and returns them with their ids, in order. Each column travels
 * as one array parameter, the events as one text of JSON documents joined by line feeds (which
 * JSON.stringify never writes), split and cast to jsonb by the database: one parse per value on
 * either side, which is what makes this several times cheaper than a JSON document of rows taken
 * apart with ->> (bench/intake-csv.ts). The batch's reports are looked up and locked once, and
 * nothing is stored unless all of them exist (migration 015 explains why this is no foreign key).
 */
export async function insertEvents(tx: Db, rows: EventRow[]): Promise<StoredEvent[]> {
  if (!rows.length) return [];
  const reports = [...new Set(column(rows, (r) => r.reportId))].filter((id) => id !== null);
  const res = await tx.query<{ id: string }>(
    `WITH known AS MATERIALIZED (SELECT id FROM reports WHERE id = ANY($10::bigint[]) FOR KEY SHARE)
     INSERT INTO events (report_id, source, time, source_ip, classification_type, customer_id, service_id, attributed_to, event)
     SELECT unnest($1::bigint[]), unnest($2::text[]), unnest($3::timestamptz[]), unnest($4::inet[]), unnest($5::text[]),
            unnest($6::text[]), unnest($7::text[]), unnest($8::text[]), string_to_table($9, E'\\n')::jsonb
      WHERE (SELECT count(*) FROM known) = $11
     RETURNING id`,
    [column(rows, (r) => r.reportId), column(rows, (r) => r.source), column(rows, (r) => r.time), column(rows, (r) => r.sourceIp),
      column(rows, (r) => r.classificationType), column(rows, (r) => r.customerId), column(rows, (r) => r.serviceId),
      column(rows, (r) => r.attributedTo), rows.map((r) => JSON.stringify(r.event)).join('\n'), reports, reports.length]);
  if (res.rows.length === 0) throw new Error(`events name a report that does not exist (one of ${reports.join(', ')})`);
  if (res.rows.length !== rows.length) throw new Error(`${rows.length} events sent, ${res.rows.length} stored`);
  return rows.map((r, i) => ({ ...r, id: Number(res.rows[i].id) }));
}

function column<T>(rows: EventRow[], get: (r: EventRow) => T): T[] {
  const out = new Array<T>(rows.length);
  for (let i = 0; i < rows.length; i++) out[i] = get(rows[i]);
  return out;
}
