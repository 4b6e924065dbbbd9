// Copyright infringement notices with an ACNS block (Automated Copyright Notice System, the XML
// that rights agencies append to DMCA notices: <Infringement xmlns="http://www.acns.net/ACNS">),
// inline in the text or as an .xml attachment. The block names the infringing source exactly
// (Source/IP_Address, Port, TimeStamp; URL_Base or item URLs for web content), so the letter
// around it is not searched for indicators: its schema URLs and the agency's own addresses would
// otherwise be taken for the reported resource.
import { classify, type Event } from '../../events/event.js';
import { compact, ipOf, portOf, type FormatParser, urlFields } from '../format.js';
import type { MailReport } from '../mail/report.js';
import { forwardConsent } from '../text/classify.js';
import { child, childText, children, parseXml, type XmlElement } from './xml.js';

const OPEN = /<(?:[\w.-]+:)?Infringement[\s>]/gi;
const CLOSE = /<\/(?:[\w.-]+:)?Infringement\s*>/gi;
/** Blocks past this are not read: a real notice has one, a mail quoting a history a few. */
const MAX_BLOCKS = 20;
const MAX_BLOCK_CHARS = 256 * 1024;

/** The texts an ACNS block may be in: the mail's text, and XML attachments it does not include. */
function sources(mail: MailReport): string[] {
  const out = [mail.text()];
  for (const p of mail.parts()) if (!p.type.startsWith('text/') && (p.type === 'application/xml' || /\.xml$/i.test(p.filename ?? ''))) out.push(p.text());
  return out;
}

/** The <Infringement> blocks of a text, found in one pass (an unclosed one ends the search). */
function blocksOf(s: string, found: string[]): void {
  OPEN.lastIndex = 0;
  for (let open = OPEN.exec(s); open && found.length < MAX_BLOCKS; open = OPEN.exec(s)) {
    CLOSE.lastIndex = open.index;
    const close = CLOSE.exec(s);
    if (!close) return;
    const block = s.slice(open.index, close.index + close[0].length);
    if (block.length <= MAX_BLOCK_CHARS && /acns/i.test(block.slice(0, 400))) found.push(block);
    OPEN.lastIndex = close.index + close[0].length;
  }
}

/** Each notice's events, parsed once per mail (detect and parse both need them). */
const parsed = new WeakMap<MailReport, Event[]>();

function noticeEvents(mail: MailReport): Event[] {
  let events = parsed.get(mail);
  if (events) return events;
  const found: string[] = [];
  for (const s of sources(mail)) if (/acns/i.test(s)) blocksOf(s, found);
  const seen = new Set<string>();
  events = [];
  for (const block of found) {
    const root = parseXml(block);
    if (root?.name !== 'infringement') continue;
    for (const e of infringementEvents(root, mail)) {
      const key = `${e['source.ip']}|${e['source.port']}|${e['source.url']}|${e['time.source']}`;
      if (!seen.has(key)) { seen.add(key); events.push(e); }
    }
  }
  parsed.set(mail, events);
  return events;
}

function size(v: string | undefined): number | undefined {
  const n = Number(v);
  return v && Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

/** ACNS time stamps are ISO 8601 in UTC ("2026-11-24T09:58:41Z"); agencies also drop the zone. */
function time(v: string | undefined): string | undefined {
  if (!v) return undefined;
  const t = Date.parse(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?$/.test(v) ? `${v}Z` : v);
  return Number.isNaN(t) ? undefined : new Date(t).toISOString();
}

/** What an item says of the work: its title, and the file with its hash for P2P. */
function itemFields(item: XmlElement | undefined): Event {
  const hash = child(item, 'hash');
  return {
    'extra.title': childText(item, 'title'),
    'extra.file_name': childText(item, 'filename'),
    'extra.file_size': size(childText(item, 'filesize')),
    'extra.file_hash': hash?.text ? `${hash.attrs.type ? `${hash.attrs.type.toLowerCase()}:` : ''}${hash.text}` : undefined,
  };
}

/** The events of one <Infringement>: one for the source, or one per page for web content. */
function infringementEvents(root: XmlElement, mail: MailReport): Event[] {
  const source = child(root, 'source');
  const items = children(child(root, 'content'), 'item');
  const sub = child(source, 'subtype');
  const baseType = sub?.attrs.basetype ?? childText(sub, 'basetype');
  const protocol = (sub?.attrs.protocol ?? childText(source, 'type'))?.toLowerCase();
  const identifier = /p2p/i.test(baseType ?? '') || /torrent|edonkey|gnutella|ares|p2p/i.test(protocol ?? '') ? 'p2p' : 'copyright-infringement';
  const base: Event = {
    'feed.name': 'acns',
    'feed.provider': mail.reporterDomain,
    'extra.complainant': childText(child(root, 'complainant'), 'entity'),
    'time.source': time(childText(source, 'timestamp')) ?? time(childText(items[0], 'timestamp')) ?? mail.date,
    'event_description.text': mail.subject || undefined,
    'protocol.application': protocol,
    'extra.case_id': childText(child(root, 'case'), 'id'),
    'source.ip': ipOf(childText(source, 'ip_address') ?? ''),
    'source.port': portOf(childText(source, 'port')),
    'source.fqdn': childText(source, 'dns_name')?.toLowerCase(),
  };
  const whole: Event = { ...base, ...itemFields(items[0]), 'extra.items': items.length > 1 ? items.length : undefined };
  // A P2P notice names an address (its item URLs, if any, are trackers or the agency's evidence
  // pages); a web notice names pages, which on a shared server say whose site it is.
  const pages = new Map<unknown, Event>();
  if (identifier !== 'p2p') {
    for (const item of items) {
      const f = urlFields(childText(item, 'url') ?? '');
      if (f) pages.set(f['source.url'], { ...base, ...itemFields(item), ...f });
    }
    const site = pages.size ? null : urlFields(childText(source, 'url_base') ?? '');
    if (site) pages.set(site['source.url'], { ...whole, ...site });
  }
  return (pages.size ? [...pages.values()] : [whole])
    .map((e) => compact(classify(e, 'copyright', identifier)))
    .filter((e) => e['source.ip'] || e['source.url'] || e['source.fqdn']);
}

export const acns: FormatParser = {
  name: 'acns',
  // Only a block that names a resource makes this an ACNS notice; else the text engine reads it.
  detect: (mail) => noticeEvents(mail).length > 0,
  parse(mail, _ctx, sink) {
    for (const e of noticeEvents(mail)) sink.add(e);
    return { forwardConsent: forwardConsent(mail.text()) };
  },
};
