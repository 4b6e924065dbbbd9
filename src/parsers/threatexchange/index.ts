// Facebook ThreatExchange threat descriptors mailed as a JSON attachment, gzipped or not (AbuseIO's
// AITE notifications: "the report is attached as a GZipped JSON file", report.json.gz). One event
// per descriptor: the indicator (a URI, an address or a domain), the address AITE resolved a URI's
// host to, the time the descriptor was added; the kind from the words of its owner, description
// and tags (PhishTankFeed -> phishing), else other.
import { gunzipSync } from 'node:zlib';
import { classify, type Event } from '../../events/event.js';
import { compact, ipOf, urlFields, type FormatParser } from '../format.js';
import { ParseRefusal, type MimePart } from '../mail/mime.js';
import type { MailReport } from '../mail/report.js';
import { classifyText } from '../text/classify.js';
import { DEFAULT_LIMITS } from '../types.js';

type Descriptor = Record<string, unknown> & { raw_indicator: string; type?: string };

function isGzip(b: Buffer): boolean {
  return b.length > 2 && b[0] === 0x1f && b[1] === 0x8b;
}

function candidate(p: MimePart): boolean {
  const name = (p.filename ?? '').toLowerCase();
  return name.endsWith('.json') || name.endsWith('.json.gz') || p.type === 'application/json' || p.type === 'application/gzip' || p.type === 'application/x-gzip';
}

/** Largest inflated attachment: a gzip bomb costs no more than a part may. */
const MAX_INFLATED = DEFAULT_LIMITS.maxPartBytes;

/** The part's JSON, inflated when gzipped. */
function jsonOf(p: MimePart): unknown {
  let body = p.body();
  if (isGzip(body)) {
    try {
      body = gunzipSync(body, { maxOutputLength: MAX_INFLATED });
    } catch (e) {
      if (e instanceof RangeError) throw new ParseRefusal('zip', `${p.filename ?? 'gzip attachment'} expands beyond ${MAX_INFLATED} bytes`);
      return undefined;
    }
  }
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}

/** Descriptors in a document: one object, a list of them, or the Graph API's {data: [...]}. */
function descriptors(doc: unknown): Descriptor[] {
  const list = Array.isArray(doc) ? doc : doc && typeof doc === 'object' && Array.isArray((doc as { data?: unknown }).data) ? (doc as { data: unknown[] }).data : [doc];
  return list.filter((d): d is Descriptor => !!d && typeof d === 'object' && typeof (d as Descriptor).raw_indicator === 'string' && 'owner' in d);
}

// detect() and parse() see the same mail: its attachments are inflated and read once.
const seen = new WeakMap<MailReport, Descriptor[]>();

function found(mail: MailReport): Descriptor[] {
  let d = seen.get(mail);
  if (!d) seen.set(mail, (d = mail.parts().filter(candidate).flatMap((p) => descriptors(jsonOf(p)))));
  return d;
}

const str = (v: unknown) => (typeof v === 'string' && v.trim() ? v.trim() : undefined);

function event(d: Descriptor): Event | null {
  const raw = d.raw_indicator.trim();
  const kind = String(d.type ?? (d.indicator as Descriptor | undefined)?.type ?? '').toUpperCase();
  const enrich = (d.enrichments ?? {}) as Record<string, unknown>;
  let e: Event | null;
  if (kind === 'URI') {
    e = urlFields(/^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `http://${raw}`);
    const ip = ipOf(str(enrich.domain_address) ?? '');
    if (e && ip && !e['source.ip']) e['source.ip'] = ip;
  } else if (kind === 'IP_ADDRESS') {
    const ip = ipOf(raw);
    e = ip ? { 'source.ip': ip } : null;
  } else if (kind === 'DOMAIN') {
    e = /^[a-z0-9.-]+\.[a-z]{2,}$/i.test(raw) ? { 'source.fqdn': raw.toLowerCase() } : null;
  } else e = null;
  if (!e) return null;
  const owner = str((d.owner as Record<string, unknown> | undefined)?.name);
  const description = str(d.description);
  const tags = Array.isArray(d.tags) ? d.tags.filter((t): t is string => typeof t === 'string') : [];
  const added = Date.parse(str(d.added_on) ?? str(d.last_updated) ?? '');
  const ev: Event = {
    'feed.name': 'threatexchange', 'feed.provider': owner,
    ...e,
    'time.source': Number.isNaN(added) ? undefined : new Date(added).toISOString(),
    'event_description.text': description,
    'extra.threatexchange_id': str(d.id), 'extra.status': str(d.status), 'extra.severity': str(d.severity),
    'extra.confidence': typeof d.confidence === 'number' ? d.confidence : undefined, 'extra.share_level': str(d.share_level),
  };
  const cls = classifyText([owner, description, ...tags].filter(Boolean).join(' '), '');
  return compact(classify(ev, cls?.type ?? 'other', cls?.identifier));
}

export const threatexchange: FormatParser = {
  name: 'threatexchange',
  detect: (mail) => mail.parts().some(candidate) && found(mail).length > 0,
  parse(mail, _ctx, sink) {
    for (const d of found(mail)) {
      // A descriptor its owner judged harmless reports nothing.
      if (d.status === 'NON_MALICIOUS') continue;
      const e = event(d);
      if (e) sink.add(e);
    }
    return { forwardConsent: null };
  },
};
