// The parsers' one entry point: raw bytes in (a mail, an X-ARF JSON document, a CSV or zip
// file), a ParsedReport out. Never throws for bad input: refusals come back as rejected reports
// with a reason the intake records. See README.md in this folder.
import type { Event } from '../events/event.js';
import { EventListError, isEventList, readEventList } from '../intake/event-list.js';
import { parseMessage, ParseRefusal } from './mail/mime.js';
import { MailReport } from './mail/report.js';
import { EventSink } from './sink.js';
import { rejection } from './reject/index.js';
import { detectLanguage, forwardConsent } from './text/classify.js';
import type { FormatParser } from './format.js';
import { arf } from './arf/index.js';
import { xarf, xarfJsonEvents, isXarfJson } from './xarf/index.js';
import { spamcop } from './spamcop/index.js';
import { shadowserver, sinkCsv } from './shadowserver/index.js';
import { fail2ban } from './fail2ban/index.js';
import { jpcert } from './jpcert/index.js';
import { acns } from './acns/index.js';
import { safebrowsing } from './safebrowsing/index.js';
import { threatexchange } from './threatexchange/index.js';
import { hibp } from './haveibeenpwned/index.js';
import { abusehub } from './abusehub/index.js';
import { freeform } from './freeform/index.js';
import { isZip } from './zip.js';
import { DEFAULT_LIMITS, type ParseContext, type ParsedReport, type ParseLimits } from './types.js';
import { enableBacktrackFallback } from '../regexp-fallback.js';

enableBacktrackFallback();

export type { ParseContext, ParsedReport, ParseLimits, Reporter } from './types.js';
export { DEFAULT_LIMITS } from './types.js';
export { csvEvents, reportTypeOf } from './shadowserver/index.js';
export { ParseRefusal } from './mail/mime.js';

/** Mail formats, most specific first; freeform takes whatever is left. */
export const FORMATS: FormatParser[] = [xarf, spamcop, arf, abusehub, shadowserver, fail2ban, jpcert, acns, safebrowsing, threatexchange, hibp, freeform];

export interface ParseHint { filename?: string; contentType?: string }

export async function parseReport(raw: Buffer, ctx: ParseContext, hint: ParseHint = {}): Promise<ParsedReport> {
  const limits = ctx.limits;
  if (raw.length > limits.maxMessageBytes) return refused('too-large', `${raw.length} bytes is more than the ${limits.maxMessageBytes}-byte limit`);
  const sink = new EventSink(ctx);
  try {
    const kind = inputKind(raw, hint);
    if (kind === 'json') return await parseJson(raw, ctx, sink);
    if (kind === 'csv') {
      await sinkCsv(raw, hint.filename, sink, limits);
      return await finish({ rejected: false, parser: 'shadowserver', warnings: [] }, sink);
    }
    return await parseMail(raw, ctx, sink);
  } catch (e) {
    if (e instanceof ParseRefusal) return refused(e.reason, e.message);
    // A parser bug must not lose the report: the intake quarantines it with this message.
    return refused('malformed', `parser failure: ${(e as Error).message}`);
  }
}

function inputKind(raw: Buffer, hint: ParseHint): 'json' | 'csv' | 'mail' {
  const ct = (hint.contentType ?? '').toLowerCase();
  const name = (hint.filename ?? '').toLowerCase();
  if (isZip(raw) || ct.includes('csv') || name.endsWith('.csv') || name.endsWith('.zip')) return 'csv';
  if (ct.includes('json') || name.endsWith('.json')) return 'json';
  let i = 0;
  while (i < raw.length && i < 64 && (raw[i] === 0x20 || raw[i] === 0x0a || raw[i] === 0x0d || raw[i] === 0x09 || raw[i] === 0xef || raw[i] === 0xbb || raw[i] === 0xbf)) i++;
  if (raw[i] === 0x7b || raw[i] === 0x5b) return 'json';
  return 'mail';
}

async function parseMail(raw: Buffer, ctx: ParseContext, sink: EventSink): Promise<ParsedReport> {
  if (raw.length === 0 || !raw.some((b) => b > 0x20)) return { ...refused('empty', 'an empty message'), parser: 'mail' };
  if (looksBinary(raw)) return refused('malformed', 'binary data, not a mail message or report');
  const { root, skipped } = parseMessage(raw, ctx.limits);
  const mail = new MailReport(root, ctx.limits.maxTextChars);
  const head: ParsedReport = {
    rejected: false, parser: 'mail', events: [], eventCount: 0, warnings: skipped,
    reporter: mail.from.email || mail.from.name ? mail.from : undefined,
    messageId: mail.messageId, subject: mail.subject || undefined, date: mail.date,
  };
  const rej = rejection(mail);
  if (rej) return { ...head, rejected: true, ...rej };
  const format = FORMATS.find((f) => f.detect(mail))!;
  const info = await format.parse(mail, ctx, sink);
  return finish({
    ...head,
    parser: format.name,
    reporter: info.reporter ?? head.reporter,
    date: head.date ?? info.date,
    // Structured formats answer null for consent; only human-written text is read for it.
    forwardConsent: info.forwardConsent !== undefined ? info.forwardConsent : forwardConsent(mail.text()),
    language: detectLanguage(mail.subject, mail.leadText()),
    warnings: skipped,
  }, sink);
}

async function parseJson(raw: Buffer, ctx: ParseContext, sink: EventSink): Promise<ParsedReport> {
  let doc: unknown;
  try {
    doc = JSON.parse(raw.toString('utf8'));
  } catch (e) {
    return refused('malformed', `invalid JSON: ${(e as Error).message}`);
  }
  if (isXarfJson(doc)) {
    const r = xarfJsonEvents(doc as Record<string, unknown>, sink);
    return finish({ rejected: false, parser: 'xarf', warnings: [], reporter: r.reporter, date: r.date, forwardConsent: r.forwardConsent ?? null, language: null }, sink);
  }
  // The API's own format; its rules live with the HTTP intake, which checks posts before storing them.
  if (!isEventList(doc)) return refused('malformed', 'JSON that is neither X-ARF nor a list of events');
  let events: Event[];
  try {
    events = readEventList(doc, ctx.limits.maxEvents);
  } catch (e) {
    if (e instanceof EventListError) return refused('malformed', e.message);
    throw e;
  }
  for (const e of events) sink.add(e);
  return finish({ rejected: false, parser: 'events', warnings: [], language: null, forwardConsent: null }, sink);
}

async function finish(r: Omit<ParsedReport, 'events' | 'eventCount'>, sink: EventSink): Promise<ParsedReport> {
  await sink.flush();
  return { ...r, events: sink.events, eventCount: sink.count };
}

function refused(reason: NonNullable<ParsedReport['reason']>, error: string): ParsedReport {
  return { rejected: true, reason, error, parser: 'none', events: [], eventCount: 0, warnings: [] };
}

/** NUL bytes or mostly control characters in the first 4 KB: not a message. */
function looksBinary(raw: Buffer): boolean {
  const n = Math.min(raw.length, 4096);
  let bad = 0;
  for (let i = 0; i < n; i++) {
    const b = raw[i];
    if (b === 0) return true;
    if (b < 0x09 || (b > 0x0d && b < 0x20 && b !== 0x1b)) bad++;
  }
  return bad > n / 10;
}

/** Limits from the `parsing` section of the configuration. */
export function limitsFromConfig(p: Partial<Record<keyof typeof CONFIG_KEYS, number>>): ParseLimits {
  const l: ParseLimits = { ...DEFAULT_LIMITS };
  for (const [cfg, key] of Object.entries(CONFIG_KEYS)) {
    const v = p[cfg as keyof typeof CONFIG_KEYS];
    if (typeof v === 'number') l[key] = v;
  }
  return l;
}

const CONFIG_KEYS = {
  max_message_bytes: 'maxMessageBytes',
  max_mime_depth: 'maxDepth',
  max_mime_parts: 'maxParts',
  max_part_bytes: 'maxPartBytes',
  max_header_bytes: 'maxHeaderBytes',
  max_text_chars: 'maxTextChars',
  zip_max_bytes: 'zipMaxBytes',
  zip_max_ratio: 'zipMaxRatio',
  zip_max_entries: 'zipMaxEntries',
  max_events: 'maxEvents',
} as const satisfies Record<string, keyof ParseLimits>;
