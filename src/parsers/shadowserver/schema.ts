// Shadowserver reports: how each report type is classified and how its columns become event keys.
// Known report types follow the published report schema (REPORTS in reports.ts); a type the schema
// does not name yet is classified by its family (classifyReport) and mapped with one column map.
import { LEGACY, REPORTS, type ReportSchema } from './reports.js';

export interface FamilyClass { type: string; identifier: string }

const dashed = (s: string) => s.replace(/_/g, '-');

/**
 * classification.type and .identifier by a report type's family, for types the schema does not
 * list (named the way the schema names its own), and for rows that leave an identifier column empty.
 */
export function classifyReport(report: string): FamilyClass {
  const r = (LEGACY[report]?.as ?? report).toLowerCase();
  let m: RegExpExecArray | null;
  if ((m = /^compromised_([a-z]+?)6?$/.exec(r))) return { type: 'system-compromise', identifier: `compromised-${m[1]}` };
  if (/^event[46]_(?:microsoft_)?sinkhole(?:_\w+)?$/.test(r)) return { type: 'infected-system', identifier: 'sinkhole' };
  if (/^event[46]_initial_access_broker$/.test(r)) return { type: 'system-compromise', identifier: 'initial-access-broker' };
  if ((m = /^event[46]_honeypot_(\w+)$/.exec(r))) return { type: 'scanner', identifier: `honeypot-${dashed(m[1])}` };
  if ((m = /^population6?_(\w+)$/.exec(r))) return { type: 'vulnerable-system', identifier: `accessible-${dashed(m[1])}` };
  if ((m = /^scan6?_(\w+?)(_vulnerable)?$/.exec(r))) return { type: 'vulnerable-system', identifier: `${m[2] ? 'vulnerable' : 'open'}-${dashed(m[1])}` };
  return { type: 'undetermined', identifier: dashed(r) };
}

export type Conv = 'time' | 'int' | 'num' | 'bool' | 'ip' | 'network' | 'lower' | 'fqdn' | 'text' | 'cve';

/** Column -> event key for report types the schema does not name yet; `extra.` for columns kept as they are. */
export const COLUMNS: Record<string, [key: string, conv: Conv]> = {
  timestamp: ['time.source', 'time'],
  ip: ['source.ip', 'ip'],
  src_ip: ['source.ip', 'ip'],
  port: ['source.port', 'int'],
  src_port: ['source.port', 'int'],
  asn: ['source.asn', 'int'],
  src_asn: ['source.asn', 'int'],
  hostname: ['source.reverse_dns', 'lower'],
  src_hostname: ['source.reverse_dns', 'lower'],
  geo: ['source.geolocation.cc', 'text'],
  src_geo: ['source.geolocation.cc', 'text'],
  region: ['source.geolocation.region', 'text'],
  src_region: ['source.geolocation.region', 'text'],
  city: ['source.geolocation.city', 'text'],
  src_city: ['source.geolocation.city', 'text'],
  protocol: ['protocol.transport', 'lower'],
  transport_protocol: ['protocol.transport', 'lower'],
  application: ['protocol.application', 'lower'],
  dst_ip: ['destination.ip', 'ip'],
  dst_port: ['destination.port', 'int'],
  dst_asn: ['destination.asn', 'int'],
  dst_geo: ['destination.geolocation.cc', 'text'],
  dst_hostname: ['destination.reverse_dns', 'lower'],
  infection: ['malware.name', 'lower'],
  family: ['malware.name', 'lower'],
  malware_family: ['malware.name', 'lower'],
  tag: ['extra.tag', 'text'],
  severity: ['extra.severity', 'text'],
  http_host: ['destination.fqdn', 'fqdn'],
  http_url: ['destination.url', 'text'],
  url: ['source.url', 'text'],
  username: ['source.account', 'text'],
  account: ['source.account', 'text'],
};

/** Families where the web site columns describe the reported (source) side. */
export function sourceIsWebsite(report: string): boolean {
  return /^(?:compromised_website6?|malware_url|scan6?_http\w*)$/.test(report);
}

/** Columns every report of the published schema maps alike (REPORTS says where one differs). */
const SHARED: Record<string, string> = {
  timestamp: 'time.source', ip: 'source.ip', port: 'source.port', asn: 'source.asn', hostname: 'source.reverse_dns',
  geo: 'source.geolocation.cc', region: 'source.geolocation.region', city: 'source.geolocation.city', protocol: 'protocol.transport',
  src_ip: 'source.ip', src_port: 'source.port', src_asn: 'source.asn', src_hostname: 'source.reverse_dns',
  src_geo: 'source.geolocation.cc', src_region: 'source.geolocation.region', src_city: 'source.geolocation.city',
  src_naics: 'extra.source.naics', src_sector: 'extra.source.sector',
  dst_ip: 'destination.ip', dst_port: 'destination.port', dst_asn: 'destination.asn', dst_hostname: 'destination.reverse_dns',
  dst_geo: 'destination.geolocation.cc', dst_region: 'destination.geolocation.region', dst_city: 'destination.geolocation.city',
  dst_naics: 'extra.destination.naics', dst_sector: 'extra.destination.sector',
  infection: 'malware.name',
  // The schema also reads the CVEs a tag names (product.vulnerabilities); the desk keeps them in extra.cve.
  tag: 'extra.tag extra.cve',
};

/** How a value is read for an event key (any other key: as it is). */
const KEY_CONV: Record<string, Conv> = {
  'time.source': 'time', 'source.ip': 'ip', 'destination.ip': 'ip', 'source.network': 'network',
  'source.port': 'int', 'destination.port': 'int', 'source.asn': 'int', 'destination.asn': 'int',
  'source.reverse_dns': 'lower', 'destination.reverse_dns': 'lower', 'source.fqdn': 'fqdn', 'destination.fqdn': 'fqdn',
  'protocol.transport': 'lower', 'protocol.application': 'lower', 'malware.name': 'lower', 'extra.cve': 'cve',
  'extra.naics': 'int', 'extra.source.naics': 'int', 'extra.destination.naics': 'int', 'extra.relay.naics': 'int',
  'extra.relay.ip': 'ip', 'extra.relay.asn': 'int', 'extra.isakmp_spi_size': 'int', 'extra.msrpc_version': 'num',
};

/** Extra columns the schema reads as numbers, yes/no or times (the rest stay text). */
const EXTRA_CONV: Record<string, Conv> = {};
for (const c of `response_size amplification min_amplification cert_length ssl_version http_code content_length message_length
  count bytes duration attack_src_port ip_header_seqnum ip_header_ttl number_of_connections packet_length packets uptime pid
  pointer_size curr_connections total_connections spi_size tcp_port mapped_port xor_mapped_port http_port internal_port
  video_input_channels alarm_input_channels video_output_channels alarm_output_channels remote_video_input_channels
  total_disk used_disk free_disk startup_error_line ack_number window_size domain_controller_functionality domain_functionality
  forest_functionality highest_committed_usn message_type_int message2_type_int major_error_code_int minor_error_code_int
  http_referer_port peer poll precision stratum tc clk_wander frequency jitter leap offset rootdelay rootdispersion avg_pps
  max_pps vulnerability_score teid sequence bit_rate packet_type_value fragment_length max_transmit max_receive`.split(/\s+/)) EXTRA_CONV[c] = 'num';
for (const c of `cert_valid self_signed cert_expired browser_trusted freak_vulnerable ssl_poodle anonymous_access build_snapshot ok
  nat http_usessl packet_randomized is_global_catalog_ready is_synchronized ipv4_dhcp_enable ipv6_dhcp_enable none_auth md2_auth
  md5_auth passkey_auth oem_auth permessage_auth userlevel_auth usernames nulluser anon_login client_ssl authentication fee`.split(/\s+/)) EXTRA_CONV[c] = 'bool';
for (const c of ['http_date', 'start_time', 'end_time']) EXTRA_CONV[c] = 'time';
// Industry codes: 0 is unknown.
EXTRA_CONV.http_referer_asn = EXTRA_CONV.http_referer_naics = EXTRA_CONV.sic = 'int';
EXTRA_CONV.http_referer_ip = 'ip';

/** Where to look when the schema does not list a report type: its IPv4/IPv6 twin, which reads alike. */
const TWINS: Array<[RegExp, string]> = [[/^scan6_/, 'scan_'], [/^scan_/, 'scan6_'], [/^event6_/, 'event4_'], [/^event4_/, 'event6_'], [/6$/, '']];

/**
 * The schema entry for a report type, its own, its current name's (an old report name) or its
 * twin's; undefined for a type the schema does not know.
 */
export function reportSchema(report: string): ReportSchema | undefined {
  if (REPORTS[report]) return REPORTS[report];
  const old = LEGACY[report];
  if (old) return { ...REPORTS[old.as], cols: { ...REPORTS[old.as].cols, ...old.cols } };
  for (const [from, to] of TWINS) if (from.test(report) && REPORTS[report.replace(from, to)]) return REPORTS[report.replace(from, to)];
  return undefined;
}

export interface ColumnStep { key: string; conv: Conv; fallback: boolean }

/** What one column of a known report becomes: event keys (an `=exchange` step classifies the row). */
export function columnSteps(schema: ReportSchema, column: string): ColumnStep[] {
  let keys = schema.cols?.[column] ?? SHARED[column];
  if (!keys && (column === 'naics' || column === 'sector')) keys = `extra.${schema.sourceNaics ? 'source.' : ''}${column}`;
  return (keys ?? `extra.${column.replace(/[^a-z0-9_]/g, '_')}`).split(' ').map((k) => {
    const key = k.replace(/\?$/, '');
    return { key, conv: KEY_CONV[key] ?? (key === `extra.${column}` ? EXTRA_CONV[column] : undefined) ?? 'text', fallback: k.endsWith('?') };
  });
}
