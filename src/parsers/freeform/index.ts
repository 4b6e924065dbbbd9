// Reports people write by hand, in English or Japanese, and anything no other module
// recognises: the resources the text is about, classified by its words (`other` when they say
// nothing the desk knows).
import type { Event } from '../../events/event.js';
import { resourceEvent, type FormatParser } from '../format.js';
import type { MailReport } from '../mail/report.js';
import { classifyText, forwardConsent } from '../text/classify.js';
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
    reporterDomain: mail.reporterDomain,
    relayIps: mail.relayIps(),
  });
  const cls = type ?? classifyText(mail.subject, text) ?? { type: 'other' };
  const common: Event = { ...base };
  if (mail.reporterDomain && !common['feed.provider']) common['feed.provider'] = mail.reporterDomain;
  if (mail.subject) common['event_description.text'] = mail.subject;
  for (const s of subjects) sink.add(resourceEvent(s, cls.type, cls.identifier, common));
}
