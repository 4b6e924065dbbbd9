// The abuse contact of an IP network by RDAP (RFC 9083 answers to RFC 9082 `ip/ADDRESS` queries):
// the entity with role "abuse" (at any depth: registries nest it under the registrant) and the
// e-mail addresses of its vCard (jCard, RFC 7095). Answers are cached per network range in the
// database; queries are spaced out, timed out and size-capped, and a failed lookup is cached too.
import type { Db } from '../../store/db.js';
import { compareWords, parseRange } from '../../attribution/ip.js';

export interface RdapContact {
  first: string;
  last: string;
  server: string | null;
  handle: string | null;
  name: string | null;
  abuseEmails: string[];
  /** Why no contact is known (lookup failed, no abuse entity); null when emails were found. */
  error: string | null;
  cached: boolean;
}

export interface RdapOptions {
  baseUrl: string;
  /** Minimum spacing between two queries, ms. */
  intervalMs: number;
  timeoutMs: number;
  /** Seconds a good answer is kept; a failure is kept a tenth of it. */
  ttl: number;
  maxBytes?: number;
}

type Json = Record<string, unknown>;

const EMAIL = /^[^\s@<>()[\],;:"]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?)+$/;

/** E-mail addresses in a jCard: ["vcard", [["email", {params}, "text", "abuse@example.net"], ...]]. */
export function vcardEmails(vcardArray: unknown): string[] {
  if (!Array.isArray(vcardArray) || vcardArray[0] !== 'vcard' || !Array.isArray(vcardArray[1])) return [];
  const out: string[] = [];
  for (const prop of vcardArray[1] as unknown[]) {
    if (!Array.isArray(prop) || String(prop[0]).toLowerCase() !== 'email') continue;
    for (const v of prop.slice(3)) {
      const s = typeof v === 'string' ? v.trim().replace(/^mailto:/i, '') : '';
      if (EMAIL.test(s)) out.push(s.toLowerCase());
    }
  }
  return out;
}

/** The abuse entity's addresses, searching nested entities breadth-first (the nearest wins). */
export function abuseEmails(obj: Json): string[] {
  let level: unknown[] = Array.isArray(obj.entities) ? obj.entities : [];
  for (let depth = 0; depth < 5 && level.length; depth++) {
    const found = new Set<string>();
    const next: unknown[] = [];
    for (const e of level) {
      if (!e || typeof e !== 'object') continue;
      const ent = e as Json;
      const roles = Array.isArray(ent.roles) ? ent.roles.map((r) => String(r).toLowerCase()) : [];
      if (roles.includes('abuse')) for (const m of vcardEmails(ent.vcardArray)) found.add(m);
      if (Array.isArray(ent.entities)) next.push(...ent.entities);
    }
    if (found.size) return [...found];
    level = next;
  }
  return [];
}

export class RdapError extends Error {}

export class RdapClient {
  private last = 0;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private db: Db, private opts: RdapOptions) {}

  async lookup(ip: string): Promise<RdapContact> {
    const hit = await this.cached(ip);
    if (hit) return hit;
    // One query at a time, spaced out: registries block clients that hurry.
    const run = this.queue.then(async () => {
      const again = await this.cached(ip);
      if (again) return again;
      const wait = this.last + this.opts.intervalMs - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      this.last = Date.now();
      return this.query(ip);
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async cached(ip: string): Promise<RdapContact | null> {
    const r = await this.db.query<{ first: string; last: string; server: string | null; handle: string | null; name: string | null; abuse_emails: string[]; error: string | null }>(
      `SELECT host(first_ip) AS first, host(last_ip) AS last, server, handle, name, abuse_emails, error FROM rdap_cache
        WHERE family(first_ip) = family($1::inet) AND first_ip <= $1::inet AND last_ip >= $1::inet AND expires_at > now()
        ORDER BY first_ip DESC, last_ip ASC, fetched_at DESC LIMIT 1`, [ip]);
    const row = r.rows[0];
    return row ? { first: row.first, last: row.last, server: row.server, handle: row.handle, name: row.name, abuseEmails: row.abuse_emails, error: row.error, cached: true } : null;
  }

  private async query(ip: string): Promise<RdapContact> {
    const url = `${this.opts.baseUrl.replace(/\/+$/, '')}/ip/${encodeURIComponent(ip)}`;
    let c: RdapContact;
    try {
      const obj = await this.fetchJson(url);
      c = fromNetwork(ip, obj);
    } catch (e) {
      c = { first: ip, last: ip, server: url, handle: null, name: null, abuseEmails: [], error: (e as Error).message, cached: false };
    }
    const ttl = c.abuseEmails.length ? this.opts.ttl : Math.max(60, this.opts.ttl / 10);
    await this.db.query(
      `INSERT INTO rdap_cache (first_ip, last_ip, server, handle, name, abuse_emails, error, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, now() + make_interval(secs => $8))`,
      [c.first, c.last, c.server, c.handle, c.name, c.abuseEmails, c.error, ttl]);
    return c;
  }

  private async fetchJson(url: string): Promise<Json> {
    const res = await fetch(url, { headers: { accept: 'application/rdap+json, application/json' }, redirect: 'follow', signal: AbortSignal.timeout(this.opts.timeoutMs) });
    if (res.status === 404) throw new RdapError('no RDAP record for this address');
    if (!res.ok) throw new RdapError(`RDAP server answered ${res.status}`);
    const max = this.opts.maxBytes ?? 1 << 20;
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      size += chunk.length;
      if (size > max) throw new RdapError(`RDAP answer larger than ${max} bytes`);
      chunks.push(Buffer.from(chunk));
    }
    let obj: unknown;
    try { obj = JSON.parse(Buffer.concat(chunks).toString('utf8')); } catch { throw new RdapError('RDAP answer is not JSON'); }
    if (!obj || typeof obj !== 'object' || Array.isArray(obj)) throw new RdapError('RDAP answer is not an object');
    return Object.assign(obj as Json, { __server: res.url });
  }
}

function fromNetwork(ip: string, obj: Json): RdapContact {
  if (obj.objectClassName !== 'ip network') throw new RdapError(`RDAP answer is a ${String(obj.objectClassName ?? 'nameless object')}, not an ip network`);
  const str = (v: unknown) => (typeof v === 'string' && v.length <= 256 ? v : null);
  const first = str(obj.startAddress), last = str(obj.endAddress);
  const emails = abuseEmails(obj);
  // The range is trusted for the cache only if it is a range that holds the address asked about.
  const net = first && last ? parseRange(`${first}-${last}`) : 'missing';
  const at = parseRange(ip);
  const holds = typeof net !== 'string' && typeof at !== 'string' && net.family === at.family
    && compareWords(net.first, at.first) <= 0 && compareWords(at.first, net.last) <= 0;
  return {
    first: holds ? first! : ip, last: holds ? last! : ip,
    server: str(obj.__server), handle: str(obj.handle), name: str(obj.name), abuseEmails: emails,
    error: emails.length ? null : 'no entity with role abuse and an e-mail address', cached: false,
  };
}
