// Have I Been Pwned domain notifications: "An email on example.com has been pwned in a data
// breach" / "... found in a new spam list", sent to whoever monitors the domain. The domain's
// mail accounts are in a breach: one data-leak event about the domain, with the breach's name,
// date and the data it exposed from the HTML table (Breach:, Date of breach:, Your accounts:,
// Compromised data:).
import { classify, type Event } from '../../events/event.js';
import { compact, type FormatParser } from '../format.js';
import { htmlToText, type MailReport } from '../mail/report.js';

const DOMAIN = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+$/i;

function domainOf(mail: MailReport): string | undefined {
  if (!/(?:^|\.)haveibeenpwned\.com$/i.test(mail.from.email?.split('@')[1] ?? '')) return undefined;
  const named = /\bon (\S{4,253}?) (?:has|have) been (?:pwned|found)\b/i.exec(mail.subject)?.[1]
    ?? /\bemails? on "?([^\s"]{4,253}?)"? (?:were|was|have been|has been) pwned\b/i.exec(mail.text().slice(0, 4000))?.[1];
  return named && DOMAIN.test(named) ? named.toLowerCase() : undefined;
}

/** The value beside a label of the breach table, as the HTML part reads as text. */
function field(table: string, label: string): string | undefined {
  const at = table.indexOf(label);
  if (at < 0) return undefined;
  const v = table.slice(at + label.length, at + label.length + 300).trim().split('\n')[0].trim();
  return v || undefined;
}

export const hibp: FormatParser = {
  name: 'haveibeenpwned',
  detect: (mail) => domainOf(mail) !== undefined,
  parse(mail, _ctx, sink) {
    const html = mail.parts().find((p) => p.type === 'text/html');
    // One cell a line: the table's lines trimmed, the empty ones dropped (split, not a \s*\n\s*
    // expression, which is quadratic over a long run of blanks).
    const table = html ? htmlToText(html.text().slice(0, 200_000)).split(/\r\n?|\n/).map((l) => l.replace(/[ \t\u00a0]+/g, ' ').trim()).filter(Boolean).join('\n') : '';
    const day = Date.parse(`${field(table, 'Date of breach:') ?? ''} UTC`);
    const accounts = Number((field(table, 'Your accounts:') ?? '').replace(/,/g, ''));
    const e: Event = {
      'feed.name': 'haveibeenpwned', 'feed.provider': 'Have I Been Pwned',
      'source.fqdn': domainOf(mail),
      // The day of the breach when the notification gives it, else when it was sent.
      'time.source': Number.isNaN(day) ? mail.date : new Date(day).toISOString(),
      'event_description.text': mail.subject || undefined,
      'extra.breach': field(table, 'Breach:'),
      'extra.compromised_data': field(table, 'Compromised data:'),
      'extra.accounts': Number.isSafeInteger(accounts) && accounts > 0 ? accounts : undefined,
    };
    sink.add(compact(classify(e, 'data-leak', /spam list/i.test(mail.subject) ? 'spam-list' : 'breach')));
    return { forwardConsent: null };
  },
};
