// Google Safe Browsing notifications to network owners: an XML <notification_message> (in the
// mail's text) with one <list type="N"> per kind, each a run of <url_info url="..." ip="..."/>.
// The list type says what Google found: 0 sites compromised to serve malware, 1 phishing, 2 sites
// distributing malware. One event per URL, with the address Google resolved it to.
import { classify, type Event } from '../../events/event.js';
import { compact, ipOf, type FormatParser, urlFields } from '../format.js';
import type { MailReport } from '../mail/report.js';
import { children, parseXml } from '../acns/xml.js';

const LISTS: Record<string, { type: string; identifier: string }> = {
  0: { type: 'malware-distribution', identifier: 'compromised-website' },
  1: { type: 'phishing', identifier: 'phishing-website' },
  2: { type: 'malware-distribution', identifier: 'distribution-website' },
};

function message(mail: MailReport): string | undefined {
  const text = mail.text();
  const at = text.indexOf('<notification_message');
  return at >= 0 && text.includes('<url_info', at) ? text.slice(at) : undefined;
}

export const safebrowsing: FormatParser = {
  name: 'safebrowsing',
  detect: (mail) => message(mail) !== undefined,
  parse(mail, _ctx, sink) {
    const root = parseXml(message(mail)!);
    // The notification's date is the day Google saw the sites (no time of day is given).
    const day = /^\d{4}-\d\d-\d\d$/.test(root?.attrs.date ?? '') ? `${root!.attrs.date}T00:00:00.000Z` : undefined;
    for (const list of children(root ?? undefined, 'list')) {
      const kind = LISTS[list.attrs.type ?? ''] ?? { type: 'other', identifier: `safebrowsing-list-${list.attrs.type ?? 'unknown'}` };
      for (const info of children(list, 'url_info')) {
        const site = urlFields(info.attrs.url ?? '');
        if (!site) continue;
        const e: Event = {
          'feed.name': 'safebrowsing', 'feed.provider': 'Google Safe Browsing',
          'event_description.text': mail.subject || undefined, 'time.source': day,
          ...site,
        };
        // The report is per network: its AS is the one the sites are in.
        const asn = Number(root?.attrs.asn);
        if (Number.isSafeInteger(asn) && asn > 0) e['source.asn'] = asn;
        const ip = ipOf(info.attrs.ip ?? '');
        if (ip) e['source.ip'] = ip;
        sink.add(compact(classify(e, kind.type, kind.identifier)));
      }
    }
    return { forwardConsent: null };
  },
};
