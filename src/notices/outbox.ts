// The outbox: mail is queued in the same transaction as the case change that caused it, and a
// worker hands it to the SMTP relay, retrying with a doubling delay until max_attempts.
import { randomBytes } from 'node:crypto';
import nodemailer from 'nodemailer';
import type { Config } from '../config/config.js';
import type { Logger } from '../log.js';
import type { Db } from '../store/db.js';
import { appendAudit } from '../cases/audit.js';
import { storable } from '../intake/events-store.js';

export type MailKind = 'notice' | 'reminder' | 'escalation' | 'acknowledgement' | 'closing';

export interface QueuedMail {
  caseId: number | null;
  kind: MailKind;
  template: string;
  language: string;
  to: string[];
  from: string;
  replyTo: string | null;
  subject: string;
  body: string;
}

export function newMessageId(from: string): string {
  const domain = from.slice(from.lastIndexOf('@') + 1).replace(/[^A-Za-z0-9.-]/g, '') || 'madoguchi.invalid';
  return `<${Date.now().toString(36)}.${randomBytes(9).toString('base64url')}@${domain}>`;
}

/** Queues mails in the caller's transaction, one statement for all; their ids and message ids in the order given. */
export async function queueMails(tx: Db, mails: QueuedMail[], now = new Date()): Promise<{ id: number; messageId: string }[]> {
  if (!mails.length) return [];
  const rows = mails.map((m) => ({
    case_id: m.caseId, kind: m.kind, template: m.template, language: m.language, recipients: m.to, sender: m.from,
    reply_to: m.replyTo, subject: m.subject, body: m.body, message_id: newMessageId(m.from),
  }));
  // A log quoted in a notice may be cut inside a surrogate pair: the JSON would carry half of it, which PostgreSQL refuses.
  const r = await tx.query<{ id: string; message_id: string }>(
    `INSERT INTO outbox (case_id, kind, template, language, recipients, sender, reply_to, subject, body, message_id, next_attempt_at, created_at)
     SELECT case_id, kind, template, language, recipients, sender, reply_to, subject, body, message_id, $2::timestamptz, $2::timestamptz
       FROM json_to_recordset($1::json) AS m(case_id bigint, kind text, template text, language text, recipients text[], sender text,
                                             reply_to text, subject text, body text, message_id text)
     RETURNING id, message_id`,
    [JSON.stringify(rows, (_k, v: unknown) => (typeof v === 'string' ? storable(v) : v)), now.toISOString()]);
  const ids = new Map(r.rows.map((x) => [x.message_id, Number(x.id)]));
  return rows.map((m) => ({ id: ids.get(m.message_id)!, messageId: m.message_id }));
}

export async function queueMail(tx: Db, m: QueuedMail, now = new Date()): Promise<{ id: number; messageId: string }> {
  return (await queueMails(tx, [m], now))[0];
}

interface OutboxRow {
  id: string; case_id: string | null; kind: MailKind; language: string; recipients: string[]; sender: string; reply_to: string | null;
  subject: string; body: string; message_id: string; attempts: number; case_number: string | null;
}

export interface Transport { sendMail(m: Record<string, unknown>): Promise<unknown> }

export function relayTransport(config: Config): Transport {
  const n = config.notices;
  return nodemailer.createTransport({
    host: n.relay_host, port: n.relay_port, secure: n.relay_secure,
    auth: n.relay_user ? { user: n.relay_user, pass: n.relay_password } : undefined,
    connectionTimeout: 15000, greetingTimeout: 15000, socketTimeout: 30000,
  });
}

/**
 * Sends what is due, oldest first, at most `limit` messages. A message is marked sent only after
 * the relay accepted it; a failure schedules the next attempt (retry_seconds, doubling).
 */
export async function deliverDue(db: Db, transport: Transport, config: Config, log: Logger, limit = 50, now = new Date()): Promise<{ sent: number; failed: number }> {
  const r = await db.query<OutboxRow>(
    `SELECT o.*, c.number AS case_number FROM outbox o LEFT JOIN cases c ON c.id = o.case_id
      WHERE o.status = 'pending' AND o.next_attempt_at <= $1 ORDER BY o.next_attempt_at, o.id LIMIT $2`, [now.toISOString(), limit]);
  let sent = 0;
  let failed = 0;
  for (const m of r.rows) {
    const headers: Record<string, string> = { 'Content-Language': m.language, 'Auto-Submitted': 'auto-generated' };
    if (m.case_number) headers['X-Madoguchi-Case'] = m.case_number;
    try {
      await transport.sendMail({
        from: m.sender, to: m.recipients, replyTo: m.reply_to ?? undefined, subject: m.subject, text: m.body,
        messageId: m.message_id, headers, textEncoding: 'base64',
      });
      await db.transaction(async (tx) => {
        await tx.query(`UPDATE outbox SET status = 'sent', sent_at = $2, attempts = attempts + 1, last_error = NULL WHERE id = $1`, [m.id, new Date().toISOString()]);
        if (m.case_id) await appendAudit(tx, [{ caseId: Number(m.case_id), actor: 'system:outbox', action: 'mail.sent', change: { outbox: Number(m.id), kind: m.kind, to: m.recipients, message_id: m.message_id } }]);
      });
      sent++;
    } catch (e) {
      const attempts = m.attempts + 1;
      const give = attempts >= config.notices.max_attempts;
      const next = new Date(Date.now() + config.notices.retry_seconds * 1000 * 2 ** (attempts - 1));
      const error = String((e as Error).message ?? e).slice(0, 1000);
      await db.transaction(async (tx) => {
        await tx.query('UPDATE outbox SET status = $2, attempts = $3, next_attempt_at = $4, last_error = $5 WHERE id = $1',
          [m.id, give ? 'failed' : 'pending', attempts, next.toISOString(), error]);
        if (give && m.case_id) await appendAudit(tx, [{ caseId: Number(m.case_id), actor: 'system:outbox', action: 'mail.failed', change: { outbox: Number(m.id), kind: m.kind, attempts, error } }]);
      });
      log.warn({ outbox: Number(m.id), attempts, error, gaveUp: give }, 'outgoing mail not accepted by the relay');
      failed++;
    }
  }
  return { sent, failed };
}
