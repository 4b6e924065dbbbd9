// X-ARF in all its generations: 0.1/0.2 (a YAML part in a MIME mail flagged by an X-ARF or
// X-XARF header, as fail2ban's xarf-login-attack action sends it), JSON v3 (ReporterInfo /
// Report) and JSON v4 (xarf_version 4.x, category or class + type), bare or as the xarf.json
// part of an ARF mail.
import { parse as parseYaml } from 'yaml';
import { classify, type Event } from '../../events/event.js';
import { compact, ipOf, portOf, urlFields, type FormatParser } from '../format.js';
import type { MimePart } from '../mail/mime.js';
import type { EventSink } from '../sink.js';
import type { Reporter } from '../types.js';
import { textEvents } from '../freeform/index.js';
import { classifyText, forwardConsent } from '../text/classify.js';
import { findSubjects } from '../text/evidence.js';

/** X-ARF v4 category/type (and v3 / 0.x report types) to RSIT type and identifier. */
const TYPES: Record<string, string> = {
  // messaging
  spam: 'spam', 'bulk-messaging': 'spam', phishing: 'phishing', 'social-engineering': 'social-engineering',
  'malware-distribution': 'malware-distribution', harassment: 'harmful-speech', spoofing: 'masquerade', 'ip-spoof': 'masquerade',
  // connection
  ddos: 'ddos', 'ddos-amplification': 'ddos', 'port-scan': 'scanner', portscan: 'scanner', 'brute-force': 'brute-force',
  'login-attack': 'brute-force', 'ssh-attack': 'brute-force', 'rdp-attack': 'brute-force', 'auth-failure': 'brute-force',
  'exploit-attempt': 'exploit', 'sql-injection': 'exploit', 'unauthorized-access': 'unauthorised-information-access',
  'vpn-abuse': 'unauthorized-use-of-resources', 'proxy-abuse': 'unauthorized-use-of-resources', scraping: 'unauthorized-use-of-resources',
  'vuln-scanning': 'scanner', 'vulnerability-scan': 'scanner', reconnaissance: 'scanner', bot: 'infected-system', 'infected-host': 'infected-system',
  'malware-attack': 'infected-system', 'hack-attack': 'exploit', 'ids-alert': 'ids-alert',
  // content
  'phishing-site': 'phishing', malware: 'malware-distribution', 'c2-server': 'c2-server', defacement: 'application-compromise',
  fraud: 'masquerade', 'fake-shop': 'masquerade', 'fake-lottery': 'masquerade', 'fake-pharmacy': 'masquerade',
  'illegal-content': 'harmful-speech', csam: 'violence', csem: 'violence', 'exposed-data': 'data-leak',
  'brand-infringement': 'copyright', 'remote-compromise': 'system-compromise', 'web-hack': 'application-compromise',
  // a look-alike domain registered to impersonate a brand (typosquatting, brand keywords)
  'suspicious-registration': 'masquerade', spamvertised: 'spam',
  // infrastructure
  'compromised-host': 'system-compromise', 'compromised-server': 'system-compromise', 'botnet-member': 'infected-system',
  botnet: 'infected-system', 'open-resolver': 'ddos-amplifier', 'open-relay': 'vulnerable-system', 'vulnerable-service': 'vulnerable-system',
  // copyright
  copyright: 'copyright', dmca: 'copyright', 'file-sharing': 'copyright', p2p: 'copyright', 'stream-ripping': 'copyright',
  cyberlocker: 'copyright', trademark: 'copyright', 'link-site': 'copyright', 'ugc-platform': 'copyright', usenet: 'copyright',
  'copyright-infringement': 'copyright',
  // vulnerability
  cve: 'vulnerable-system', misconfiguration: 'vulnerable-system', 'exposed-credentials': 'information-disclosure',
  'weak-crypto': 'weak-crypto', 'missing-patch': 'vulnerable-system', 'insecure-default': 'vulnerable-system',
  'information-leak': 'information-disclosure', open: 'vulnerable-system', 'open-service': 'vulnerable-system',
  'outdated-dnssec': 'weak-crypto', 'malicious-activity': 'exploit',
  // reputation
  blocklist: 'blacklist', 'threat-intel': 'blacklist', 'threat-intelligence': 'blacklist', 'bad-reputation': 'blacklist',
  'spam-source': 'spam', 'malware-source': 'malware-distribution', 'attack-source': 'blacklist', 'abuse-history': 'blacklist',
  trap: 'blacklist', 'ip-reclamation': 'other',
  // XARF 3 (abusix) ReportTypes
  'child-abuse': 'violence', dos: 'ddos',
  // X-ARF 0.2 Report-Types blocklist.de sends beside login-attack and hack-attack
  info: 'blacklist', dnsbl: 'blacklist', harvesting: 'scanner', ircbot: 'infected-system', 'irc-bot': 'infected-system',
  regbot: 'spam', 'reg-bot': 'spam', badbot: 'scanner', 'bad-bot': 'scanner', apacheddos: 'ddos', 'web-attack': 'exploit',
};

/** `other` inside a category means that category's catch-all. */
const CATEGORY_OTHER: Record<string, string> = {
  messaging: 'spam', connection: 'other', content: 'other', infrastructure: 'vulnerable-system', copyright: 'copyright',
  vulnerability: 'vulnerable-system', reputation: 'blacklist',
  // X-ARF 0.x categories
  fraud: 'masquerade', info: 'blacklist',
};

export function xarfType(category: string | undefined, type: string | undefined): string {
  const t = (type ?? '').toLowerCase().replace(/[_\s]+/g, '-');
  const c = (category ?? '').toLowerCase();
  if (t === 'phishing' && c === 'messaging') return 'phishing';
  if (t === 'other' || !t) return CATEGORY_OTHER[c] ?? 'other';
  const known = TYPES[t] ?? TYPES[t.replace(/-/g, '')];
  if (known) return known;
  // Families the v4 samples name one product or attack at a time: compromised_website,
  // compromised_microsoft_exchange, compromised_account; ssl_freak, ssl_poodle.
  if (t.startsWith('compromised-')) return 'system-compromise';
  if (/^(?:ssl|tls)-/.test(t)) return 'weak-crypto';
  return CATEGORY_OTHER[c] ?? 'other';
}

export function isXarfJson(doc: unknown): boolean {
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) return false;
  const d = doc as Record<string, unknown>;
  return typeof d.xarf_version === 'string' || (typeof d.Report === 'object' && d.Report !== null) || 'ReporterInfo' in d;
}

function xarfHeader(mail: { root: MimePart }): boolean {
  return mail.root.header('x-arf') !== undefined || mail.root.header('x-xarf') !== undefined;
}

function jsonPart(parts: MimePart[]): Record<string, unknown> | undefined {
  for (const p of parts) {
    const name = (p.filename ?? '').toLowerCase();
    if (!(name === 'xarf.json' || name.endsWith('.json') || p.type === 'application/json')) continue;
    try {
      const doc = JSON.parse(p.text());
      if (isXarfJson(doc)) return doc;
    } catch { /* not JSON: try the next part */ }
  }
  return undefined;
}

export const xarf: FormatParser = {
  name: 'xarf',
  detect(mail) {
    if (xarfHeader(mail)) return true;
    // An X-ARF 0.x report saved on its own (no mail around it): the YAML document is the text.
    if (mail.root.headers.length === 0 && yamlIn(mail.text().slice(0, 8192))) return true;
    const parts = mail.parts();
    if (parts.some((p) => (p.filename ?? '').toLowerCase() === 'xarf.json')) return true;
    // Any other JSON attachment (application/json, report.json as octet-stream) only when it is
    // X-ARF: other reports come as JSON too (ThreatExchange descriptors).
    return jsonPart(parts) !== undefined;
  },
  parse(mail, ctx, sink) {
    const parts = mail.parts();
    const doc = jsonPart(parts);
    if (doc) return xarfJsonEvents(doc, sink);
    let yamlReport: Record<string, unknown> | undefined;
    let reportPart: MimePart | undefined;
    for (const p of parts) if ((yamlReport = yamlOf(p))) { reportPart = p; break; }
    // No report part (the MIME structure broken, the YAML pasted into the text): the report's
    // fields where the text has them, else the text read as a human-written report.
    yamlReport ??= yamlIn(mail.text());
    if (!yamlReport) {
      const text = mail.text();
      textEvents(mail, ctx, sink, text, { 'feed.name': 'freeform' });
      return { forwardConsent: forwardConsent(text) };
    }
    // The evidence: the text parts after the human-readable one, less the report itself (the
    // first part is the sender's boilerplate, which names every kind of abuse it reports).
    const evidence = () => parts.filter((p, i) => i > 0 && p !== reportPart && p.type.startsWith('text/')).map((p) => p.text().slice(0, 20_000)).join('\n');
    // A site reported by URL: the address the human-readable part gives beside it ("hxxps://... [192.0.2.1]").
    const addressOf = (host: string) => {
      const words = parts.find((p) => p !== reportPart && p.type === 'text/plain');
      return words && findSubjects(words.text().slice(0, 50_000), { isOurs: () => false, reporterDomains: mail.reporterDomains })
        .find((r) => r.ip && r.fqdn === host)?.ip;
    };
    const date = legacyEvent(yamlReport, mail.subject, sink, evidence, addressOf);
    const from = yamlReport['reported-from'];
    return { reporter: typeof from === 'string' ? { email: from.toLowerCase() } : undefined, date, forwardConsent: null };
  },
};

/** An X-ARF 0.x report inside a text: the "---" line it starts with and the fields after it. */
function yamlIn(body: string): Record<string, unknown> | undefined {
  // At the start of the text too (a report saved on its own).
  const text = '\n' + body;
  for (let at = text.indexOf('\n---'); at >= 0; at = text.indexOf('\n---', at + 4)) {
    const m = /^\n---[ \t]*\r?\n/.exec(text.slice(at, at + 8));
    if (!m) continue;
    const report = yamlText(text.slice(at + m[0].length, at + m[0].length + 8000));
    if (report && (report.source || report['report-type'])) return report;
  }
  return undefined;
}

/** The YAML report of an X-ARF 0.x mail, keys lower-cased; undefined when the part is not one. */
function yamlOf(p: MimePart): Record<string, unknown> | undefined {
  if (!p.type.startsWith('text/') && !p.type.includes('yaml')) return undefined;
  return yamlText(p.text());
}

function yamlText(text: string): Record<string, unknown> | undefined {
  // The report fields come first in an X-ARF YAML part; a log file part is not looked through.
  if (!/^(?:Report-Type|Reported-From|Category|Source-Type)\s*:/im.test(text.slice(0, 2000))) return undefined;
  // X-ARF 0.x reports are flat "Key: value" lines; the YAML parser is for anything fancier (and ten times slower).
  let doc: unknown;
  if (/^[\w-]+\s*:\s*[|>[{&*!]/m.test(text)) {
    try {
      doc = parseYaml(text, { maxAliasCount: 10 });
    } catch {
      doc = simpleFields(text);
    }
  } else {
    doc = simpleFields(text);
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) return undefined;
  return Object.fromEntries(Object.entries(doc as Record<string, unknown>).map(([k, v]) => [k.toLowerCase(), v]));
}

/** `Key: value` lines, values unquoted; the first occurrence of a key counts. */
function simpleFields(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  // The value's trailing blanks are cut after the match: a lazy value before [ \t]*$ is
  // quadratic over a long run of blanks inside a line.
  for (const m of text.matchAll(/^([A-Za-z][\w-]*)[ \t]*:[ \t]*(.*)$/gm)) {
    const v = m[2].replace(/[ \t]+$/, '');
    out[m[1]] ??= v.length >= 2 && (v[0] === '"' || v[0] === "'") && v[v.length - 1] === v[0] ? v.slice(1, -1) : v;
  }
  return out;
}

/**
 * Adds the event of an X-ARF 0.x report; returns its Date (fail2ban's report mails carry no Date
 * header). `evidence`: the attached logs, read when the report's type says no more than "info";
 * `addressOf`: the address the mail's text gives a reported host.
 */
function legacyEvent(y: Record<string, unknown>, subject: string, sink: EventSink, evidence: () => string, addressOf: (host: string) => string | undefined): string | undefined {
  const str = (k: string) => (y[k] === undefined || y[k] === null ? undefined : String(y[k]).trim());
  const e: Event = { 'feed.name': 'xarf', 'event_description.text': subject || undefined };
  setSource(e, str('source') ?? '', str('source-type'));
  if (e['source.fqdn'] && !e['source.ip']) e['source.ip'] = addressOf(e['source.fqdn']);
  // malware-attack reports name the server as Source and the malware on it as Download-Link.
  const link = str('download-link');
  const download = link ? urlFields(link) : null;
  if (download && !e['source.url']) Object.assign(e, { ...download, 'source.ip': e['source.ip'] ?? download['source.ip'] });
  e['destination.port'] = portOf(str('port') ?? str('source-port'));
  const dst = str('destination') ?? str('destination-ip');
  if (dst) e['destination.ip'] = dst;
  e['time.source'] = isoTime(str('date'));
  e['feed.provider'] = domainOf(str('reported-from'));
  e['protocol.application'] = str('service')?.toLowerCase();
  e['extra.xarf_version'] = str('version');
  e['extra.report_id'] = str('report-id');
  e['extra.user_agent'] = str('user-agent');
  e['extra.tlp'] = str('tlp')?.toLowerCase();
  const occurrences = Number(str('occurrences') ?? str('occurances'));
  if (Number.isFinite(occurrences) && occurrences > 0) e['extra.occurrences'] = occurrences;
  const reportType = str('report-type');
  let type = xarfType(str('category'), reportType);
  // "info" names no kind of abuse: the subject and the attached logs may ("AUTH failure" lines
  // of a mail server under a password attack); else it is a listing.
  if ((reportType ?? str('category'))?.toLowerCase() === 'info') type = classifyText(subject, evidence())?.type ?? type;
  // A malware-attack "from" a URI is malware served at that URL, not an infected host.
  if (type === 'infected-system' && e['source.url'] && /malware/i.test(reportType ?? '')) type = 'malware-distribution';
  sink.add(compact(classify(e, type, reportType?.toLowerCase())));
  return e['time.source'];
}

/** Events of a JSON X-ARF document (v3 or v4). */
export function xarfJsonEvents(doc: Record<string, unknown>, sink: EventSink): { reporter?: Reporter; date?: string; forwardConsent?: boolean | null } {
  return typeof doc.xarf_version === 'string' ? v4(doc, sink) : v3(doc, sink);
}

function v4(d: Record<string, unknown>, sink: EventSink) {
  const obj = (v: unknown) => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {});
  const s = (v: unknown) => (typeof v === 'string' && v.trim() ? v.trim() : typeof v === 'number' ? String(v) : undefined);
  const reporter = obj(d.reporter);
  const category = s(d.category) ?? s(d.class);
  const type = s(d.type);
  const e: Event = { 'feed.name': 'xarf', 'feed.provider': s(reporter.org) ?? domainOf(s(reporter.contact)) };
  setSource(e, s(d.source_identifier) ?? '');
  const url = s(d.url) ?? s(d.infringing_url) ?? s(d.phishing_url);
  if (url) setSource(e, url, 'uri');
  // Vulnerability reports name the exposed service's port as service_port (or port).
  e['source.port'] = portOf(d.source_port) ?? portOf(d.service_port) ?? portOf(d.port);
  if (s(d.destination_ip)) e['destination.ip'] = s(d.destination_ip);
  e['destination.port'] = portOf(d.destination_port);
  setProtocol(e, s(d.protocol));
  e['protocol.application'] ??= s(d.service)?.toLowerCase();
  e['time.source'] = isoTime(s(d.timestamp));
  e['malware.name'] = s(d.malware_family)?.toLowerCase();
  e['event_description.text'] = s(d.description) ?? s(d.subject);
  e['extra.xarf_version'] = s(d.xarf_version);
  e['extra.report_id'] = s(d.report_id);
  e['extra.xarf_category'] = category?.toLowerCase();
  e['extra.xarf_type'] = type?.toLowerCase();
  e['extra.cve'] = s(d.cve_id);
  e['extra.smtp_from'] = s(d.smtp_from);
  e['extra.threat_type'] = s(d.threat_type)?.toLowerCase();
  e['extra.severity'] = (s(d.severity) ?? s(d.risk_level))?.toLowerCase();
  if (typeof d.confidence === 'number') e['extra.confidence'] = d.confidence;
  if (Array.isArray(d.tags) && d.tags.every((t) => typeof t === 'string')) e['extra.tags'] = d.tags as string[];
  sink.add(compact(classify(e, xarfType(category, type), [category, type].filter(Boolean).join('/').toLowerCase() || undefined)));
  const contact = s(reporter.contact);
  return { reporter: { email: contact?.includes('@') ? contact.toLowerCase() : undefined, name: s(reporter.org) }, date: e['time.source'], forwardConsent: null };
}

function v3(d: Record<string, unknown>, sink: EventSink) {
  const obj = (v: unknown) => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {});
  const s = (v: unknown) => (typeof v === 'string' && v.trim() ? v.trim() : typeof v === 'number' ? String(v) : undefined);
  const info = obj(d.ReporterInfo);
  const r = obj(d.Report);
  const src = obj(r.Source);
  const add = obj(r.AdditionalInfo);
  const e: Event = { 'feed.name': 'xarf', 'feed.provider': s(info.ReporterOrg) ?? s(info.ReporterOrgDomain) };
  const srcType = s(src.Type) ?? s(r.SourceType);
  // abusix's XARF 3 names the address and the URL side by side (SourceIp + SourceUrl / InfringingUrl).
  setSource(e, s(src.IP) ?? s(r.SourceIp) ?? s(src.Domain) ?? s(r.SourceDomain) ?? s(r.Source) ?? '', srcType);
  const url = s(src.URL) ?? s(r.SourceUrl) ?? s(r.InfringingUrl) ?? s(r.Url);
  if (url) setSource(e, url, 'uri');
  e['source.port'] = portOf(src.Port ?? r.SourcePort);
  const dst = s(add.DestinationIP) ?? s(r.DestinationIp);
  if (dst) e['destination.ip'] = dst;
  e['destination.port'] = portOf(add.DestinationPort ?? r.DestinationPort);
  setProtocol(e, s(add.Protocol));
  e['malware.name'] = (s(add.MalwareFamily) ?? s(r.MalwareName) ?? s(r.BotnetName))?.toLowerCase();
  e['extra.smtp_from'] = s(add.SMTPFrom) ?? s(r.SmtpMailFromAddress) ?? s(r.FromAddress);
  e['extra.report_subtype'] = s(r.ReportSubType)?.toLowerCase();
  e['time.source'] = isoTime(s(r.Date));
  e['extra.xarf_version'] = s(d.Version) ?? '3';
  const type = s(r.ReportType)?.replace(/([a-z])([A-Z])/g, '$1-$2').toLowerCase();
  const reportClass = s(r.ReportClass)?.toLowerCase();
  e['extra.report_class'] = reportClass;
  // Malware seen as activity (a host talking to a sinkhole or an RPZ-listed domain) is an infection.
  const rsit = type === 'malware' && reportClass === 'activity' ? 'infected-system' : xarfType(reportClass, type);
  sink.add(compact(classify(e, rsit, type)));
  const email = s(info.ReporterContactEmail) ?? s(info.ReporterOrgEmail);
  return {
    reporter: { email: email?.toLowerCase(), name: s(info.ReporterContactName) ?? s(info.ReporterOrg) },
    date: e['time.source'],
    forwardConsent: typeof d.Disclosure === 'boolean' ? d.Disclosure : null,
  };
}

/** X-ARF `protocol` holds a transport (tcp, udp) or, for messaging, an application (smtp, whatsapp). */
function setProtocol(e: Event, v: string | undefined): void {
  const p = v?.toLowerCase();
  if (!p) return;
  if (p === 'tcp' || p === 'udp' || p === 'icmp' || p === 'sctp') e['protocol.transport'] = p;
  else e['protocol.application'] = p;
}

/** Source by its declared type (ipv4, ip-address, ipv6, uri, url, domain, email), or by its look. */
function setSource(e: Event, value: string, declared?: string): void {
  const v = value.trim();
  if (!v) return;
  const t = (declared ?? '').toLowerCase();
  const ip = ipOf(v);
  if (ip) { e['source.ip'] = ip; return; }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(v) || t === 'uri' || t === 'url') {
    const u = urlFields(/:\/\//.test(v) ? v : `http://${v}`);
    if (u) Object.assign(e, { ...u, 'source.ip': e['source.ip'] ?? u['source.ip'] });
    return;
  }
  if (v.includes('@') || t === 'email') { e['source.account'] = v.toLowerCase(); return; }
  if (/^[a-z0-9.-]+\.[a-z]{2,}$/i.test(v)) { e['source.fqdn'] = v.toLowerCase(); return; }
  if (/^[\d.]+\/\d{1,2}$/.test(v) || /^[\da-f:]+\/\d{1,3}$/i.test(v)) { e['source.network'] = v.toLowerCase(); return; }
  // A phone number (WhatsApp, SMS abuse) is the subject as an account.
  if (/^\+?\d[\d -]{5,}$/.test(v)) e['source.account'] = v.replace(/[ -]/g, '');
}

function isoTime(v: string | undefined): string | undefined {
  if (!v) return undefined;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : new Date(t).toISOString();
}

function domainOf(v: string | undefined): string | undefined {
  if (!v) return undefined;
  const at = v.lastIndexOf('@');
  return (at >= 0 ? v.slice(at + 1) : v).replace(/[>\s].*$/, '').toLowerCase() || undefined;
}
