// SpamCop reports, plain ("Email from 192.0.2.1 / <date>", "Spamvertised web site: ...") or
// as ARF. SpamCop has already worked out the sending relay and the spamvertised hosts' addresses.
import { classify, type Event } from '../../events/event.js';
import { compact, urlFields, type FormatParser } from '../format.js';
import { arfEvents, feedbackPart } from '../arf/index.js';

const EMAIL_FROM = /^\s*Email from ([0-9a-f.:]+) \/ (.+)$/gim;
const SPAMVERTISED = /^\s*Spamvertised web site:\s*(\S+)/gim;
const RESOLVED = /^\s*(\S+) is ([0-9a-f.:]+);\s*(.*)$/gim;
const REPORT_ID = /\bid:(\d+)/;

export const spamcop: FormatParser = {
  name: 'spamcop',
  detect: (mail) => /@(?:[a-z0-9-]+\.)*spamcop\.net$/.test(mail.from.email ?? '') || /^\[SpamCop \(/.test(mail.subject),
  parse(mail, _ctx, sink) {
    const base: Event = { 'feed.name': 'spamcop', 'feed.provider': 'SpamCop' };
    const id = REPORT_ID.exec(mail.subject)?.[1];
    if (id) base['extra.spamcop_id'] = id;
    if (feedbackPart(mail)) {
      arfEvents(mail, sink, base);
      return { forwardConsent: null };
    }
    // SpamCop's own findings come before the offending message it quotes.
    const all = mail.text();
    const quoted = all.indexOf('[ Offending message ]');
    const text = quoted >= 0 ? all.slice(0, quoted) : all.slice(0, 20000);
    for (const m of text.matchAll(EMAIL_FROM)) {
      const t = Date.parse(m[2].trim());
      sink.add(compact(classify({ ...base, 'source.ip': m[1].toLowerCase(), 'time.source': Number.isNaN(t) ? undefined : new Date(t).toISOString(), 'event_description.text': mail.subject }, 'spam', 'spam-source')));
    }
    // "http://x/ is 192.0.2.5; <date>" lines give each spamvertised site's address.
    const hosted = new Map<string, string>();
    for (const m of text.matchAll(RESOLVED)) hosted.set(m[1].replace(/\/$/, '').toLowerCase(), m[2].toLowerCase());
    for (const m of text.matchAll(SPAMVERTISED)) {
      const u = urlFields(m[1]);
      if (!u) continue;
      const ip = hosted.get(m[1].replace(/\/$/, '').toLowerCase()) ?? hosted.get(u['source.fqdn'] ?? '');
      sink.add(compact(classify({ ...base, 'source.ip': ip, ...u, 'event_description.text': mail.subject }, 'spam', 'spamvertised')));
    }
    return { forwardConsent: null };
  },
};
