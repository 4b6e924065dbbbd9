// DNSBL checks of chosen addresses: the query name is the address reversed (IPv4 octets, IPv6
// nibbles) under the zone; an A record in 127.0.0.0/8 means listed, and the zone says what each
// code means. Answers in 127.255.255.0/24 are the zone's error codes (query refused, rate limited,
// public resolver used) and are never read as a listing. Queries are paced to a rate limit.
import { Resolver } from 'node:dns/promises';
import { formatIPv4, formatIPv6, parseIPv4, parseIPv6 } from '../attribution/ip.js';
import type { Playbook } from './settings.js';

export interface ZoneSpec {
  zone: string;
  /** The list name listings are recorded under. */
  name: string;
  /** Return code -> meaning. Empty: any 127.0.0.0/8 answer outside the error block is a listing. */
  codes: Record<string, string>;
  /** Event classification type of a listing. */
  type: string;
  playbook?: Playbook;
}

const range = (from: number, to: number, meaning: string): Record<string, string> =>
  Object.fromEntries(Array.from({ length: to - from + 1 }, (_, i) => [`127.0.0.${from + i}`, meaning]));

/** Zones whose return codes are documented by their operators. */
const KNOWN_ZONES: ZoneSpec[] = [
  {
    zone: 'zen.spamhaus.org', name: 'zen.spamhaus.org', type: 'spam',
    codes: { '127.0.0.2': 'SBL: spam source', '127.0.0.3': 'SBL CSS: snowshoe spam', ...range(4, 7, 'XBL: exploited host'),
      '127.0.0.9': 'DROP: hijacked or criminal network', '127.0.0.10': 'PBL: end-user range (ISP policy)', '127.0.0.11': 'PBL: end-user range (Spamhaus)' },
  },
  { zone: 'sbl.spamhaus.org', name: 'sbl.spamhaus.org', type: 'spam', codes: { '127.0.0.2': 'SBL: spam source', '127.0.0.3': 'SBL CSS: snowshoe spam', '127.0.0.9': 'DROP: hijacked or criminal network' } },
  { zone: 'xbl.spamhaus.org', name: 'xbl.spamhaus.org', type: 'infected-system', codes: range(4, 7, 'XBL: exploited host') },
  { zone: 'bl.spamcop.net', name: 'bl.spamcop.net', type: 'spam', codes: { '127.0.0.2': 'SpamCop: reported spam source' } },
  { zone: 'b.barracudacentral.org', name: 'b.barracudacentral.org', type: 'spam', codes: { '127.0.0.2': 'Barracuda: poor reputation' } },
  { zone: 'psbl.surriel.com', name: 'psbl.surriel.com', type: 'spam', codes: { '127.0.0.2': 'PSBL: spam trap hit' } },
];

export function knownZone(zone: string): ZoneSpec | undefined {
  const z = KNOWN_ZONES.find((k) => k.zone === zone.toLowerCase());
  return z && { ...z, codes: { ...z.codes } };
}

const scratch = new Uint32Array(4);

/** The name to look up: 192.0.2.1 under zone -> 1.2.0.192.zone; IPv6 as 32 reversed nibbles. */
export function queryName(ip: string, zone: string): string | null {
  const v4 = parseIPv4(ip);
  if (v4 >= 0) return `${v4 & 255}.${(v4 >>> 8) & 255}.${(v4 >>> 16) & 255}.${v4 >>> 24}.${zone}`;
  if (!parseIPv6(ip, scratch)) return null;
  const nibbles: string[] = [];
  for (let k = 3; k >= 0; k--) for (let b = 0; b < 32; b += 4) nibbles.push(((scratch[k] >>> b) & 15).toString(16));
  return `${nibbles.join('.')}.${zone}`;
}

export interface DnsblResult {
  zone: string;
  list: string;
  ip: string;
  /** listed: a documented (or any, for a zone without codes) listing code; clear: no record; error: no answer to trust. */
  status: 'listed' | 'clear' | 'error';
  codes: string[];
  meanings: string[];
  error?: string;
}

/** Reads the A records of one answer as the zone defines them. */
export function interpret(zone: ZoneSpec, ip: string, answers: string[]): DnsblResult {
  const base = { zone: zone.zone, list: zone.name, ip, codes: answers };
  const errors = answers.filter((a) => a.startsWith('127.255.255.'));
  if (errors.length) return { ...base, status: 'error', meanings: [], error: `the zone refused the query (${errors.join(', ')}: error code, not a listing)` };
  const foreign = answers.filter((a) => !a.startsWith('127.'));
  if (foreign.length) return { ...base, status: 'error', meanings: [], error: `answer outside 127.0.0.0/8 (${foreign.join(', ')}): a resolver rewriting NXDOMAIN?` };
  const documented = Object.keys(zone.codes).length > 0;
  const meanings = answers.map((a) => zone.codes[a] ?? (documented ? `undocumented code ${a}` : `listed (${a})`));
  return { ...base, status: 'listed', meanings };
}

export interface CheckerOptions { resolvers: string[]; rate: number; timeoutMs: number }

/** Spaces calls at least 1/rate seconds apart, however many callers wait at once. */
export class RateGate {
  private nextSlot = 0;
  private readonly gapMs: number;
  constructor(rate: number, private readonly clock: { now(): number; sleep(ms: number): Promise<void> } = realClock) {
    this.gapMs = 1000 / rate;
  }
  async wait(): Promise<void> {
    const now = this.clock.now();
    const at = Math.max(now, this.nextSlot);
    this.nextSlot = at + this.gapMs;
    if (at > now) await this.clock.sleep(at - now);
  }
}

const realClock = { now: () => Date.now(), sleep: (ms: number) => new Promise<void>((r) => setTimeout(r, ms)) };

/** Queries DNSBL zones through one resolver, no faster than the rate limit allows. */
export class DnsblChecker {
  private readonly resolver: Resolver;
  private readonly gate: RateGate;

  constructor(opts: CheckerOptions) {
    this.resolver = new Resolver({ timeout: opts.timeoutMs, tries: 1 });
    if (opts.resolvers.length) this.resolver.setServers(opts.resolvers);
    this.gate = new RateGate(opts.rate);
  }

  async check(ip: string, zone: ZoneSpec): Promise<DnsblResult> {
    const name = queryName(ip, zone.zone);
    if (!name) return { zone: zone.zone, list: zone.name, ip, status: 'error', codes: [], meanings: [], error: 'not an IP address' };
    await this.gate.wait();
    try {
      return interpret(zone, ip, await this.resolver.resolve4(name));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      // NXDOMAIN (ENOTFOUND) and an empty answer (ENODATA) are the zone saying "not listed".
      if (code === 'ENOTFOUND' || code === 'ENODATA') return { zone: zone.zone, list: zone.name, ip, status: 'clear', codes: [], meanings: [] };
      return { zone: zone.zone, list: zone.name, ip, status: 'error', codes: [], meanings: [], error: `${code ?? (e as Error).message}` };
    }
  }

  /** Every address against every zone, in order. */
  async checkAll(ips: string[], zones: ZoneSpec[]): Promise<DnsblResult[]> {
    const out: DnsblResult[] = [];
    for (const ip of ips) for (const z of zones) out.push(await this.check(ip, z));
    return out;
  }

  cancel(): void { this.resolver.cancel(); }
}

/** Expands configured addresses: single addresses, and CIDRs no wider than 256 addresses. */
export function expandAddresses(specs: string[]): { ips: string[]; refused: string[] } {
  const ips: string[] = [], refused: string[] = [];
  for (const spec of specs) {
    const [addr, plenText] = spec.trim().split('/');
    const v4 = parseIPv4(addr);
    if (v4 >= 0) {
      const plen = plenText === undefined ? 32 : Number(plenText);
      if (!(plen >= 24 && plen <= 32) || !/^\d*$/.test(plenText ?? '')) { refused.push(spec); continue; }
      const size = 2 ** (32 - plen);
      const first = v4 - (v4 % size);
      for (let i = 0; i < size; i++) ips.push(formatIPv4(first + i));
      continue;
    }
    if (!parseIPv6(addr, scratch)) { refused.push(spec); continue; }
    const plen = plenText === undefined ? 128 : Number(plenText);
    if (!(plen >= 120 && plen <= 128) || !/^\d*$/.test(plenText ?? '')) { refused.push(spec); continue; }
    const size = 2 ** (128 - plen);
    const low = scratch[3] - (scratch[3] % size);
    for (let i = 0; i < size; i++) {
      scratch[3] = low + i;
      ips.push(formatIPv6(scratch));
    }
  }
  return { ips: [...new Set(ips)], refused };
}
