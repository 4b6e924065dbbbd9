// AbuseHub (the Dutch Abuse Information Exchange clearing house) incident mails: the incidents it
// relays from Shadowserver, Spamhaus, feedback loops and others come as an `abusehubcsv-*.csv`
// attachment, one incident per row, beside the source's own evidence (a Shadowserver CSV with a
// random name, say). The AbuseHub rows are read; the evidence stays with the stored mail, so an
// incident is one event, not one per attachment.
import { classify, type Event } from '../../events/event.js';
import { compact, ipOf, portOf, type FormatParser } from '../format.js';
import type { MimePart } from '../mail/mime.js';
import { CsvReader } from '../shadowserver/csv.js';
import { timeOn } from '../text/time.js';

const ABUSEHUB_CSV = /^abusehubcsv-[^/\\]*\.csv$/i;

const isAbusehubCsv = (p: MimePart) => ABUSEHUB_CSV.test(p.filename ?? '');

/**
 * The kind of incident by the words of its report_type ("<notifier> <feed>": "Shadowserver Botnet
 * Drone", "Spamhaus Bot Report", "Hotmail FBL", "Shadowserver Open DNS Resolvers"); first match wins.
 */
const KINDS: Array<[RegExp, string]> = [
  [/\bcommand and control\b|\bc&c\b/i, 'c2-server'],
  [/\b(?:drones?|bot(?:net)?|infections?|infected|sinkhole|rat)\b/i, 'infected-system'],
  [/\bcompromised\b|\bbrobot\b|\bdefacement\b/i, 'system-compromise'],
  [/\bphish/i, 'phishing'],
  [/\bspam\b|\bfbl\b/i, 'spam'],
  [/\bmalware\b|\bsafe browsing\b|\bclean ?mx\b|\bsandbox\b/i, 'malware-distribution'],
  [/\b(?:open|vulnerable|accessible|poodle|freak|ntp|ipmi|resolvers?|mongodb)\b/i, 'vulnerable-system'],
];

/** The AbuseHub columns the event schema has a key for; the others go to extra.<column>. */
const KEYS: Record<string, keyof Event> = {
  src_asn: 'source.asn', src_port: 'source.port', src_url: 'source.url', src_email: 'source.account', src_hostname: 'source.reverse_dns',
  dst_ip: 'destination.ip', dst_asn: 'destination.asn', dst_port: 'destination.port', dst_url: 'destination.url',
  dst_email: 'destination.account', dst_hostname: 'destination.reverse_dns',
};

export const abusehub: FormatParser = {
  name: 'abusehub',
  detect: (mail) => mail.parts().some(isAbusehubCsv),
  async parse(mail, _ctx, sink) {
    // event_date and event_time carry no zone: they are on the clock of the mail's Date: header
    // (a row of 01:45:59 in a +0100 mail is the 00:45:59 UTC of the Shadowserver evidence).
    const zoneless = () => mail.dateOffset ?? 0;
    for (const part of mail.parts().filter(isAbusehubCsv)) {
      const reader = new CsvReader();
      const records = [...reader.push(part.body()), ...reader.end()];
      const header = (records.shift() ?? []).map((h) => h.trim().toLowerCase());
      for (const record of records) {
        const row: Record<string, string> = {};
        header.forEach((h, i) => { const v = record[i]?.trim(); if (v) row[h] = v; });
        const e = incident(row, mail.subject, zoneless);
        if (!e) continue;
        sink.add(e);
        if (sink.full) await sink.flush();
      }
    }
    return { forwardConsent: null };
  },
};

function incident(row: Record<string, string>, subject: string, zoneless: () => number): Event | null {
  const ip = ipOf(row.src_ip ?? '');
  if (!ip && !row.src_url && !row.src_email) return null;
  const report = row.report_type ?? '';
  const type = KINDS.find(([words]) => words.test(report))?.[1] ?? 'other';
  const infection = row.infection_type?.toLowerCase();
  const e: Event = {
    'feed.name': 'abusehub', 'feed.provider': 'AbuseHub', 'event_description.text': subject || undefined,
    'source.ip': ip, 'time.source': timeOn(`${row.event_date ?? ''} ${row.event_time ?? ''}`, zoneless),
    'malware.name': infection,
  };
  const proto = row.protocol?.toLowerCase();
  if (proto) e[/^(?:tcp|udp|icmp|sctp)$/.test(proto) ? 'protocol.transport' : 'protocol.application'] = proto;
  for (const [column, value] of Object.entries(row)) {
    const key = KEYS[column];
    if (key === 'source.port' || key === 'destination.port') e[key] = portOf(value);
    else if (key === 'source.asn' || key === 'destination.asn') e[key] = /^\d{1,10}$/.test(value) && Number(value) > 0 ? Number(value) : undefined;
    else if (key === 'destination.ip') e[key] = ipOf(value);
    else if (key) (e as Record<string, unknown>)[key] = key.endsWith('reverse_dns') ? value.toLowerCase() : value;
    else if (!/^(?:src_ip|event_date|event_time|infection_type|protocol)$/.test(column)) {
      e[`extra.${column.replace(/[^a-z0-9_]/g, '_')}`] = /^correlation_score\d$/.test(column) && /^\d+$/.test(value) ? Number(value) : value;
    }
  }
  // A sinkholed or infected host is named by its infection, as Shadowserver's own reports do.
  const identifier = type === 'infected-system' && infection ? infection : report.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'abusehub';
  return compact(classify(e, type, identifier));
}
