// ARF feedback reports (RFC 5965) as mailbox providers really send them: Version 0.1 or 1,
// Arrival-Date or Received-Date, folded fields, the spam attached whole (message/rfc822) or as
// headers only (text/rfc822-headers), Source-IP missing (then the Received: chain tells); and
// Microsoft's JMRP complaints, which have no feedback part at all.
import type { Event } from '../../events/event.js';
import { classify } from '../../events/event.js';
import { compact, ipOf, portOf, urlFields, type FormatParser } from '../format.js';
import { decodeWords, parseAddress, parseHeaders, type Header, type MimePart } from '../mail/mime.js';
import { mailDate, type MailReport } from '../mail/report.js';
import { originHop, parseReceived } from '../text/received.js';
import { baseDomain } from '../text/indicators.js';
import type { EventSink } from '../sink.js';

const FEEDBACK_TYPES: Record<string, [type: string, identifier: string]> = {
  abuse: ['spam', 'abuse'],
  fraud: ['phishing', 'fraud'],
  virus: ['malware-distribution', 'virus'],
  'auth-failure': ['masquerade', 'auth-failure'],
  'opt-out': ['spam', 'opt-out'],
  'not-spam': ['other', 'not-spam'],
  other: ['spam', 'other'],
};

export function feedbackPart(mail: MailReport): MimePart | undefined {
  return mail.root.walk().find((p) => p.type === 'message/feedback-report');
}

/**
 * A JMRP complaint (Outlook.com, Hotmail): "complaint about message from <ip>", the spam attached
 * as message/rfc822 with the complainer in X-HmXmrOriginalRecipient, no feedback part. Read as
 * the feedback fields it implies.
 */
function jmrpFields(mail: MailReport): Header[] | undefined {
  const spam = mail.root.walk().find((p) => (p.type === 'message/rfc822' || p.type === 'message/global') && p.children[0]?.get('x-hmxmroriginalrecipient') !== undefined);
  if (!spam) return undefined;
  const fields: Header[] = [{ name: 'feedback-type', value: 'abuse' }, { name: 'original-rcpt-to', value: spam.children[0].get('x-hmxmroriginalrecipient')! }];
  const named = /complaint about message from \[?([0-9a-f.:]{3,39})\]?/i.exec(mail.subject);
  if (named && ipOf(named[1])) fields.push({ name: 'source-ip', value: named[1] });
  return fields;
}

function feedbackFields(mail: MailReport): Header[] | undefined {
  const fb = feedbackPart(mail);
  return fb ? parseHeaders(fb.body()) : jmrpFields(mail);
}

export const arf: FormatParser = {
  name: 'arf',
  detect: (mail) => feedbackFields(mail) !== undefined,
  parse(mail, _ctx, sink) {
    arfEvents(mail, sink, { 'feed.name': 'arf' });
    return { forwardConsent: null };
  },
};

/** Where a reported URI is hosted and since when, as the report's text says. */
export type UriResolver = (url: string, host: string) => { ip: string; at?: string } | undefined;

/**
 * The events of an ARF report: the sending address, and each reported URI once. `namedIp` is the
 * address the report's own text names (SpamCop's "Email from"), for when Source-IP is missing;
 * `resolve` gives a reported URI's address.
 */
export function arfEvents(mail: MailReport, sink: EventSink, base: Event, namedIp?: string, resolve?: UriResolver): void {
  const fields = feedbackFields(mail)!;
  const get = (n: string) => fields.find((f) => f.name === n)?.value;
  const all = (n: string) => fields.filter((f) => f.name === n).map((f) => f.value);
  const spam = attachedHeaders(mail);
  const [type, identifier] = FEEDBACK_TYPES[(get('feedback-type') ?? 'abuse').toLowerCase()] ?? ['spam', 'other'];
  // The Received: chain is read only when the report lacks Source-IP or a date.
  let hop: ReturnType<typeof sendingHop> | undefined;
  const sender = () => (hop ??= sendingHop(spam, mail));
  // The address the report's own sentence names ("received from IP ... on ...") outranks a guess
  // from the Received: chain.
  const stated = statedArrival(mail);
  const ip = (get('source-ip')?.replace(/^\[|\]$/g, '').replace(/^ipv6:/i, '') ?? namedIp ?? stated?.ip ?? sender()?.ip)?.toLowerCase();
  // Without Arrival-Date (auth-failure reports, Version 0.1 senders, JMRP): the date the hop from
  // that address was received, else the one the sentence gives for it, else the sending hop's.
  const arrival = get('arrival-date') ?? get('received-date');
  const when = arrival ?? (ip && hopFrom(spam, ip)?.at) ?? (ip && stated?.ip === ip ? stated.at : undefined) ?? sender()?.at;
  let t = when ? mailDate(when) : NaN;
  // An Arrival-Date with no time of day ("27 Jan 2014", UOL's FBL): the hop from that address
  // gives the time, when it falls on that day.
  if (arrival && !/\d:\d\d/.test(arrival) && ip) {
    const hop = hopFrom(spam, ip)?.at;
    const h = hop ? mailDate(hop) : NaN;
    if (Math.abs(h - t) < 36 * 3600_000) t = h;
  }

  const e: Event = { ...base };
  if (!e['feed.provider']) e['feed.provider'] = (get('user-agent') ?? '').split(/[\s/]/)[0] || mail.reporterDomain;
  if (ip) e['source.ip'] = ip;
  // Source-Port (RFC 6692): the sender behind a NAT or CGN is told apart by it.
  const port = portOf(get('source-port'));
  if (port) e['source.port'] = port;
  if (!Number.isNaN(t)) e['time.source'] = new Date(t).toISOString();
  const spamHeader = (n: string) => { const v = spam.find((h) => h.name === n)?.value; return v === undefined ? undefined : decodeWords(v); };
  e['event_description.text'] = mail.subject || undefined;
  e['extra.feedback_type'] = get('feedback-type')?.toLowerCase();
  e['extra.user_agent'] = get('user-agent');
  e['extra.original_mail_from'] = get('original-mail-from')?.replace(/^<|>$/g, '');
  const rcpts = all('original-rcpt-to').map((r) => r.replace(/^<|>$/g, ''));
  if (rcpts.length) e['extra.original_rcpt_to'] = rcpts;
  e['extra.reported_domain'] = all('reported-domain').join(' ') || undefined;
  e['extra.incidents'] = get('incidents') ? Number(get('incidents')) : undefined;
  e['extra.spam_subject'] = spamHeader('subject');
  e['extra.spam_message_id'] = spamHeader('message-id')?.replace(/^<|>$/g, '');
  e['extra.spam_from'] = parseAddress(spamHeader('from')).email;
  const auth = get('authentication-results');
  if (auth) e['extra.authentication_results'] = auth;
  e['extra.auth_failure'] = get('auth-failure')?.toLowerCase();
  e['extra.delivery_result'] = get('delivery-result')?.toLowerCase();
  sink.add(compact(classify(e, type, identifier)));

  const seen = new Set<string>();
  for (const uri of all('reported-uri')) {
    const u = urlFields(uri.replace(/^<|>$/g, ''));
    if (!u || seen.has(u['source.url']!)) continue;
    seen.add(u['source.url']!);
    const hosted = resolve?.(u['source.url']!, u['source.fqdn'] ?? u['source.ip'] ?? '');
    const ue: Event = { ...base, 'feed.provider': e['feed.provider'], ...u, 'time.source': e['time.source'], 'extra.feedback_type': e['extra.feedback_type'] };
    if (hosted) {
      ue['source.ip'] ??= hosted.ip;
      if (hosted.at) ue['time.source'] = hosted.at;
    }
    sink.add(compact(classify(ue, type === 'spam' ? 'spam' : type, 'reported-uri')));
  }
}

/** Headers of the reported message (message/rfc822 or text/rfc822-headers third part). */
function attachedHeaders(mail: MailReport): Header[] {
  for (const p of mail.root.walk()) {
    if ((p.type === 'message/rfc822' || p.type === 'message/global') && p.children[0]) return p.children[0].headers;
    if (p.type === 'text/rfc822-headers' || p.type === 'message/rfc822-headers') return parseHeaders(p.body());
  }
  return [];
}

/** The Received: hop of the reported message whose sender is `ip`. */
function hopFrom(spam: Header[], ip: string) {
  for (const h of spam) {
    if (h.name !== 'received') continue;
    const hop = parseReceived(h.value);
    if (hop.ip === ip) return hop;
  }
  return undefined;
}

/**
 * The address and arrival the report's human-readable part states (RFC 5965's "This is an email
 * abuse report for an email message received from IP 192.0.2.1 on Thu, 8 Mar 2005 14:00:00 EDT.").
 */
function statedArrival(mail: MailReport): { ip: string; at: string } | undefined {
  // The report's own first part, never the attached spam's text.
  const first = mail.root.walk().find((p) => p.type === 'text/plain' || p.type.startsWith('message/'));
  if (first?.type !== 'text/plain') return undefined;
  const text = first.text().slice(0, 2000);
  const at = text.search(/received from\b/i);
  if (at < 0) return undefined;
  // The sentence folded onto the next line, or broken by quoted-printable, reads as one.
  const sentence = text.slice(at, at + 300).replace(/\s+/g, ' ');
  const m = / IP:? \[?([0-9a-fA-F.:]+?)\]?,? on ((?:[A-Z][a-z]{2}, )?\d{1,2} [A-Z][a-z]{2} \d{4} \d\d:\d\d(?::\d\d)? (?:[+-]\d{4}|[A-Z]{1,5})(?: \([A-Za-z ]{1,20}\))?)/.exec(sentence);
  const ip = m ? ipOf(m[1]) : undefined;
  return ip ? { ip: ip.toLowerCase(), at: m![2] } : undefined;
}

/** Without Source-IP: the first hop of the reported message from outside the reporter's systems. */
function sendingHop(spam: Header[], mail: MailReport) {
  const hops = spam.filter((h) => h.name === 'received').map((h) => parseReceived(h.value));
  const d = mail.reporterDomain;
  return originHop(hops, (h) => !!d && !!h.fromHost && baseDomain(h.fromHost) === d);
}
