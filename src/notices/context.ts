// What a notice template sees. Evidence is redacted here, event by event: without the reporter's
// consent a notice tells what happened (time, the customer's own resource, kind, port) and leaves
// out the reporter's identity, its logs and anything about the reporter's side (its addresses,
// accounts, free text).
import type { Event } from '../events/event.js';
import type { Db } from '../store/db.js';
import type { CaseRow } from '../cases/cases.js';
import type { CaseEnv } from '../cases/env.js';
import { playbookOf } from '../cases/cases.js';
import type { Language } from './templates.js';

/** Events quoted in one notice; the rest are counted. */
const MAX_ITEMS = 20;
/** Characters of a log quoted per event. */
const MAX_LOG = 1000;

const SERVICE_TYPES: Record<Language, Record<string, string>> = {
  en: { shared: 'shared hosting', vps: 'VPS', dedicated: 'dedicated server', iaas: 'cloud (IaaS)', reseller: 'reseller', other: 'other' },
  ja: { shared: '共用サーバ', vps: 'VPS', dedicated: '専用サーバ', iaas: 'クラウド（IaaS）', reseller: '再販', other: 'その他' },
};

export const ACTION_TITLES: Record<Language, Record<string, string>> = {
  en: {
    suspend: 'suspension of the service', unsuspend: 'lifting of the suspension', null_route: 'blocking of the address at the network edge',
    remove_null_route: 'unblocking of the address', block_url: 'disabling of the URL', unblock_url: 're-enabling of the URL', stop_program: 'stopping of the program',
  },
  ja: {
    suspend: 'サービスの一時停止', unsuspend: '一時停止の解除', null_route: 'ネットワークでの通信遮断', remove_null_route: '通信遮断の解除',
    block_url: '該当 URL の公開停止', unblock_url: '該当 URL の公開再開', stop_program: '該当プログラムの停止',
  },
};

export function formatTime(d: Date, lang: Language, timeZone: string): string {
  const parts = Object.fromEntries(new Intl.DateTimeFormat('en-US', {
    timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZoneName: 'longOffset',
  }).formatToParts(d).map((p) => [p.type, p.value]));
  const offset = parts.timeZoneName.replace('GMT', 'UTC');
  return lang === 'ja'
    ? `${parts.year}年${parts.month}月${parts.day}日 ${parts.hour}:${parts.minute} (${offset})`
    : `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute} (${offset})`;
}

export interface EvidenceRow { at: Date; event: Event; consent: boolean; reporter: string | null }

const str = (v: unknown) => typeof v === 'string' || typeof v === 'number' ? String(v) : '';

/** One quoted event. Without consent: only what concerns the customer's own resource. */
export function evidenceItem(r: EvidenceRow, lang: Language, timeZone: string) {
  const e = r.event;
  const resource = str(e['source.url']) || str(e['source.fqdn']) || str(e['source.ip']);
  const port = str(e['destination.port']) || str(e['source.port']);
  const detail = [str(e['malware.name']), str(e['protocol.application'])].filter(Boolean).join(' ');
  const item = { time: formatTime(new Date(r.at), lang, timeZone), resource, type: str(e['classification.type']) || 'other', port, detail, log: '' };
  if (!r.consent) return item;
  const target = str(e['destination.ip']) || str(e['destination.fqdn']);
  const raw = str(e.raw);
  return {
    ...item,
    detail: [detail, target && `-> ${target}`, str(e['event_description.text']).slice(0, 200)].filter(Boolean).join(' '),
    log: raw.length > MAX_LOG ? `${raw.slice(0, MAX_LOG)} ...` : raw,
  };
}

export interface NoticeParties {
  customer: { name: string; language: Language; emails: string[] } | null;
  brand: { name: string; from_address: string | null };
}

export async function partiesOf(db: Db, row: CaseRow): Promise<NoticeParties> {
  const c = row.customer_id ? (await db.query<{ name: string; language: Language; emails: string[]; brand_id: string }>(
    'SELECT name, language, emails, brand_id FROM customers WHERE id = $1', [row.customer_id])).rows[0] ?? null : null;
  const brandId = row.brand_id ?? c?.brand_id ?? null;
  const b = brandId ? (await db.query<{ name: string; from_address: string | null }>('SELECT name, from_address FROM brands WHERE id = $1', [brandId])).rows[0] : undefined;
  return {
    customer: c && { name: c.name, language: c.language, emails: c.emails },
    brand: b ?? { name: brandId ?? 'Abuse Desk', from_address: null },
  };
}

export async function evidenceOf(db: Db, caseId: string | number, limit = MAX_ITEMS): Promise<{ rows: EvidenceRow[]; total: number }> {
  const r = await db.query<EvidenceRow>('SELECT at, event, consent, reporter FROM case_evidence WHERE case_id = $1 ORDER BY id DESC LIMIT $2', [caseId, limit]);
  const n = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM case_events WHERE case_id = $1', [caseId]);
  return { rows: r.rows.reverse(), total: n.rows[0].n };
}

export function replyAddress(base: string, number: string): string {
  const at = base.lastIndexOf('@');
  return at > 0 ? `${base.slice(0, at)}+${number}${base.slice(at)}` : base;
}

export interface ContextExtras {
  deadline: Date | null;
  action?: string | null;
  closingText?: string | null;
}

/** The values every case template may use (see src/notices/templates/*.txt). */
export function caseContext(env: CaseEnv, row: CaseRow, parties: NoticeParties, evidence: { rows: EvidenceRow[]; total: number },
  lang: Language, extras: ContextExtras): Record<string, unknown> {
  const tz = env.config.desk.timezone;
  const items = evidence.rows.map((r) => evidenceItem(r, lang, tz));
  const forwarded = evidence.rows.length > 0 && evidence.rows.every((r) => r.consent);
  const reporters = [...new Set(evidence.rows.filter((r) => r.consent).map((r) => r.reporter ?? str(r.event['feed.provider'])).filter(Boolean))];
  const pb = playbookOf(env, row);
  const when = (d: Date | null) => d ? formatTime(new Date(d), lang, tz) : '-';
  return {
    brand: { name: parties.brand.name },
    customer: { name: parties.customer?.name ?? '' },
    case: { number: row.number, title: row.title },
    service: { id: row.service_id ?? '-', type: SERVICE_TYPES[lang][row.service_type ?? 'other'] ?? row.service_type, shared: row.service_type === 'shared' },
    abuse: { title: pb.title[lang] },
    events: { count: evidence.total, first: when(row.first_event_at ?? row.opened_at), last: when(row.last_event_at ?? row.opened_at) },
    evidence: { items, more: Math.max(0, evidence.total - items.length), withheld: !forwarded && items.length > 0, reporters: reporters.join(', ') },
    deadline: when(extras.deadline),
    reply: { address: replyAddress(env.config.notices.reply_to, row.number) },
    action: { title: extras.action ? ACTION_TITLES[lang][extras.action] ?? extras.action : '' },
    closing: { text: extras.closingText ?? '' },
  };
}

/** The values of the acknowledgement template: one report, the cases its events went to. */
export function acknowledgementContext(brandName: string, cases: { number: string; title: string }[]): Record<string, unknown> {
  return { brand: { name: brandName }, cases: cases.map((c) => c.number).join(', '), case_list: cases };
}
