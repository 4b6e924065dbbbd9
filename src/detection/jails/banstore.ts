// The bans table: every jail decision, the ban history bantime.increment reads back at start, the
// active ban list the firewall exports read, lifting a ban, and where each jail stopped reading.
import type { Db } from '../../store/db.js';
import { storable } from '../../intake/events-store.js';
import type { Ban, BanBook } from './jail.js';
import type { ActiveBan } from './export.js';

export interface OwnOffender { customerId: string; serviceId: string; eventId: number | null }

export async function recordBan(db: Db, ban: Ban, own: OwnOffender | null): Promise<number> {
  const r = await db.query<{ id: string }>(
    `INSERT INTO bans (jail, ip, fid, banned_at, bantime, expires_at, ban_count, failures, matches, username, own, customer_id, service_id, event_id)
     VALUES ($1, $2, $3, to_timestamp($4), $5, CASE WHEN $5::float8 < 0 THEN NULL ELSE to_timestamp($4 + $5::float8) END, $6, $7, $8, $9, $10, $11, $12, $13)
     RETURNING id`,
    [ban.jail, ban.ip, storable(ban.fid), ban.time, ban.bantime, ban.banCount, ban.failures, JSON.stringify(ban.lines.map(storable)),
      ban.user === null ? null : storable(ban.user), own !== null, own?.customerId ?? null, own?.serviceId ?? null, own?.eventId ?? null]);
  return Number(r.rows[0].id);
}

/** Loads the latest ban per address and jail since `since` (epoch seconds) into the book. */
export async function loadBanBook(db: Db, book: BanBook, since: number): Promise<number> {
  const r = await db.query<{ ip: string; jail: string; at: number; bantime: number; ban_count: number; lifted: boolean }>(
    `SELECT DISTINCT ON (ip, jail) host(ip) AS ip, jail, extract(epoch FROM banned_at)::float8 AS at, ban_count, bantime, lifted_at IS NOT NULL AS lifted
       FROM bans WHERE banned_at > to_timestamp($1) AND NOT own
      ORDER BY ip, jail, banned_at DESC`, [since]);
  for (const row of r.rows) book.record(row.ip, row.jail, Number(row.at), Number(row.bantime), Number(row.ban_count), row.lifted);
  return r.rows.length;
}

/** Bans lifted after `since` (epoch seconds), for a running jail to forget them. */
export async function liftedSince(db: Db, since: number): Promise<{ ip: string; jail: string }[]> {
  const r = await db.query<{ ip: string; jail: string }>(
    'SELECT host(ip) AS ip, jail FROM bans WHERE lifted_at > to_timestamp($1) AND NOT own', [since]);
  return r.rows;
}

/** Addresses banned now (outside offenders, not lifted, not expired), the longest ban per address. */
export async function activeBans(db: Db, jail?: string): Promise<ActiveBan[]> {
  const r = await db.query<{ ip: string; remaining: number | null }>(
    `SELECT host(ip) AS ip,
            CASE WHEN bool_or(expires_at IS NULL) THEN NULL ELSE extract(epoch FROM max(expires_at) - now())::float8 END AS remaining
       FROM bans
      WHERE NOT own AND lifted_at IS NULL AND (expires_at IS NULL OR expires_at > now()) AND ($1::text IS NULL OR jail = $1)
      GROUP BY ip ORDER BY ip`, [jail ?? null]);
  return r.rows.map((row) => ({ ip: row.ip, remaining: row.remaining === null ? null : Number(row.remaining) }));
}

export interface BanRow {
  id: number; jail: string; ip: string; banned_at: string; expires_at: string | null; bantime: number; ban_count: number;
  failures: number; own: boolean; customer_id: string | null; event_id: number | null; lifted_at: string | null; lifted_by: string | null;
}

export async function listBans(db: Db, q: { ip?: string; jail?: string; active?: boolean; limit?: number }): Promise<BanRow[]> {
  const r = await db.query<BanRow>(
    `SELECT id::int, jail, host(ip) AS ip, banned_at, expires_at, bantime, ban_count, failures, own, customer_id, event_id::int, lifted_at, lifted_by
       FROM bans
      WHERE ($1::inet IS NULL OR ip = $1::inet) AND ($2::text IS NULL OR jail = $2)
        AND (NOT $3::bool OR (NOT own AND lifted_at IS NULL AND (expires_at IS NULL OR expires_at > now())))
      ORDER BY banned_at DESC, id DESC LIMIT $4`,
    [q.ip ?? null, q.jail ?? null, q.active ?? false, Math.min(q.limit ?? 100, 10000)]);
  return r.rows.map((row) => ({
    ...row,
    bantime: Number(row.bantime),
    banned_at: new Date(row.banned_at).toISOString(),
    expires_at: row.expires_at && new Date(row.expires_at).toISOString(),
    lifted_at: row.lifted_at && new Date(row.lifted_at).toISOString(),
  }));
}

/** Lifts the active bans of an address (all jails, or one); returns how many. */
export async function liftBans(db: Db, ip: string, by: string, jail?: string): Promise<number> {
  const r = await db.query(
    `UPDATE bans SET lifted_at = now(), lifted_by = $2
      WHERE ip = $1::inet AND ($3::text IS NULL OR jail = $3) AND NOT own AND lifted_at IS NULL AND (expires_at IS NULL OR expires_at > now())`,
    [ip, by, jail ?? null]);
  return r.affectedRows ?? 0;
}

export async function listOutgoingReports(db: Db, q: { ip?: string; limit?: number }): Promise<Record<string, unknown>[]> {
  const r = await db.query<Record<string, unknown>>(
    `SELECT id::int, ban_id::int, host(ip) AS ip, format, recipient, rdap_server, status, reason, report_uuid, message_id, created_at, sent_at
       FROM outgoing_reports WHERE ($1::inet IS NULL OR ip = $1::inet) ORDER BY id DESC LIMIT $2`, [q.ip ?? null, Math.min(q.limit ?? 100, 10000)]);
  return r.rows.map((row) => ({
    ...row,
    created_at: new Date(row.created_at as string).toISOString(),
    sent_at: row.sent_at ? new Date(row.sent_at as string).toISOString() : null,
  }));
}

export async function loadPositions(db: Db, jail: string): Promise<Map<string, unknown>> {
  const r = await db.query<{ source: string; state: unknown }>('SELECT source, state FROM jail_positions WHERE jail = $1', [jail]);
  return new Map(r.rows.map((row) => [row.source, row.state]));
}

export async function savePosition(db: Db, jail: string, source: string, state: unknown): Promise<void> {
  await db.query(
    `INSERT INTO jail_positions (jail, source, state, updated_at) VALUES ($1, $2, $3, now())
     ON CONFLICT (jail, source) DO UPDATE SET state = EXCLUDED.state, updated_at = now()`,
    [jail, source, JSON.stringify(state)]);
}
