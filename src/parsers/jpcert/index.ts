// JPCERT/CC notifications: Japanese (often with an English part), PGP clear-signed, indicators
// defanged (hxxps://example[.]jp/) with the hosting address in parentheses beside the URL. The
// text engine does the reading; this module adds the coordinator's name and incident number.
import type { Event } from '../../events/event.js';
import type { FormatParser } from '../format.js';
import { textEvents } from '../freeform/index.js';
import { forwardConsent } from '../text/classify.js';

const INCIDENT = /JPCERT#\s*(\d{5,})|\[JPCERT\/CC\s*#?(\d{5,})\]|\b(?:JPCERT-|JPCERT\/CC-)?IR#?\s*(\d{8,})/i;
// "確認日時: 2026-11-25 13:40 (JST)", "First seen: 2026-11-25 22:10 (UTC)": when the site was seen.
const SEEN = /(?:確認日時|検知日時|発見日時|観測日時|First seen|Detected(?: at)?|Observed(?: at)?)[ \t]*[:：][ \t]*(\d{4})[-/年](\d{1,2})[-/月](\d{1,2})日?[ T]+(\d{1,2}):(\d{2})(?::(\d{2}))?[ \t]*\(?[ \t]*(JST|UTC|GMT|[+-]\d{2}:?\d{2})?/i;

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
    const seen = seenAt(text);
    if (seen) base['time.source'] = seen;
    textEvents(mail, ctx, sink, text, base);
    return { forwardConsent: forwardConsent(text) };
  },
};

/** The first "seen at" time of the notice, ISO; a time without a zone is Japan's. */
function seenAt(text: string): string | undefined {
  const m = SEEN.exec(text);
  if (!m) return undefined;
  const zone = (m[7] ?? 'JST').toUpperCase();
  const offset = zone === 'JST' ? '+09:00' : zone === 'UTC' || zone === 'GMT' ? 'Z' : zone.replace(/^([+-]\d{2}):?(\d{2})$/, '$1:$2');
  const pad = (v: string | undefined) => (v ?? '0').padStart(2, '0');
  const t = Date.parse(`${m[1]}-${pad(m[2])}-${pad(m[3])}T${pad(m[4])}:${m[5]}:${pad(m[6])}${offset}`);
  return Number.isNaN(t) ? undefined : new Date(t).toISOString();
}
