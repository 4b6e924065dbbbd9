// API keys and roles. A key is 32 random bytes shown once; the database keeps its SHA-256.
import { createHash, randomBytes } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Db } from '../store/db.js';

export const ROLES = ['admin', 'operator', 'legal', 'reporter', 'customer'] as const;
export type Role = (typeof ROLES)[number];

export interface Principal {
  keyId: number;
  name: string;
  roles: Role[];
  reporterId: string | null;
  customerId: string | null;
}

declare module 'fastify' {
  interface FastifyRequest { principal?: Principal }
}

export function hashKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

export async function createApiKey(db: Db, k: { name: string; roles: Role[]; reporterId?: string; customerId?: string }): Promise<{ id: number; key: string }> {
  for (const r of k.roles) if (!ROLES.includes(r)) throw new Error(`unknown role '${r}' (roles: ${ROLES.join(', ')})`);
  if (k.roles.includes('customer') && !k.customerId) throw new Error('a customer key needs the customer it belongs to');
  const key = `mdg_${randomBytes(32).toString('base64url')}`;
  const r = await db.query<{ id: string }>(
    'INSERT INTO api_keys (name, key_hash, roles, reporter_id, customer_id) VALUES ($1, $2, $3, $4, $5) RETURNING id',
    [k.name, hashKey(key), k.roles, k.reporterId ?? null, k.customerId ?? null]);
  return { id: Number(r.rows[0].id), key };
}

export async function revokeApiKey(db: Db, id: number): Promise<boolean> {
  const r = await db.query('UPDATE api_keys SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL', [id]);
  return (r.affectedRows ?? 0) > 0;
}

export async function findPrincipal(db: Db, key: string): Promise<Principal | null> {
  const r = await db.query<{ id: string; name: string; roles: Role[]; reporter_id: string | null; customer_id: string | null }>(
    'SELECT id, name, roles, reporter_id, customer_id FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL', [hashKey(key)]);
  const row = r.rows[0];
  return row ? { keyId: Number(row.id), name: row.name, roles: row.roles, reporterId: row.reporter_id, customerId: row.customer_id } : null;
}

function presentedKey(req: FastifyRequest): string | null {
  const h = req.headers.authorization;
  if (h && /^Bearer\s+/i.test(h)) return h.replace(/^Bearer\s+/i, '').trim();
  const x = req.headers['x-api-key'];
  return typeof x === 'string' ? x.trim() : null;
}

/**
 * An onRequest hook that admits a request carrying a live key with one of the roles (admin always):
 * it runs before the body is read, so a request without a key costs no upload.
 * Keys are looked up per request, with a short cache so that intake under load does not cost a
 * query per report; revocation takes effect within the cache lifetime.
 */
export function authenticator(db: Db, cacheMs = 5000) {
  const cache = new Map<string, { p: Principal | null; until: number }>();
  return function requireRole(...roles: Role[]) {
    return async (req: FastifyRequest, reply: FastifyReply) => {
      const key = presentedKey(req);
      if (!key) return reply.code(401).header('WWW-Authenticate', 'Bearer').send({ error: 'an API key is required (Authorization: Bearer KEY)' });
      let hit = cache.get(key);
      if (!hit || hit.until < Date.now()) {
        hit = { p: await findPrincipal(db, key), until: Date.now() + cacheMs };
        if (cache.size > 10000) cache.clear();
        cache.set(key, hit);
      }
      if (!hit.p) return reply.code(401).send({ error: 'unknown or revoked API key' });
      if (!hit.p.roles.includes('admin') && !roles.some((r) => hit!.p!.roles.includes(r))) {
        return reply.code(403).send({ error: `this key lacks the role for this request (needs one of: ${roles.join(', ')})` });
      }
      req.principal = hit.p;
    };
  };
}

export type RequireRole = ReturnType<typeof authenticator>;
