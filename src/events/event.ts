// The one harmonized event every source produces (reports, blocklists, detection), with
// IntelMQ's harmonization field names as flat dotted keys. See docs/EVENTS.md.

/** RSIT / IntelMQ classification types the desk uses, by taxonomy. */
export const TAXONOMY: Record<string, string> = {
  'spam': 'abusive-content',
  'harmful-speech': 'abusive-content',
  'violence': 'abusive-content',
  'infected-system': 'malicious-code',
  'c2-server': 'malicious-code',
  'malware-distribution': 'malicious-code',
  'malware-configuration': 'malicious-code',
  'scanner': 'information-gathering',
  'sniffing': 'information-gathering',
  'social-engineering': 'information-gathering',
  'ids-alert': 'intrusion-attempts',
  'brute-force': 'intrusion-attempts',
  'exploit': 'intrusion-attempts',
  'privileged-account-compromise': 'intrusions',
  'unprivileged-account-compromise': 'intrusions',
  'application-compromise': 'intrusions',
  'system-compromise': 'intrusions',
  'burglary': 'intrusions',
  'dos': 'availability',
  'ddos': 'availability',
  'misconfiguration': 'availability',
  'sabotage': 'availability',
  'outage': 'availability',
  'unauthorised-information-access': 'information-content-security',
  'unauthorised-information-modification': 'information-content-security',
  'data-loss': 'information-content-security',
  'data-leak': 'information-content-security',
  'unauthorized-use-of-resources': 'fraud',
  'copyright': 'fraud',
  'masquerade': 'fraud',
  'phishing': 'fraud',
  'weak-crypto': 'vulnerable',
  'ddos-amplifier': 'vulnerable',
  'potentially-unwanted-accessible': 'vulnerable',
  'information-disclosure': 'vulnerable',
  'vulnerable-system': 'vulnerable',
  'blacklist': 'other',
  'dga-domain': 'other',
  'malware': 'other',
  'other': 'other',
  'unknown': 'other',
  'undetermined': 'other',
  'test': 'test',
};

export type ClassificationType = keyof typeof TAXONOMY;

/**
 * A flat event. Known keys are typed; parsers may add `extra.*` keys. Values are plain JSON
 * (strings, numbers, booleans): events are stored as jsonb and printed as JSON lines.
 */
export interface Event {
  'source.ip'?: string;
  'source.port'?: number;
  'source.url'?: string;
  'source.fqdn'?: string;
  'source.asn'?: number;
  'source.reverse_dns'?: string;
  'source.account'?: string;
  /** The host's own name as a service announces it (Shadowserver LDAP/MSSQL scans). */
  'source.local_hostname'?: string;
  /** A CIDR block, when the source is a network rather than one address (blocklist entries). */
  'source.network'?: string;
  'source.geolocation.cc'?: string;
  'source.geolocation.region'?: string;
  'source.geolocation.city'?: string;
  'destination.ip'?: string;
  'destination.port'?: number;
  'destination.fqdn'?: string;
  'destination.url'?: string;
  'destination.asn'?: number;
  'destination.reverse_dns'?: string;
  'destination.geolocation.cc'?: string;
  'destination.geolocation.region'?: string;
  'destination.geolocation.city'?: string;
  'destination.account'?: string;
  'protocol.transport'?: string;
  'protocol.application'?: string;
  'classification.taxonomy'?: string;
  'classification.type'?: string;
  'classification.identifier'?: string;
  'time.source'?: string;
  'time.observation'?: string;
  'feed.name'?: string;
  'feed.provider'?: string;
  'feed.url'?: string;
  'event_description.text'?: string;
  'malware.name'?: string;
  'malware.hash.md5'?: string;
  'malware.hash.sha1'?: string;
  'malware.hash.sha256'?: string;
  'raw'?: string;
  [extra: `extra.${string}`]: string | number | boolean | null | string[] | undefined;
}

/** Sets classification.type and its taxonomy together, so they never disagree. */
export function classify(e: Event, type: string, identifier?: string): Event {
  const t = TAXONOMY[type] ? type : 'other';
  e['classification.type'] = t;
  e['classification.taxonomy'] = TAXONOMY[t];
  if (identifier) e['classification.identifier'] = identifier;
  return e;
}
