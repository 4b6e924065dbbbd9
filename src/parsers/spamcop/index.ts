// SpamCop reports, plain ("Email from 192.0.2.1 / <date>", "Spamvertised web site: ...",
// "Unsolicited bounce from: ...") or as ARF, and the mails SpamCop sends network owners about
// several addresses at once: "[SpamCop] summary report" (a table of spamtrap and user reports per
// address) and "[SpamCop] Alert" (spamtrap hits, one address a line). SpamCop has already worked
// out the sending relay and the spamvertised hosts' addresses.
import { classify, type Event } from '../../events/event.js';
import { compact, urlFields, type FormatInfo, type FormatParser } from '../format.js';
import { arfEvents, feedbackPart } from '../arf/index.js';
import { parseIPv4, parseIPv6 } from '../../attribution/ip.js';
import type { MailReport } from '../mail/report.js';
import type { EventSink } from '../sink.js';

const EMAIL_FROM = /^\s*(Email|Unsolicited bounce) from:? ([0-9a-f.:]+) \/ (.+)$/gim;
const SPAMVERTISED = /^\s*Spamvertised web site:\s*(\S+)/gim;
const RESOLVED = /^\s*(\S+) is ([0-9a-f.:]+);\s*(.*)$/gim;
const REPORT_ID = /\bid:(\d+)/;
// "   192.0.2.15 Nov 25 14h/3      4    0    1    0  comment" (address, first report, days, trap, user, mole, simp)
const SUMMARY_ROW = /^\s*([0-9a-f.:]+)\s+([A-Z][a-z]{2})\s+(\d{1,2})\s(\d{1,2})h\/(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)/gm;
const ALERT_LINE = /^\s*([0-9a-f]{0,4}[.:][0-9a-f.:]+)\s*$/gim;
const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

export const spamcop: FormatParser = {
  name: 'spamcop',
  detect: (mail) => /@(?:[a-z0-9-]+\.)*spamcop\.net$/.test(mail.from.email ?? '') || /^\[SpamCop \(/.test(mail.subject),
  parse(mail, _ctx, sink) {
    const base: Event = { 'feed.name': 'spamcop', 'feed.provider': 'SpamCop' };
    const id = REPORT_ID.exec(mail.subject)?.[1];
    if (id) base['extra.spamcop_id'] = id;
    const all = mail.text();
    // SpamCop's own findings come before the offending message it quotes.
    const quoted = all.indexOf('[ Offending message ]');
    const text = quoted >= 0 ? all.slice(0, quoted) : all.slice(0, 20000);
    const hosted = resolvedSites(text);
    if (feedbackPart(mail)) {
      // SpamCop's ARF sometimes lacks Source-IP; its text still says "Email from <ip> / <date>".
      const named = /^\s*Email from ([0-9a-f.:]+) \//im.exec(all.slice(0, 20000))?.[1];
      // Its Reported-URIs are the spamvertised sites the text resolves.
      arfEvents(mail, sink, base, named ? ipOf(named) : undefined, (url, host) => {
        const [ip, at] = hosted.get(url.replace(/\/$/, '').toLowerCase()) ?? hosted.get(host) ?? [];
        return ip ? { ip, at: isoTime(at) } : undefined;
      });
      return { forwardConsent: null };
    }
    if (/^\[SpamCop\] summary report/i.test(mail.subject)) return summary(mail, all, base, sink);
    if (/^\[SpamCop\] Alert/i.test(mail.subject)) {
      for (const m of all.matchAll(ALERT_LINE)) {
        const ip = ipOf(m[1]);
        if (ip) sink.add(compact(classify({ ...base, 'source.ip': ip, 'time.source': mail.date, 'event_description.text': mail.subject }, 'spam', 'spamtrap-hit')));
      }
      return { forwardConsent: null };
    }
    for (const m of text.matchAll(EMAIL_FROM)) {
      // A bounce sent to a forged sender (backscatter) is spam from the bouncing server.
      const identifier = m[1].toLowerCase() === 'email' ? 'spam-source' : 'unsolicited-bounce';
      sink.add(compact(classify({ ...base, 'source.ip': m[2].toLowerCase(), 'time.source': isoTime(m[3]), 'event_description.text': mail.subject }, 'spam', identifier)));
    }
    for (const m of text.matchAll(SPAMVERTISED)) {
      const u = urlFields(m[1]);
      if (!u) continue;
      const [ip, at] = hosted.get(m[1].replace(/\/$/, '').toLowerCase()) ?? hosted.get(u['source.fqdn'] ?? '') ?? [];
      sink.add(compact(classify({ ...base, 'source.ip': ip, ...u, 'time.source': isoTime(at), 'event_description.text': mail.subject }, 'spam', 'spamvertised')));
    }
    return { forwardConsent: null };
  },
};

/** "http://x/ is 192.0.2.5; <date>" lines: each spamvertised site's address and when SpamCop resolved it. */
function resolvedSites(text: string): Map<string, [ip: string, at: string]> {
  const hosted = new Map<string, [ip: string, at: string]>();
  for (const m of text.matchAll(RESOLVED)) hosted.set(m[1].replace(/\/$/, '').toLowerCase(), [m[2].toLowerCase(), m[3]]);
  return hosted;
}

/** One event per address of a summary report's table; the first report's time is in the mail's year. */
function summary(mail: MailReport, text: string, base: Event, sink: EventSink): FormatInfo {
  const sent = mail.date ? new Date(mail.date) : undefined;
  for (const m of text.matchAll(SUMMARY_ROW)) {
    const ip = ipOf(m[1]);
    if (!ip) continue;
    const month = MONTHS.indexOf(m[2].toLowerCase());
    let at: string | undefined;
    if (sent && month >= 0) {
      const d = new Date(Date.UTC(sent.getUTCFullYear(), month, Number(m[3]), Number(m[4])));
      // A December row in a January summary is last year's.
      if (d.getTime() > sent.getTime() + 86_400_000) d.setUTCFullYear(d.getUTCFullYear() - 1);
      at = d.toISOString();
    }
    const [trap, user, mole, simp] = [m[6], m[7], m[8], m[9]].map(Number);
    sink.add(compact(classify({
      ...base, 'source.ip': ip, 'time.source': at, 'event_description.text': mail.subject,
      'extra.duration_days': Number(m[5]), 'extra.trap_reports': trap, 'extra.user_reports': user,
      'extra.mole_reports': mole, 'extra.simp_reports': simp,
    }, 'spam', 'spamcop-summary')));
  }
  return { forwardConsent: null };
}

function ipOf(s: string): string | undefined {
  const v = s.toLowerCase();
  return parseIPv4(v) >= 0 || (v.includes(':') && parseIPv6(v, new Uint32Array(4))) ? v : undefined;
}

function isoTime(v: string | undefined): string | undefined {
  const t = v ? Date.parse(v.trim()) : NaN;
  return Number.isNaN(t) ? undefined : new Date(t).toISOString();
}
