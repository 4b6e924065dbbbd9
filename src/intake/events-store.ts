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
 * The rows as lines of COPY text, without their ids (not known before insertEvents takes them). A
 * feed makes them for the next batch while the previous one is being written.
 */
export function copyLines(rows: EventRow[]): string[] {
  return rows.map((r) => `${r.reportId ?? '\\N'}\t${copyText(r.source)}\t${copyText(r.time)}\t${copyText(r.sourceIp)}\t${copyText(r.classificationType)}\t`
    + `${copyText(r.customerId)}\t${copyText(r.serviceId)}\t${copyText(r.attributedTo)}\t${copyJson(r.event)}\n`);
}

/**
 * Stores the rows and returns them with their ids, in order: one query takes the ids from the
 * sequence and looks up and locks the batch's reports (nothing is stored unless all of them exist;
 * migration 015 says why this is no foreign key), then the rows go in by COPY, the cheapest way in
 * for both stores (bench/intake-csv.ts). `lines` are copyLines(rows), when made ahead.
 */
export async function insertEvents(tx: Db, rows: EventRow[], lines = copyLines(rows)): Promise<StoredEvent[]> {
  if (!rows.length) return [];
  const reports = [...new Set(rows.map((r) => r.reportId))].filter((id) => id !== null);
  const pre = await tx.query<{ ids: string; reports: number }>(
    `SELECT (SELECT string_agg(nextval('events_id_seq')::text, ',') FROM generate_series(1, $1::int)) AS ids,
            (SELECT count(*) FROM (SELECT 1 FROM reports WHERE id = ANY($2::bigint[]) FOR KEY SHARE) k)::int AS reports`,
    [rows.length, reports]);
  if (pre.rows[0].reports !== reports.length) throw new Error(`events name a report that does not exist (one of ${reports.join(', ')})`);
  const ids = pre.rows[0].ids.split(',').map(Number);
  const copied = await tx.copyFrom('events (id, report_id, source, time, source_ip, classification_type, customer_id, service_id, attributed_to, event)',
    lines.map((l, i) => `${ids[i]}\t${l}`).join(''));
  if (copied !== rows.length) throw new Error(`${rows.length} events sent, ${copied} stored`);
  return rows.map((r, i) => ({ ...r, id: ids[i] }));
}

const COPY_SPECIAL = /[\\\n\r\t]/;
const COPY_ESCAPES: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** An event as COPY text: JSON never holds a raw line break or tab, so only backslashes need doubling. */
function copyJson(e: Event): string {
  const json = JSON.stringify(e);
  return json.includes('\\') ? json.replaceAll('\\', '\\\\') : json;
}

/** A value in COPY's text format: \N for null; backslash, line breaks and tabs escaped. */
function copyText(v: string | null): string {
  if (v === null) return '\\N';
  return COPY_SPECIAL.test(v) ? v.replace(/[\\\n\r\t]/g, (c) => COPY_ESCAPES[c]) : v;
}
