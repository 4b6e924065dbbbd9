// AbuseHub (the Dutch Abuse Information Exchange clearing house) incident mails: the incidents it
// relays from Shadowserver, Spamhaus, feedback loops and others come as an `abusehubcsv-*.csv`
// attachment, one incident per row, or in its other layout as an IODEF document
// (`iodef-1.0.0_*.xml`, RFC 5070, one Incident each), beside the source's own evidence (a
// Shadowserver CSV with a random name, say). The AbuseHub rows are read; the evidence stays with
// the stored mail, so an incident is one event, not one per attachment.
import { classify, type Event } from '../../events/event.js';
import { compact, ipOf, portOf, type FormatParser } from '../format.js';
import type { MimePart } from '../mail/mime.js';
import { CsvReader } from '../shadowserver/csv.js';
import { timeOn } from '../text/time.js';
import { child, childText, children, parseXml, type XmlElement } from '../acns/xml.js';

const ABUSEHUB_CSV = /^abusehubcsv-[^/\\]*\.csv$/i;

const isAbusehubCsv = (p: MimePart) => ABUSEHUB_CSV.test(p.filename ?? '');
const isAbusehubIodef = (p: MimePart) => /^iodef-[^/\\]*\.xml$/i.test(p.filename ?? '') && p.body().subarray(0, 600).toString('latin1').includes('<IODEF-Document');

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
  [/\b(?:open|vulnerab\w*|accessible|poodle|freak|ntp|ipmi|resolvers?|mongodb|vpn)\b/i, 'vulnerable-system'],
];

/** The AbuseHub columns the event schema has a key for; the others go to extra.<column>. */
const KEYS: Record<string, keyof Event> = {
  src_asn: 'source.asn', src_port: 'source.port', src_url: 'source.url', src_email: 'source.account', src_hostname: 'source.reverse_dns',
  dst_ip: 'destination.ip', dst_asn: 'destination.asn', dst_port: 'destination.port', dst_url: 'destination.url',
  dst_email: 'destination.account', dst_hostname: 'destination.reverse_dns',
};

export const abusehub: FormatParser = {
  name: 'abusehub',
  detect: (mail) => mail.parts().some((p) => isAbusehubCsv(p) || isAbusehubIodef(p)),
  async parse(mail, _ctx, sink) {
    // event_date and event_time carry no zone: they are on the clock of the mail's Date: header
    // (a row of 01:45:59 in a +0100 mail is the 00:45:59 UTC of the Shadowserver evidence).
    const zoneless = () => mail.dateOffset ?? 0;
    for (const part of mail.parts().filter(isAbusehubIodef)) {
      for (const inc of children(parseXml(part.text()) ?? undefined, 'incident')) {
        const e = incident(iodefRow(inc), mail.subject, zoneless);
        if (e) sink.add(e);
      }
    }
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

/**
 * An IODEF Incident as AbuseHub writes it, as the AbuseHubCsv row it restates: AdditionalData
 * "original reporttype" (else the Method's ReferenceName), the source System's address, AS,
 * protocol and Service Port, the target's address, DetectTime (with its zone) as the event time.
 */
function iodefRow(inc: XmlElement): Record<string, string> {
  const data = children(child(child(inc, 'eventdata'), 'record'), 'recorddata').flatMap((r) => children(r, 'additionaldata'));
  const meaning = (m: string) => data.find((d) => d.attrs.meaning === m)?.text.trim();
  const flow = child(child(inc, 'eventdata'), 'flow');
  const side = (category: string) => children(flow, 'system').find((sys) => sys.attrs.category === category);
  const address = (sys: XmlElement | undefined, test: (a: XmlElement) => boolean) => children(child(sys, 'node'), 'address').find(test)?.text.trim();
  const ipAddress = (a: XmlElement) => a.attrs.category === 'ipv4-addr' || a.attrs.category === 'ipv6-addr';
  const src = side('source'), dst = side('target');
  const row: Record<string, string | undefined> = {
    report_type: meaning('original reporttype') ?? childText(child(child(inc, 'method'), 'reference'), 'referencename')?.trim(),
    reliable_notifier: meaning('original notifier'), priority: meaning('priority'), incident_id: childText(inc, 'incidentid')?.trim(),
    event_date: childText(inc, 'detecttime')?.trim(),
    src_ip: address(src, ipAddress), src_asn: address(src, (a) => a.attrs.category === 'asn'),
    src_port: childText(child(src, 'service'), 'port')?.trim(),
    protocol: address(src, (a) => a.attrs['ext-category'] === 'protocol' && /^[a-z]+$/i.test(a.text.trim())),
    dst_ip: address(dst, ipAddress),
  };
  return Object.fromEntries(Object.entries(row).filter((kv): kv is [string, string] => !!kv[1]));
}

function incident(row: Record<string, string>, subject: string, zoneless: () => number): Event | null {
  const ip = ipOf(row.src_ip ?? '');
  if (!ip && !row.src_url && !row.src_email) return null;
  const report = row.report_type ?? '';
  const type = KINDS.find(([words]) => words.test(report))?.[1] ?? 'other';
  const infection = row.infection_type?.toLowerCase();
  const e: Event = {
    'feed.name': 'abusehub', 'feed.provider': 'AbuseHub', 'event_description.text': subject || undefined,
    'source.ip': ip, 'time.source': timeOn(`${row.event_date ?? ''} ${row.event_time ?? ''}`, zoneless),
  };
  // infection_type names the malware only where there is some: FBL rows repeat the feed's name.
  if (type === 'infected-system' || type === 'c2-server') e['malware.name'] = infection;
  else if (row.infection_type) e['extra.infection_type'] = row.infection_type;
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
