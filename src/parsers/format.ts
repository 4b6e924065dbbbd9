// What every format module provides, and the pieces of an event they all fill the same way.
import { classify, type Event } from '../events/event.js';
import type { MailReport } from './mail/report.js';
import type { EventSink } from './sink.js';
import type { ParseContext, Reporter } from './types.js';
import type { SubjectResource } from './text/evidence.js';
import { parseUrl } from './text/indicators.js';
import { formatIPv6, parseIPv4, parseIPv6 } from '../attribution/ip.js';

export interface FormatParser {
  /** Short name, also the event's feed.name unless the module sets a more specific one. */
  name: string;
  /** A cheap test on headers and part types: is this mail in my format? */
  detect(mail: MailReport): boolean;
  parse(mail: MailReport, ctx: ParseContext, sink: EventSink): Promise<FormatInfo> | FormatInfo;
}

/** What a module learned about the report beyond its events. */
export interface FormatInfo {
  reporter?: Reporter;
  forwardConsent?: boolean | null;
  date?: string;
}

/** An event about one resource named in a report. */
export function resourceEvent(r: SubjectResource, type: string, identifier: string | undefined, base: Event): Event {
  const e: Event = { ...base };
  if (r.ip) e['source.ip'] = r.ip;
  if (r.port) e['source.port'] = r.port;
  if (r.url) e['source.url'] = r.url;
  if (r.fqdn) e['source.fqdn'] = r.fqdn;
  classify(e, type, identifier);
  if (r.defanged) e['extra.defanged'] = true;
  if (r.ours) e['extra.inventory_match'] = true;
  return e;
}

/** Drops empty values so events stay small and comparable. */
export function compact(e: Event): Event {
  for (const k of Object.keys(e) as Array<keyof Event>) {
    const v = e[k];
    if (v === undefined || v === null || v === '') delete e[k];
  }
  return e;
}

/** source.url with its host as source.fqdn, or as source.ip when the URL names an address. */
export function urlFields(raw: string): Event | null {
  const u = parseUrl(raw);
  if (!u) return null;
  const e: Event = { 'source.url': u.url };
  if (parseIPv4(u.host) >= 0 || u.host.includes(':')) e['source.ip'] = u.host;
  else e['source.fqdn'] = u.host;
  return e;
}

const words = new Uint32Array(4);

/** An address as events keep it: IPv4 as written, IPv6 in canonical form; undefined for anything else. */
export function ipOf(v: string): string | undefined {
  if (parseIPv4(v) >= 0) return v;
  return parseIPv6(v, words) ? formatIPv6(words) : undefined;
}

/** A port as reports write it (number or text); 0 and out-of-range values are no port. */
export function portOf(v: unknown): number | undefined {
  const n = Number(v);
  return Number.isInteger(n) && n > 0 && n < 65536 ? n : undefined;
}
