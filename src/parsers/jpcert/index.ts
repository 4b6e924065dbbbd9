// JPCERT/CC notifications: Japanese (often with an English part), PGP clear-signed, indicators
// defanged (hxxps://example[.]jp/) with the hosting address in parentheses beside the URL. The
// text engine does the reading; this module adds the coordinator's name and incident number.
import type { Event } from '../../events/event.js';
import type { FormatParser } from '../format.js';
import { textEvents } from '../freeform/index.js';
import { forwardConsent } from '../text/classify.js';

const INCIDENT = /JPCERT#\s*(\d{5,})|\[JPCERT\/CC\s*#?(\d{5,})\]|\b(?:JPCERT-|JPCERT\/CC-)?IR#?\s*(\d{8,})/i;

export const jpcert: FormatParser = {
  name: 'jpcert',
  detect(mail) {
    if (/@(?:[a-z0-9-]+\.)*jpcert\.or\.jp$/.test(mail.from.email ?? '')) return true;
    return /JPCERT\/CC|JPCERT#/i.test(mail.subject) || mail.text().slice(0, 3000).includes('JPCERT/CC');
  },
  parse(mail, ctx, sink) {
    const text = mail.text();
    const base: Event = { 'feed.name': 'jpcert', 'feed.provider': 'JPCERT/CC' };
    const m = INCIDENT.exec(mail.subject) ?? INCIDENT.exec(text);
    const incident = m?.[1] ?? m?.[2] ?? m?.[3];
    if (incident) base['extra.jpcert_incident'] = incident;
    textEvents(mail, ctx, sink, text, base);
    return { forwardConsent: forwardConsent(text) };
  },
};
