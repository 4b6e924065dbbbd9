// Reading reports back: one report with its events, lists by status (the quarantine), refusals.
import type { Db } from '../store/db.js';
import type { Event } from '../events/event.js';

export interface ReportView {
  id: number;
  received_at: string;
  channel: string;
  content_type: string | null;
  size: number;
  sha256: string;
  message_id: string | null;
  status: string;
  parser: string | null;
  reason: string | null;
  reporter_email: string | null;
  reporter_name: string | null;
  subject: string | null;
  forward_consent: boolean | null;
  language: string | null;
  event_count: number;
  arrivals: number;
  parsed_at: string | null;
  cases: string[];
  /** Events stored, sinks (case work) not yet done: the case numbers are still to come. */
  sinks_pending: boolean;
  meta: Record<string, unknown>;
}

export interface EventView {
  id: number; time: string; source_ip: string | null; classification_type: string | null;
  customer_id: string | null; service_id: string | null; attributed_to: string | null; event: Event;
}

const COLUMNS = `id, received_at, channel, content_type, size, sha256, message_id, status, parser, reason, reporter_email,
  reporter_name, subject, forward_consent, language, event_count, arrivals, parsed_at, cases, sinks_pending, meta`;

function view(row: Record<string, unknown>): ReportView {
  const iso = (v: unknown) => (v == null ? null : new Date(v as string).toISOString());
  return { ...(row as unknown as ReportView), id: Number(row.id), size: Number(row.size), received_at: iso(row.received_at)!, parsed_at: iso(row.parsed_at) };
}

export async function getReport(db: Db, id: number): Promise<ReportView | null> {
  const r = await db.query(`SELECT ${COLUMNS} FROM reports WHERE id = $1`, [id]);
  return r.rows[0] ? view(r.rows[0]) : null;
}

export async function reportEvents(db: Db, id: number, limit: number): Promise<EventView[]> {
  const r = await db.query<EventView & { id: string; time: string }>(
    `SELECT id, time, host(source_ip) AS source_ip, classification_type, customer_id, service_id, attributed_to, event
       FROM events WHERE report_id = $1 ORDER BY id LIMIT $2`, [id, limit]);
  return r.rows.map((e) => ({ ...e, id: Number(e.id), time: new Date(e.time).toISOString() }));
}

export interface ReportFilter { status?: string; before?: number; limit: number; apiKeyId?: number }

/** Newest first; `before` (a report id) pages backwards. */
export async function listReports(db: Db, f: ReportFilter): Promise<ReportView[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  if (f.status) { params.push(f.status); where.push(`status = $${params.length}`); }
  if (f.before) { params.push(f.before); where.push(`id < $${params.length}`); }
  if (f.apiKeyId !== undefined) { params.push(String(f.apiKeyId)); where.push(`meta->>'apiKeyId' = $${params.length}`); }
  params.push(f.limit);
  const r = await db.query(`SELECT ${COLUMNS} FROM reports ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT $${params.length}`, params);
  return r.rows.map(view);
}

export interface RefusalView { id: number; at: string; channel: string; reason: string; size: number | null; peer: string | null; meta: Record<string, unknown> }

export async function listRefusals(db: Db, f: { before?: number; limit: number }): Promise<RefusalView[]> {
  const r = await db.query<RefusalView & { id: string; size: string | null }>(
    `SELECT id, at, channel, reason, size, peer, meta FROM intake_refusals WHERE ($1::bigint IS NULL OR id < $1) ORDER BY id DESC LIMIT $2`,
    [f.before ?? null, f.limit]);
  return r.rows.map((x) => ({ ...x, id: Number(x.id), at: new Date(x.at).toISOString(), size: x.size == null ? null : Number(x.size) }));
}
