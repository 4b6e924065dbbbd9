// Received: headers, outer or pasted into a report: which hop handed the message to the
// recipient's own systems. Everything below that hop may be forged; everything above is the
// recipient's (the reporter's) own relays.
import { baseDomain, isNonPublicIp } from './indicators.js';
import { parseIPv4, parseIPv6 } from '../../attribution/ip.js';

export interface Hop {
  fromHost?: string;
  ip?: string;
  /** the sender's name as the receiving host looked it up: "(name [ip])" */
  rdns?: string;
  /** base domain of the recipient named in "for <user@domain>" */
  forDomain?: string;
  /** the date after the last ';' */
  at?: string;
}

const FROM_PART = /^\s*from\s+(\S+)(.*?)(?:\bby\b|$)/is;
const BRACKET_IP = /\[(?:IPv6:)?([0-9a-f.:]+)\]/i;
const PAREN_IP = /\(([^)]*)\)/g;
const RDNS = /^\s*\(([a-z0-9][a-z0-9.-]*\.[a-z]{2,})\.?\s+\[/i;
const FOR = /\bfor\s+<?[^\s<>@]+@([a-z0-9.-]+\.[a-z]{2,})>?/i;

export function parseReceived(value: string): Hop {
  const hop: Hop = {};
  const m = FROM_PART.exec(value);
  if (m) {
    hop.fromHost = m[1].toLowerCase().replace(/[;,]$/, '');
    const b = BRACKET_IP.exec(m[2]) ?? BRACKET_IP.exec(m[1]);
    const r = RDNS.exec(m[2]);
    if (r) hop.rdns = r[1].toLowerCase();
    if (b && isIp(b[1])) hop.ip = b[1].toLowerCase();
    else {
      for (const p of m[2].matchAll(PAREN_IP)) {
        const ip = p[1].split(/\s+/).find(isIp);
        if (ip) { hop.ip = ip.toLowerCase(); break; }
      }
    }
  }
  const f = FOR.exec(value);
  if (f) hop.forDomain = baseDomain(f[1]);
  const semi = value.lastIndexOf(';');
  if (semi >= 0 && value.length - semi < 80) hop.at = value.slice(semi + 1).trim() || undefined;
  return hop;
}

function isIp(s: string): boolean {
  return parseIPv4(s) >= 0 || (s.includes(':') && parseIPv6(s, new Uint32Array(4)));
}

/**
 * The hop that delivered the message to the recipient's systems: the first (topmost) one whose
 * sender is public and not one of the recipient's own relays (named by `isOwn`, or looked up by
 * the receiving host as a name in the recipient's domain of "for <user@domain>": a reporter
 * writing from another address forwards what reached it at work).
 */
export function originHop(hops: Hop[], isOwn: (h: Hop) => boolean): Hop | undefined {
  const recipients = new Set(hops.map((h) => h.forDomain).filter((d) => d !== undefined));
  for (const h of hops) {
    if (!h.ip || isNonPublicIp(h.ip)) continue;
    if (isOwn(h) || (h.rdns && recipients.has(baseDomain(h.rdns)))) continue;
    return h;
  }
  return undefined;
}
