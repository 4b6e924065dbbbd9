// The API's own format: a JSON list of flat events (IntelMQ harmonization keys), bare or as
// {"events": [...]}. Tools that already speak IntelMQ post their events as they are.
import { classify, TAXONOMY, type Event } from '../events/event.js';

export class EventListError extends Error {}

const PREFIXES = ['source.', 'destination.', 'classification.', 'time.', 'feed.', 'event_description.', 'malware.', 'protocol.', 'extra.', 'misp.', 'rtir_'];
const KEYS = new Set(['raw', 'comment', 'tlp', 'status', 'severity', 'screenshot_url', 'event_hash']);
const INTEGER_KEYS = new Set(['source.port', 'destination.port', 'source.asn', 'destination.asn']);
const MAX_KEYS = 200;
const MAX_VALUE = 65536;

/** True when a JSON document is meant as an event list (as opposed to X-ARF JSON or anything else). */
export function isEventList(doc: unknown): boolean {
  return Array.isArray(doc) || (typeof doc === 'object' && doc !== null && Array.isArray((doc as { events?: unknown }).events) && !('xarf_version' in doc));
}

/** Validates an event list; throws EventListError naming the first offending event and key. */
export function readEventList(doc: unknown, maxEvents: number): Event[] {
  const list = Array.isArray(doc) ? doc : (doc as { events: unknown[] }).events;
  if (list.length === 0) throw new EventListError('the event list is empty');
  if (list.length > maxEvents) throw new EventListError(`${list.length} events exceed the limit of ${maxEvents} per report`);
  return list.map((item, i) => {
    const where = `event ${i}`;
    if (typeof item !== 'object' || item === null || Array.isArray(item)) throw new EventListError(`${where}: not an object`);
    const entries = Object.entries(item as Record<string, unknown>);
    if (entries.length > MAX_KEYS) throw new EventListError(`${where}: more than ${MAX_KEYS} keys`);
    const e: Record<string, unknown> = {};
    for (const [k, v] of entries) {
      if (!/^[a-z0-9_.]{1,100}$/.test(k) || !(KEYS.has(k) || PREFIXES.some((p) => k.startsWith(p) && k.length > p.length))) {
        throw new EventListError(`${where}: '${k.slice(0, 100)}' is not an IntelMQ harmonization key (use extra.* for your own)`);
      }
      if (v !== null && typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') throw new EventListError(`${where}: ${k} must be a string, number, boolean or null`);
      if (typeof v === 'string' && v.length > MAX_VALUE) throw new EventListError(`${where}: ${k} is longer than ${MAX_VALUE} characters`);
      if (INTEGER_KEYS.has(k) && !(Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 4294967295)) throw new EventListError(`${where}: ${k} must be a non-negative integer`);
      if (k.startsWith('time.') && (typeof v !== 'string' || !Number.isFinite(Date.parse(v)))) throw new EventListError(`${where}: ${k} must be an ISO 8601 time`);
      if (v !== null) e[k] = v;
    }
    const type = e['classification.type'];
    if (type !== undefined && (typeof type !== 'string' || !(type in TAXONOMY))) throw new EventListError(`${where}: classification.type '${String(type)}' is not in the taxonomy`);
    if (!Object.keys(e).some((k) => k.startsWith('source.'))) throw new EventListError(`${where}: no source.* key says what is reported`);
    return classify(e as Event, (type as string | undefined) ?? 'undetermined', e['classification.identifier'] as string | undefined);
  });
}
