// A small stand-alone "is this ours?" for trying samples without a desk database: a list of
// netblocks and names, each optionally with validity dates (the inventory CSV's resource,
// valid_from and valid_to columns). The desk itself uses the attribution service.
import { compareWords, parseRange, type IpRange } from '../attribution/ip.js';
import { parseUrl } from './text/indicators.js';

export interface OwnedResource { resource: string; validFrom?: string; validTo?: string }

export function ownedMatcher(resources: OwnedResource[]): (resource: string, at?: Date) => boolean {
  const nets: Array<{ range: IpRange; from?: number; to?: number }> = [];
  const names: Array<{ name: string; from?: number; to?: number }> = [];
  for (const r of resources) {
    const from = r.validFrom ? Date.parse(r.validFrom) : undefined;
    const to = r.validTo ? Date.parse(r.validTo) : undefined;
    const range = parseRange(r.resource.trim());
    if (typeof range !== 'string') nets.push({ range, from, to });
    else names.push({ name: r.resource.trim().toLowerCase().replace(/\.$/, ''), from, to });
  }
  const valid = (x: { from?: number; to?: number }, at?: Date) => !at || ((x.from === undefined || at.getTime() >= x.from) && (x.to === undefined || at.getTime() <= x.to));
  return (resource, at) => {
    let r = resource.trim().toLowerCase();
    if (r.includes('://')) r = parseUrl(r)?.host ?? r;
    else if (r.includes('@')) r = r.slice(r.lastIndexOf('@') + 1);
    const ip = parseRange(r);
    if (typeof ip !== 'string') {
      return nets.some((n) => valid(n, at) && n.range.family === ip.family && compareWords(n.range.first, ip.first) <= 0 && compareWords(ip.last, n.range.last) <= 0);
    }
    return names.some((n) => valid(n, at) && (r === n.name || r.endsWith('.' + n.name)));
  };
}

/** Resources from an inventory CSV (header with resource, valid_from, valid_to). */
export function ownedFromCsv(csv: string): OwnedResource[] {
  const lines = csv.split(/\r?\n/).filter((l) => l.trim());
  const head = (lines.shift() ?? '').split(',').map((h) => h.trim().toLowerCase());
  const col = (n: string) => head.indexOf(n);
  if (col('resource') < 0) return [];
  return lines.map((l) => {
    const f = l.split(',');
    return { resource: f[col('resource')], validFrom: f[col('valid_from')] || undefined, validTo: f[col('valid_to')] || undefined };
  }).filter((r) => r.resource);
}
