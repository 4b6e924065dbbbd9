// Outbound reports about outside offenders: for each ban, the abuse contact of the offender's
// network (RDAP), an X-ARF v4 login_attack mail, and a row in outgoing_reports whatever happens:
// sent, failed, dry-run (composed, not sent: the default) or skipped with the reason (no contact,
// address reported recently, contact's hourly limit reached). Reports never hold up the jails:
// they wait in a bounded queue and are worked off one at a time.
import { createHash } from 'node:crypto';
import nodemailer from 'nodemailer';
import type { Config } from '../../config/config.js';
import type { Db } from '../../store/db.js';
import type { Logger } from '../../log.js';
import type { Ban } from './jail.js';
import type { JailConfig } from './config.js';
import { RdapClient } from './rdap.js';
import { composeXarfMail, xarfLoginAttack } from './xarf.js';

export type OutboundConfig = Config['detection']['outbound'];
export type Status = 'dry-run' | 'sent' | 'failed' | 'skipped';

export interface MailSender { sendMail(m: { envelope: { from: string; to: string[] }; raw: Buffer }): Promise<unknown> }

const MAX_QUEUE = 1000;
const MAX_RECORDED_MESSAGE = 256 * 1024;

export class OutboundReporter {
  private queue: { ban: Ban; banId: number; jail: JailConfig }[] = [];
  private working: Promise<void> | null = null;
  readonly rdap: RdapClient;
  private mailer: MailSender;

  constructor(private db: Db, private cfg: OutboundConfig, private log: Logger, mailer?: MailSender) {
    this.rdap = new RdapClient(db, { baseUrl: cfg.rdap_url, intervalMs: cfg.rdap_interval * 1000, timeoutMs: cfg.rdap_timeout * 1000, ttl: cfg.rdap_cache_ttl });
    this.mailer = mailer ?? nodemailer.createTransport({
      host: cfg.smtp_host, port: cfg.smtp_port, secure: false, connectionTimeout: 15000, greetingTimeout: 15000, socketTimeout: 30000,
    });
  }

  /** Queues a report about a ban; returns at once. */
  enqueue(ban: Ban, banId: number, jail: JailConfig): void {
    if (this.queue.length >= MAX_QUEUE) {
      this.log.warn({ ip: ban.ip, jail: ban.jail }, 'outbound report queue full: no report for this ban');
      return;
    }
    this.queue.push({ ban, banId, jail });
    this.working ??= this.work().finally(() => { this.working = null; });
  }

  /** Resolves when the queue is empty. */
  async idle(): Promise<void> {
    while (this.working) await this.working;
  }

  private async work(): Promise<void> {
    for (let item = this.queue.shift(); item; item = this.queue.shift()) {
      try {
        await this.report(item.ban, item.banId, item.jail);
      } catch (e) {
        this.log.error({ ip: item.ban.ip, err: (e as Error).message }, 'outbound report failed');
      }
    }
  }

  async report(ban: Ban, banId: number, jail: JailConfig): Promise<{ id: number; status: Status; reason: string | null }> {
    const cfg = this.cfg;
    const record = (status: Status, reason: string | null, extra: { recipient?: string; server?: string | null; handle?: string | null; uuid?: string; messageId?: string; message?: string } = {}) =>
      this.record(banId, ban.ip, status, reason, extra);
    if (!cfg.from || !cfg.reporter_org || !cfg.reporter_domain) return record('skipped', 'detection.outbound.from, reporter_org and reporter_domain must be set');
    const recent = await this.db.query(
      `SELECT 1 FROM outgoing_reports WHERE ip = $1::inet AND status IN ('sent', 'dry-run') AND created_at > now() - make_interval(secs => $2) LIMIT 1`,
      [ban.ip, cfg.per_address_interval]);
    if (recent.rows.length) return record('skipped', `reported within the last ${cfg.per_address_interval} s`);

    const contact = await this.rdap.lookup(ban.ip);
    const common = { server: contact.server, handle: contact.handle };
    if (!contact.abuseEmails.length) return record('skipped', `no abuse contact: ${contact.error ?? 'none found'}`, common);
    const to = contact.abuseEmails;
    const recipient = to.join(', ');
    const hour = await this.db.query<{ n: string }>(
      `SELECT count(*) AS n FROM outgoing_reports WHERE recipient = $1 AND status IN ('sent', 'dry-run') AND created_at > now() - interval '1 hour'`, [recipient]);
    if (Number(hour.rows[0].n) >= cfg.per_contact_per_hour) return record('skipped', `${cfg.per_contact_per_hour} reports to ${recipient} in the last hour`, { ...common, recipient });

    const reporter = { org: cfg.reporter_org, contact: cfg.from, domain: cfg.reporter_domain };
    const report = xarfLoginAttack(ban, reporter, { service: jail.service, port: jail.port }, (b) => createHash('sha256').update(b).digest('hex'));
    const { raw, messageId } = await composeXarfMail(report, cfg.from, to);
    const details = { ...common, recipient, uuid: report.report_id, messageId, message: raw.subarray(0, MAX_RECORDED_MESSAGE).toString('utf8') };
    if (cfg.dry_run) return record('dry-run', null, details);
    try {
      await this.mailer.sendMail({ envelope: { from: cfg.from, to }, raw });
    } catch (e) {
      return record('failed', String((e as Error).message).slice(0, 1000), details);
    }
    return record('sent', null, details);
  }

  private async record(banId: number, ip: string, status: Status, reason: string | null, x: { recipient?: string; server?: string | null; handle?: string | null; uuid?: string; messageId?: string; message?: string }) {
    const r = await this.db.query<{ id: string }>(
      `INSERT INTO outgoing_reports (ban_id, ip, format, recipient, rdap_server, rdap_handle, status, reason, report_uuid, message_id, message, sent_at)
       VALUES ($1, $2, 'xarf-v4-login_attack', $3, $4, $5, $6, $7, $8, $9, $10, CASE WHEN $6 = 'sent' THEN now() END) RETURNING id`,
      [banId, ip, x.recipient ?? null, x.server ?? null, x.handle ?? null, status, reason, x.uuid ?? null, x.messageId ?? null, x.message ?? null]);
    this.log.info({ ip, status, reason, recipient: x.recipient }, 'outbound report');
    return { id: Number(r.rows[0].id), status, reason };
  }
}
