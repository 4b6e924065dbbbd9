// The ban list in the forms a firewall loads: an nftables script (`nft -f FILE`) and an ipset
// restore file (`ipset restore -exist < FILE`). Each replaces the whole set atomically, so a load
// never leaves the firewall with half a list, and each entry carries its remaining ban time.
import { parseIPv4, parseIPv6 } from '../../attribution/ip.js';

export interface ActiveBan {
  ip: string;
  /** Seconds until the ban ends; null for a permanent ban. */
  remaining: number | null;
}

export type ExportFormat = 'nftables' | 'ipset' | 'plain' | 'json';
export const EXPORT_FORMATS: ExportFormat[] = ['nftables', 'ipset', 'plain', 'json'];

const scratch = new Uint32Array(4);

/** Splits by family, dropping anything that is not an address (the table is typed, but be sure). */
function byFamily(bans: ActiveBan[]): { v4: ActiveBan[]; v6: ActiveBan[] } {
  const v4: ActiveBan[] = [], v6: ActiveBan[] = [];
  for (const b of bans) {
    if (parseIPv4(b.ip) >= 0) v4.push(b);
    else if (parseIPv6(b.ip, scratch)) v6.push(b);
  }
  return { v4, v6 };
}

const NAME = /^[A-Za-z][A-Za-z0-9_-]{0,25}$/;
function checkName(name: string): void {
  if (!NAME.test(name)) throw new Error(`set name '${name}' must be a letter followed by up to 25 letters, digits, '_' or '-'`);
}

// A ban ending in under a second is not worth a firewall entry that expires at once.
const live = (b: ActiveBan) => b.remaining === null || b.remaining >= 1;

export function toNftables(bans: ActiveBan[], opts: { table?: string; set?: string } = {}): string {
  const table = opts.table ?? 'madoguchi', set = opts.set ?? 'bans';
  checkName(table); checkName(set);
  const { v4, v6 } = byFamily(bans.filter(live));
  const out = [
    '#!/usr/sbin/nft -f',
    `# Madoguchi ban list: ${v4.length} IPv4 and ${v6.length} IPv6 addresses, written ${new Date().toISOString()}`,
    `table inet ${table} {`,
    `\tset ${set}4 { type ipv4_addr; flags timeout; }`,
    `\tset ${set}6 { type ipv6_addr; flags timeout; }`,
    '}',
    `flush set inet ${table} ${set}4`,
    `flush set inet ${table} ${set}6`,
  ];
  const element = (b: ActiveBan) => (b.remaining === null ? b.ip : `${b.ip} timeout ${Math.floor(b.remaining)}s`);
  // nft parses one statement per element list; chunks keep each statement a sane size.
  for (const [name, list] of [[`${set}4`, v4], [`${set}6`, v6]] as const) {
    for (let i = 0; i < list.length; i += 1000) {
      out.push(`add element inet ${table} ${name} { ${list.slice(i, i + 1000).map(element).join(', ')} }`);
    }
  }
  return out.join('\n') + '\n';
}

export const IPSET_MAXELEM = 1 << 20;

export function toIpset(bans: ActiveBan[], opts: { set?: string } = {}): string {
  const set = opts.set ?? 'madoguchi-bans';
  checkName(set);
  const { v4, v6 } = byFamily(bans.filter(live));
  const out = [`# Madoguchi ban list: ${v4.length} IPv4 and ${v6.length} IPv6 addresses. Load with: ipset restore -exist < FILE`];
  for (const [name, family, list] of [[`${set}4`, 'inet', v4], [`${set}6`, 'inet6', v6]] as const) {
    // Fixed parameters: `create -exist` accepts an existing set only if they are identical.
    const spec = `hash:ip family ${family} hashsize 1024 maxelem ${IPSET_MAXELEM} timeout 0`;
    // Fill a fresh set and swap it in: the live set is never empty or half full.
    out.push(`create ${name} ${spec}`, `create ${name}-new ${spec}`, `flush ${name}-new`);
    for (const b of list.slice(0, IPSET_MAXELEM)) out.push(b.remaining === null ? `add ${name}-new ${b.ip}` : `add ${name}-new ${b.ip} timeout ${Math.floor(b.remaining)}`);
    out.push(`swap ${name}-new ${name}`, `destroy ${name}-new`);
  }
  return out.join('\n') + '\n';
}

export function formatBans(bans: ActiveBan[], format: ExportFormat, set?: string): string {
  switch (format) {
    case 'nftables': return toNftables(bans, { set });
    case 'ipset': return toIpset(bans, { set });
    case 'plain': return bans.filter(live).map((b) => b.ip).join('\n') + (bans.length ? '\n' : '');
    case 'json': return JSON.stringify(bans.filter(live)) + '\n';
  }
}
