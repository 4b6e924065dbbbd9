// ignoreip as fail2ban reads it: addresses, CIDRs (host bits allowed: "127.0.0.1/8"), DNS names
// (resolved at start and on refresh), separated by spaces and/or commas; plus ignoreself, this
// host's own interface addresses.
import { lookup } from 'node:dns/promises';
import { networkInterfaces } from 'node:os';
import { compareWords, formatIPv4, formatIPv6, parseIPv4, parseRange, type IpRange } from '../../attribution/ip.js';

export function parseIgnoreEntry(entry: string): IpRange | null {
  const r = parseRange(entry);
  if (typeof r !== 'string') return r;
  const slash = entry.indexOf('/');
  if (slash < 0) return null;
  const base = parseRange(entry.slice(0, slash));
  const plen = entry.slice(slash + 1);
  if (typeof base === 'string' || !/^\d{1,3}$/.test(plen)) return null;
  const bits = base.family === 4 ? 32 : 128;
  if (Number(plen) > bits) return null;
  // fail2ban masks the host bits away instead of refusing them.
  const first = Uint32Array.from(base.first);
  for (let k = 0; k < first.length; k++) {
    const keep = Math.max(0, Math.min(32, Number(plen) - 32 * k));
    first[k] = (first[k] & (keep === 0 ? 0 : (0xffffffff << (32 - keep)) >>> 0)) >>> 0;
  }
  const net = parseRange(`${base.family === 4 ? formatIPv4(first[0]) : formatIPv6(first)}/${plen}`);
  return typeof net === 'string' ? null : net;
}

export function splitList(value: string | string[]): string[] {
  const items = Array.isArray(value) ? value : [value];
  return items.flatMap((v) => String(v).split(/[\s,]+/)).filter(Boolean);
}

export class IgnoreList {
  private ranges: IpRange[] = [];
  /** Entries that are neither addresses nor networks: DNS names to resolve. */
  readonly names: string[] = [];
  readonly errors: string[] = [];

  constructor(entries: string[], ignoreself = true) {
    for (const e of splitList(entries)) {
      const r = parseIgnoreEntry(e);
      if (r) this.ranges.push(r);
      else if (!/^[\d.]+$/.test(e) && /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/i.test(e) && e.length <= 253) this.names.push(e.toLowerCase());
      else this.errors.push(`ignoreip: not an address, network or host name: ${e}`);
    }
    if (ignoreself) {
      for (const addrs of Object.values(networkInterfaces())) {
        for (const a of addrs ?? []) {
          const r = parseRange(a.address);
          if (typeof r !== 'string') this.ranges.push(r);
        }
      }
    }
  }

  private resolved: IpRange[] = [];

  /** Resolves the DNS names (fail2ban does so too); failures are reported, not fatal. */
  async resolveNames(resolve: (name: string) => Promise<string[]> = defaultResolve): Promise<string[]> {
    const problems: string[] = [];
    const out: IpRange[] = [];
    for (const n of this.names) {
      try {
        for (const a of await resolve(n)) { const r = parseRange(a); if (typeof r !== 'string') out.push(r); }
      } catch (e) {
        problems.push(`ignoreip: cannot resolve ${n}: ${(e as Error).message}`);
      }
    }
    this.resolved = out;
    return problems;
  }

  has(ip: string): boolean {
    // Every failure passes here: IPv4 is compared as numbers, without allocating.
    const v4 = parseIPv4(ip);
    if (v4 >= 0) {
      for (const list of [this.ranges, this.resolved]) {
        for (const x of list) if (x.family === 4 && x.first[0] <= v4 && v4 <= x.last[0]) return true;
      }
      return false;
    }
    const r = parseRange(ip);
    if (typeof r === 'string') return false;
    const hit = (x: IpRange) => x.family === r.family && compareWords(x.first, r.first) <= 0 && compareWords(r.first, x.last) <= 0;
    return this.ranges.some(hit) || this.resolved.some(hit);
  }
}

async function defaultResolve(name: string): Promise<string[]> {
  return (await lookup(name, { all: true })).map((a) => a.address);
}
