// Reports people write by hand, in English or Japanese, and anything no other module
// recognises: the resources the text is about, classified by its words (`other` when they say
// nothing the desk knows).
import type { Event } from '../../events/event.js';
import { resourceEvent, type FormatParser } from '../format.js';
import type { MailReport } from '../mail/report.js';
import { classifyText, detectLanguage, forwardConsent } from '../text/classify.js';
import { findSubjects } from '../text/evidence.js';
import type { ParseContext } from '../types.js';
import type { EventSink } from '../sink.js';

export const freeform: FormatParser = {
  name: 'freeform',
  detect: () => true,
  parse(mail, ctx, sink) {
    const text = mail.text();
    textEvents(mail, ctx, sink, text, { 'feed.name': 'freeform' });
    return { forwardConsent: forwardConsent(text) };
  },
};

/** Events for the resources a text is about, classified by its words unless `type` is given. */
export function textEvents(mail: MailReport, ctx: ParseContext, sink: EventSink, text: string, base: Event, type?: { type: string; identifier?: string }): void {
  const at = mail.date ? new Date(mail.date) : undefined;
  const subjects = findSubjects(`${mail.subject}\n\n${text}`, {
    isOurs: (r) => ctx.isOurs(r, at),
    reporterDomains: mail.reporterDomains,
    relayIps: mail.relayIps(),
    // A time written without a zone is on the reporter's clock: its Date: header's zone, else
    // Japan's in a Japanese report, else UTC.
    zoneless: () => mail.dateOffset ?? (detectLanguage(mail.subject, text) === 'ja' ? 540 : 0),
    writtenAt: at?.getTime(),
  });
  const cls = type ?? classifyText(mail.subject, text) ?? { type: 'other' };
  const common: Event = { ...base };
  if (mail.reporterDomain && !common['feed.provider']) common['feed.provider'] = mail.reporterDomain;
  if (mail.subject) common['event_description.text'] = mail.subject;
  const byHeading = new Map<string, ReturnType<typeof classifyText>>();
  for (const s of subjects) {
    // A list's own heading says what its entries did ("IPs Engaged In Comment Spamming:").
    let own = null;
    if (!type && s.heading) {
      own = byHeading.get(s.heading);
      if (own === undefined) byHeading.set(s.heading, (own = classifyText(s.heading, '')));
    }
    const c = own ?? cls;
    const e = resourceEvent(s, c.type, c.identifier, common);
    if (s.time && !e['time.source']) e['time.source'] = s.time;
    sink.add(e);
  }
}
