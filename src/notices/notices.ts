// Notices to customers (first notice, reminder, escalation), acknowledgements and closing
// messages to reporters. Each is rendered from a template file in the recipient's language and
// queued in the outbox inside the transaction that records it on the case.
import type { Db } from '../store/db.js';
import { canTransition, type CaseState } from '../cases/states.js';
import { mutateCase, playbookOf, statePatch, variantOf, type CaseRow, type Viewer } from '../cases/cases.js';
import type { CaseEnv } from '../cases/env.js';
import { CaseRuleError } from '../cases/errors.js';
import { acknowledgementContext, caseContext, evidenceOf, partiesOf, replyAddress, type NoticeParties } from './context.js';
import { queueMail, queueMails, type MailKind, type QueuedMail } from './outbox.js';
import { LANGUAGES, type Language, type RenderedMail } from './templates.js';

export interface NoticeRequest {
  kind: Exclude<MailKind, 'acknowledgement' | 'closing'>;
  /** Template name; default: the playbook variant's notice template, or `reminder`. */
  template?: string;
  /** The restriction an escalation notice announces or reports. */
  action?: string | null;
}

function templateFor(env: CaseEnv, row: CaseRow, req: NoticeRequest): string {
  const name = req.template ?? (req.kind === 'reminder' ? 'reminder' : variantOf(env, row).template);
  if (!env.templates.has(name, 'en') || !env.templates.has(name, 'ja')) {
    throw new CaseRuleError(`no notice template '${name}' (templates: ${env.templates.names().join(', ')})`);
  }
  if (name === 'acknowledgement') throw new CaseRuleError('the acknowledgement goes to reporters, not to customers');
  return name;
}

function deadlineFor(env: CaseEnv, row: CaseRow, kind: NoticeRequest['kind'], now: Date): Date | null {
  return kind === 'notice' ? new Date(now.getTime() + variantOf(env, row).deadlineMs) : row.due_at;
}

async function renderFor(env: CaseEnv, db: Db, row: CaseRow, parties: NoticeParties, name: string, lang: Language,
  extras: { deadline: Date | null; action?: string | null; closingText?: string | null }): Promise<RenderedMail> {
  const evidence = await evidenceOf(db, row.id);
  return env.templates.render(name, lang, caseContext(env, row, parties, evidence, lang, extras));
}

/** The notice as it would go out now, without sending it or changing the case. */
export async function previewNotice(env: CaseEnv, row: CaseRow, req: NoticeRequest & { language?: Language }, now = new Date()) {
  const name = templateFor(env, row, req);
  const parties = await partiesOf(env.db, row);
  const lang = req.language ?? parties.customer?.language ?? 'en';
  const mail = await renderFor(env, env.db, row, parties, name, lang, { deadline: deadlineFor(env, row, req.kind, now), action: req.action });
  return { template: name, language: lang, to: parties.customer?.emails ?? [], ...mail };
}

/**
 * Queues a notice to the customer. A first notice moves the case to notified and starts the
 * playbook's clock (deadline, reminders, escalation steps).
 */
export async function sendNotice(env: CaseEnv, ref: string | number, viewer: Viewer, version: number | null, req: NoticeRequest, now = new Date()): Promise<{ case: CaseRow; outboxId: number }> {
  let outboxId = 0;
  const updated = await mutateCase(env, ref, viewer, version, async (row, tx) => {
    if (!row.customer_id) throw new CaseRuleError('this case has no customer yet (triage): name the customer and service first');
    if (row.state === 'closed') throw new CaseRuleError('the case is closed');
    const name = templateFor(env, row, req);
    const parties = await partiesOf(tx, row);
    if (!parties.customer?.emails.length) throw new CaseRuleError(`customer ${row.customer_id} has no contact address in the inventory`);
    const lang = parties.customer.language;
    const mail = await renderFor(env, tx, row, parties, name, lang, { deadline: deadlineFor(env, row, req.kind, now), action: req.action });
    const q = await queueMail(tx, {
      caseId: Number(row.id), kind: req.kind, template: name, language: lang, to: parties.customer.emails,
      from: parties.brand.from_address || env.config.notices.from, replyTo: replyAddress(env.config.notices.reply_to, row.number), ...mail,
    }, now);
    outboxId = q.id;
    let set = {};
    const to: CaseState | null = req.kind === 'notice' ? 'notified' : null;
    if (to && row.state !== to) {
      if (!canTransition(row.state, to)) throw new CaseRuleError(`a notice cannot be sent while the case is ${row.state}`);
      set = statePatch(env, row, to, now);
    } else if (to) {
      set = { due_at: deadlineFor(env, row, req.kind, now) };
    }
    return {
      set,
      audit: [{ action: `notice.${req.kind}`, change: { outbox: q.id, message_id: q.messageId, template: name, language: lang, to: parties.customer.emails, subject: mail.subject, ...(to && row.state !== to ? { state: { from: row.state, to } } : {}) } }],
    };
  }, now);
  return { case: updated, outboxId };
}

/** A report to acknowledge: its reporter, the language of the report and the cases its events went to. */
export interface ReportAcknowledgement { id: number; reporter: string; language?: string | null; caseIds: number[] }

const MAILBOX = /^[^\s@<>]+@[^\s@<>]+$/;

/**
 * Acknowledges reports to their reporters with the numbers of the cases their events went to,
 * once per report however often its events arrive (reparse, duplicates, workers side by side):
 * whoever claims the report's row first sends. A report without cases or without a reporter's
 * address gets nothing. One transaction for all of them; the text depends only on the language and
 * the cases, so each distinct pair is rendered once. The outbox id per report given, null where
 * nothing was queued (a report given twice is acknowledged at its first entry).
 */
export async function acknowledgeReports(env: CaseEnv, reports: ReportAcknowledgement[], now = new Date()): Promise<(number | null)[]> {
  const due = new Map<number, ReportAcknowledgement>();
  for (const r of reports) if (r.caseIds.length && MAILBOX.test(r.reporter) && !due.has(r.id)) due.set(r.id, r);
  if (!due.size) return reports.map(() => null);
  const queued = await env.db.transaction(async (tx) => {
    const found = new Map((await tx.query<CaseRow>('SELECT * FROM cases WHERE id = ANY($1::bigint[])',
      [[...new Set([...due.values()].flatMap((r) => r.caseIds))]])).rows.map((c) => [Number(c.id), c]));
    const casesOf = (r: ReportAcknowledgement) => [...new Set(r.caseIds)].flatMap((id) => found.get(id) ?? []).sort((a, b) => Number(a.id) - Number(b.id));
    // Claimed in id order, so that two batches sharing reports wait on each other instead of deadlocking.
    const ids = [...due.values()].filter((r) => casesOf(r).length).map((r) => r.id).sort((a, b) => a - b);
    const mine = new Set((await tx.query<{ report_id: string }>(
      'INSERT INTO report_acknowledgements (report_id, at) SELECT unnest($1::bigint[]), $2 ON CONFLICT DO NOTHING RETURNING report_id',
      [ids, now.toISOString()])).rows.map((x) => Number(x.report_id)));
    const claimed = [...due.values()].filter((r) => mine.has(r.id));
    const parties = new Map<string, NoticeParties>();
    const mails = new Map<string, QueuedMail>();
    const out: QueuedMail[] = [];
    for (const r of claimed) {
      const cases = casesOf(r);
      const lang: Language = (LANGUAGES as readonly string[]).includes(r.language ?? '') ? r.language as Language : env.config.cases.reporter_language as Language;
      const key = `${lang} ${cases.map((c) => c.id).join(',')}`;
      let mail = mails.get(key);
      if (!mail) {
        // One acknowledgement in the desk's name: the brand of the first attributed case, if any.
        const lead = cases.find((c) => c.brand_id) ?? cases[0];
        let p = parties.get(lead.id);
        if (!p) parties.set(lead.id, p = await partiesOf(tx, lead));
        // Case titles name the customer's resource; the reporter already knows it, and nothing else about the customer is said.
        const text = env.templates.render('acknowledgement', lang, acknowledgementContext(p.brand.name, cases.map((c) => ({ number: c.number, title: c.title }))));
        mails.set(key, mail = {
          caseId: null, kind: 'acknowledgement', template: 'acknowledgement', language: lang, to: [],
          from: p.brand.from_address || env.config.notices.from, replyTo: replyAddress(env.config.notices.reply_to, cases[0].number), ...text,
        });
      }
      out.push({ ...mail, to: [r.reporter] });
    }
    const q = await queueMails(tx, out, now);
    await tx.query('UPDATE report_acknowledgements a SET outbox_id = u.outbox FROM unnest($1::bigint[], $2::bigint[]) AS u(report, outbox) WHERE a.report_id = u.report',
      [claimed.map((r) => r.id), q.map((m) => m.id)]);
    return new Map(claimed.map((r, i) => [r.id, q[i].id]));
  });
  return reports.map((r) => (due.get(r.id) === r ? queued.get(r.id) ?? null : null));
}

/** The optional closing message to the case's reporters (those with an e-mail address). */
export async function sendClosing(env: CaseEnv, ref: string | number, viewer: Viewer, text: string | null, now = new Date()): Promise<number[]> {
  const ids: number[] = [];
  await mutateCase(env, ref, viewer, null, async (row, tx) => {
    const r = await tx.query<{ reporter: string }>(
      `SELECT DISTINCT reporter FROM case_events WHERE case_id = $1 AND reporter LIKE '%@%' ORDER BY reporter LIMIT 100`, [row.id]);
    if (!r.rows.length) throw new CaseRuleError('this case has no reporter with an e-mail address');
    const parties = await partiesOf(tx, row);
    const lang = env.config.cases.reporter_language as Language;
    const mail = await renderFor(env, tx, row, parties, 'closing', lang, { deadline: null, closingText: text });
    const from = parties.brand.from_address || env.config.notices.from;
    const replyTo = replyAddress(env.config.notices.reply_to, row.number);
    const queued = await queueMails(tx, r.rows.map(({ reporter }) => ({
      caseId: Number(row.id), kind: 'closing' as const, template: 'closing', language: lang, to: [reporter], from, replyTo, ...mail,
    })), now);
    ids.push(...queued.map((q) => q.id));
    return { set: {}, audit: [{ action: 'notice.closing', change: { outbox: ids, to: r.rows.map((x) => x.reporter), playbook: playbookOf(env, row).id } }] };
  }, now);
  return ids;
}
