// Replies to notices. Intake calls `attachReplyIfAny` before treating a mail as a new report: a
// mail answering one of the desk's messages (In-Reply-To / References), sent to a per-case
// address (abuse+2026-000123@...) or naming a case number in its subject is attached to that
// case. Only the customer's answer moves the case to customer_replied; a reporter writing back,
// an auto-reply or a stranger quoting the number is kept on the case without moving it.
import { simpleParser, type AddressObject, type ParsedMail } from 'mailparser';
import type { Desk } from '../desk.js';
import { addMessage, getCase, SYSTEM, type CaseRow } from './cases.js';
import { caseEnv, type CaseEnv } from './env.js';
import { CaseNotFound } from './errors.js';
import { canTransition } from './states.js';

/** Longest reply body kept on a case; the raw mail stays in intake's store. */
const MAX_BODY = 100_000;

/** What is read from a mail; mailparser's ParsedMail has it all. */
export type ReplyMail = Pick<ParsedMail, 'subject' | 'from' | 'to' | 'cc' | 'messageId' | 'inReplyTo' | 'references' | 'text' | 'headers'>;

function addresses(a: AddressObject | AddressObject[] | undefined): string[] {
  return (Array.isArray(a) ? a : a ? [a] : []).flatMap((o) => o.value.map((v) => (v.address ?? '').toLowerCase())).filter(Boolean);
}

function headerList(mail: ReplyMail, name: string): string[] {
  const v = mail.headers?.get(name);
  return (Array.isArray(v) ? v : v === undefined ? [] : [v]).map((x) => typeof x === 'string' ? x : (x as { text?: string }).text ?? '').filter(Boolean);
}

/** The case a mail answers, if any: by Message-ID reference, then per-case address, then subject. */
export async function caseForReply(env: CaseEnv, mail: ReplyMail): Promise<{ row: CaseRow; answersNotice: boolean } | null> {
  const refs = [mail.inReplyTo ?? '', ...(Array.isArray(mail.references) ? mail.references : mail.references ? [mail.references] : [])]
    .flatMap((r) => r.match(/<[^<>\s]{1,250}>/g) ?? []).slice(0, 50);
  if (refs.length) {
    const r = await env.db.query<{ case_id: string; kind: string }>(
      'SELECT case_id, kind FROM outbox WHERE message_id = ANY($1::text[]) AND case_id IS NOT NULL ORDER BY id DESC LIMIT 1', [refs]);
    if (r.rows.length) {
      return { row: await getCase(env, r.rows[0].case_id, SYSTEM), answersNotice: ['notice', 'reminder', 'escalation'].includes(r.rows[0].kind) };
    }
  }
  const plus = [...addresses(mail.to), ...addresses(mail.cc), ...headerList(mail, 'delivered-to'), ...headerList(mail, 'x-original-to')]
    .map((a) => /^[^@+]+\+([^@]+)@/.exec(a)?.[1] ?? '');
  const fromSubject = (mail.subject ?? '').slice(0, 1000);
  for (const candidate of [...plus, fromSubject]) {
    const m = candidate.match(env.numbers.pattern) ?? candidate.toUpperCase().match(env.numbers.pattern);
    if (!m) continue;
    try { return { row: await getCase(env, m[0], SYSTEM), answersNotice: false }; } catch (e) { if (!(e instanceof CaseNotFound)) throw e; }
  }
  return null;
}

export async function attachReplyIfAny(desk: Desk, mail: ReplyMail): Promise<number | null> {
  const env = caseEnv(desk);
  const found = await caseForReply(env, mail);
  if (!found) return null;
  const { row, answersNotice } = found;
  const from = addresses(mail.from)[0] ?? 'unknown';
  const auto = headerList(mail, 'auto-submitted').some((v) => !/^\s*no\b/i.test(v));
  const customer = row.customer_id
    ? (await env.db.query<{ emails: string[] }>('SELECT emails FROM customers WHERE id = $1', [row.customer_id])).rows[0]?.emails.map((e) => e.toLowerCase()) ?? []
    : [];
  const reporter = (await env.db.query('SELECT 1 FROM case_events WHERE case_id = $1 AND lower(reporter) = $2 LIMIT 1', [row.id, from])).rows.length > 0;
  const kind = auto ? 'other_message' : customer.includes(from) || (answersNotice && !reporter) ? 'customer_reply' : reporter ? 'reporter_message' : 'other_message';
  const body = (mail.text ?? '').replace(/\u0000/g, '').slice(0, MAX_BODY);
  const moveTo = kind === 'customer_reply' && canTransition(row.state, 'customer_replied') ? 'customer_replied' : undefined;
  await addMessage(env, row.id, { ...SYSTEM, actor: 'system:reply-intake' },
    { kind, body, subject: mail.subject?.slice(0, 1000) ?? null, messageId: mail.messageId ?? null, from }, moveTo);
  return Number(row.id);
}

/** Largest header block looked at before deciding whether a raw mail may be a reply. */
const MAX_HEADER = 262144;
/** Largest mail parsed as a reply; a bigger one is left to intake as a report. */
const MAX_REPLY = 10 * 1024 * 1024;

/**
 * The same for a raw RFC 5322 message, as intake holds it. The header block is checked first (a
 * case number, or a reference to a Message-ID of this desk), so that ordinary reports are
 * turned away without parsing the message.
 */
export async function attachRawReplyIfAny(desk: Desk, raw: Buffer): Promise<number | null> {
  const end = raw.subarray(0, MAX_HEADER).indexOf('\r\n\r\n');
  const head = raw.subarray(0, end < 0 ? Math.min(raw.length, MAX_HEADER) : end).toString('latin1');
  const env = caseEnv(desk);
  const refs = /^(in-reply-to|references):/im.test(head);
  if (!refs && !env.numbers.pattern.test(head)) return null;
  if (raw.length > MAX_REPLY) return null;
  return attachReplyIfAny(desk, await simpleParser(raw, { skipHtmlToText: true, skipImageLinks: true, skipTextLinks: true }));
}
