// Shadowserver report families: classification per report type and the column to field map,
// after Shadowserver's published report schema (github.com/The-Shadowserver-Foundation/report_schema,
// the one IntelMQ's parser uses). Column names are shared across reports, so one map serves all;
// what differs per family is the classification and, for a few families, the role of a column.

export interface FamilyClass { type: string; identifier: string }

/** Services whose open instances are used to amplify DDoS traffic. */
const AMPLIFIERS = new Set(['chargen', 'qotd', 'ssdp', 'snmp', 'ntpmonitor', 'memcached', 'portmapper', 'mdns', 'netbios', 'ldap_udp', 'cldap', 'ubiquiti', 'ard', 'xdmcp', 'coap', 'dvr_dhcpdiscover', 'wsd', 'tftp', 'rdpeudp', 'loop_dos', 'mssql', 'db2', 'slp', 'dns', 'sentinel', 'stun']);

const dashed = (s: string) => s.replace(/_/g, '-');

/** classification.type and .identifier for a report type such as `scan_ntp` or `event4_sinkhole_http`. */
export function classifyReport(report: string): FamilyClass {
  const r = report.toLowerCase();
  const fixed: Record<string, FamilyClass> = {
    blocklist: { type: 'blacklist', identifier: 'blacklisted-ip' },
    compromised_account: { type: 'data-leak', identifier: 'compromised-account' },
    malware_url: { type: 'malware-distribution', identifier: 'malware-url' },
    event4_ddos_participant: { type: 'ddos', identifier: 'ddos-participant' },
    event4_honeypot_ddos: { type: 'ddos', identifier: 'honeypot-ddos' },
    event4_honeypot_brute_force: { type: 'brute-force', identifier: 'honeypot-brute-force' },
    event4_honeypot_darknet: { type: 'scanner', identifier: 'darknet' },
    event4_ip_spoofer: { type: 'masquerade', identifier: 'ip-spoofer' },
    scan_synfulknock: { type: 'system-compromise', identifier: 'synful-knock' },
    scan_post_exploitation_framework: { type: 'c2-server', identifier: 'post-exploitation-framework' },
  };
  if (fixed[r]) return fixed[r];
  let m: RegExpExecArray | null;
  if ((m = /^compromised_(website|iot)6?$/.exec(r))) return { type: 'system-compromise', identifier: `compromised-${m[1]}` };
  if (/^event[46]_(?:microsoft_)?sinkhole(?:_http)?$/.test(r)) return { type: 'infected-system', identifier: 'sinkhole' };
  if (/^event[46]_sinkhole_http_referer$/.test(r)) return { type: 'undetermined', identifier: 'sinkhole-http-referer' };
  if (/^event[46]_initial_access_broker$/.test(r)) return { type: 'system-compromise', identifier: 'initial-access-broker' };
  if ((m = /^event[46]_honeypot_(\w+?)_scan$/.exec(r))) return { type: 'scanner', identifier: `${dashed(m[1])}-scanner` };
  if ((m = /^event[46]_honeypot_(\w+)$/.exec(r))) return { type: 'scanner', identifier: `honeypot-${dashed(m[1])}` };
  if (/^device_id6?$/.test(r)) return { type: 'undetermined', identifier: 'device-id' };
  if ((m = /^population6?_(\w+)$/.exec(r))) return { type: 'potentially-unwanted-accessible', identifier: `accessible-${dashed(m[1])}` };
  if ((m = /^scan6?_(\w+)$/.exec(r))) {
    const svc = m[1];
    if (/vulnerable$|^(?:exchange|badsecrets|netis_router|http_vulnerable|smtp_vulnerable|ssl_poodle|ssl_freak|isakmp)$/.test(svc)) return { type: 'vulnerable-system', identifier: `vulnerable-${dashed(svc.replace(/_vulnerable$/, ''))}` };
    if (AMPLIFIERS.has(svc)) return { type: 'ddos-amplifier', identifier: `open-${dashed(svc)}` };
    return { type: 'vulnerable-system', identifier: `open-${dashed(svc)}` };
  }
  return { type: 'undetermined', identifier: dashed(r) };
}

export type Conv = 'time' | 'int' | 'ip' | 'lower' | 'text';

/** Column -> event key for every family; `extra.` for columns kept as they are. */
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
  http_host: ['destination.fqdn', 'lower'],
  http_url: ['destination.url', 'text'],
  url: ['source.url', 'text'],
  username: ['source.account', 'text'],
  account: ['source.account', 'text'],
};

/** Families where the web site columns describe the reported (source) side. */
export function sourceIsWebsite(report: string): boolean {
  return /^(?:compromised_website6?|malware_url|scan6?_http\w*)$/.test(report);
}
