// Shadowserver reports (and other CSV feeds): one event per row, read as a stream so a report
// of millions of rows never sits in memory. The report type comes from the file name
// (YYYY-MM-DD-<type>-<org...>.csv); without one, from the columns.
import type { Readable } from 'node:stream';
import { CsvReader } from './csv.js';
import { classify, type Event } from '../../events/event.js';
import { ipOf, type FormatParser } from '../format.js';
import { ParseRefusal, type MimePart } from '../mail/mime.js';
import type { MailReport } from '../mail/report.js';
import { isZip, unzipPieces, type ZipLimits } from '../zip.js';
import { DEFAULT_LIMITS, type ParseLimits } from '../types.js';
import type { EventSink } from '../sink.js';
import { COLUMNS, classifyReport, columnSteps, reportSchema, sourceIsWebsite, type Conv } from './schema.js';
import type { ReportSchema } from './reports.js';

const FILENAME = /(?:^|[\\/])(\d{4}-\d{2}-\d{2})-([a-z0-9_]+)-[^\\/]*\.csv$/i;

/** The Shadowserver report type named by a file name, or undefined. */
export function reportTypeOf(filename: string | undefined): string | undefined {
  const m = filename ? FILENAME.exec(filename) : null;
  return m ? m[2].toLowerCase() : undefined;
}

/**
 * The report type a Shadowserver mail's subject names ("Shadowserver scan_http-sample Report:
 * 2019-10-15", "[Shadowserver] scan6_rsync-asia-jp Report: 2026-11-25"): the first word that is a
 * report type of the schema, an old report name, or of a scan/event/population family.
 */
export function subjectReportType(subject: string): string | undefined {
  return subject.toLowerCase().split(/[^a-z0-9_]+/).find((w) => reportSchema(w) !== undefined || /^(?:scan6?|event[46]|population6?)_[a-z0-9_]+$/.test(w));
}

export interface CsvOptions {
  filename?: string;
  /** The report type named elsewhere (the mail's subject), for files whose name names none. */
  report?: string;
  /** Largest single CSV record, characters (an unclosed quote would otherwise swallow the file). */
  maxRecordBytes?: number;
  /** Caps for a zipped feed (defaults: DEFAULT_LIMITS). */
  limits?: ZipLimits;
}

type Chunks = AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string> | Readable;

/**
 * Streams events from a CSV feed, plain or zipped (every .csv member), in batches of up to
 * `batchSize`. Shadowserver files are mapped per the report schema; other CSVs with an address
 * or URL column become `other` events. Throws CsvError or ParseRefusal (zip caps).
 */
export async function* csvEvents(input: Chunks, opts: CsvOptions = {}, batchSize = 1000): AsyncGenerator<Event[]> {
  const it = (input as AsyncIterable<Uint8Array | string>)[Symbol.asyncIterator]?.() ?? toAsync(input as Iterable<Uint8Array | string>);
  const first = await it.next();
  if (first.done) return;
  const chunks = withFirst(first.value, it);
  let batch: Event[] = [];
  const take = function* (feed: FeedReader, records: string[][]): Generator<Event[]> {
    for (const row of records) {
      const e = feed.row(row);
      if (e) batch.push(e);
      if (batch.length >= batchSize) { yield batch; batch = []; }
    }
  };
  if (typeof first.value !== 'string' && isZip(first.value)) {
    let feed: FeedReader | undefined;
    const pieces = unzipPieces(chunks as AsyncIterable<Uint8Array>, opts.limits ?? DEFAULT_LIMITS, (name) => /\.csv$/i.test(name));
    for await (const piece of pieces) {
      if (feed?.name !== piece.name) feed = new FeedReader(piece.name, opts.maxRecordBytes, opts.report);
      yield* take(feed, feed.reader.push(piece.data));
      if (piece.final) yield* take(feed, feed.reader.end());
    }
  } else {
    const feed = new FeedReader(opts.filename, opts.maxRecordBytes, opts.report);
    for await (const chunk of chunks) yield* take(feed, feed.reader.push(chunk));
    yield* take(feed, feed.reader.end());
  }
  if (batch.length) yield batch;
}

/** One CSV file being read: its reader and, once the header is in, its row plan. */
class FeedReader {
  readonly reader: CsvReader;
  private plan?: RowPlan;

  constructor(readonly name: string | undefined, maxRecord?: number, private readonly report?: string) {
    this.reader = new CsvReader(maxRecord);
  }

  row(fields: string[]): Event | null {
    if (!this.plan) { this.plan = planFor(fields, this.name, this.report); return null; }
    return this.plan.map(fields);
  }
}

async function* withFirst<T>(first: T, rest: AsyncIterator<T>): AsyncGenerator<T> {
  yield first;
  for (let r = await rest.next(); !r.done; r = await rest.next()) yield r.value;
}

function toAsync<T>(it: Iterable<T>): AsyncIterator<T> {
  const sync = it[Symbol.iterator]();
  return { next: async () => sync.next() };
}

interface RowPlan { map(row: string[]): Event | null }

/** One column read into one event key. */
interface Step { i: number; key: string; conv: Conv }

type Pairs = [string, unknown][];

function planFor(header: string[], filename?: string, named?: string): RowPlan {
  const cols = header.map((h) => h.trim().toLowerCase());
  const report = reportTypeOf(filename) ?? named ?? guessReportType(cols);
  const schema = report ? reportSchema(report) : undefined;
  return schema ? schemaPlan(cols, report!, schema) : familyPlan(cols, report);
}

/** A report type of the published schema: its classification, columns and constants, as the schema says. */
function schemaPlan(cols: string[], report: string, schema: ReportSchema): RowPlan {
  const [taxonomy, type, identifier] = schema.class.split('/');
  const base: Pairs = [['feed.name', report], ['feed.provider', 'Shadowserver'], ['classification.type', type], ['classification.taxonomy', taxonomy],
    // An identifier taken from a column falls back to the family's when the row leaves it empty.
    ['classification.identifier', identifier.startsWith('@') ? classifyReport(report).identifier : identifier]];
  const tail: Pairs = [];
  if (schema.app) tail.push(['protocol.application', schema.app]);
  if (schema.transport) tail.push(['protocol.transport', schema.transport]);
  const fallbacks: Step[] = [], steps: Step[] = [], finish: Array<(row: string[], e: Event) => void> = [];
  const seen = new Set<string>();
  cols.forEach((c, i) => {
    for (const s of columnSteps(schema, c)) {
      if (s.key === '=exchange') finish.push(exchangeClass(i));
      else if (s.fallback) fallbacks.push({ i, key: s.key, conv: s.conv });
      else if (!seen.has(s.key)) { seen.add(s.key); steps.push({ i, key: s.key, conv: s.conv }); }
      if (s.key.endsWith('.url')) finish.push(joinUrl(cols, s.key));
    }
  });
  // Fallback steps go first, so a later column giving the same key wins.
  return mapper(base, [...fallbacks, ...steps], tail, finish, (e) => !!(e['time.source'] || e['source.ip'] || e['source.network'] || e['source.url'] || e['source.fqdn'] || e['source.account']));
}

/** A report type the schema does not know yet (or a CSV from elsewhere): family rules and one column map. */
function familyPlan(cols: string[], shadowserver: string | undefined): RowPlan {
  const report = shadowserver ?? 'csv';
  const cls = shadowserver ? classifyReport(shadowserver) : { type: 'other', identifier: 'csv' };
  const website = shadowserver ? sourceIsWebsite(shadowserver) : false;
  const steps: Step[] = [];
  const seen = new Set<string>();
  cols.forEach((c, i) => {
    let m: [string, Conv] | undefined = COLUMNS[c] ?? (shadowserver ? undefined : GENERIC[c]);
    if (m && website && c === 'http_host') m = ['source.fqdn', 'fqdn'];
    if (m && seen.has(m[0])) m = undefined; // first of src_ip / ip wins
    const key = m ? m[0] : `extra.${c.replace(/[^a-z0-9_]/g, '_')}`;
    seen.add(key);
    // Industry codes are numbers, 0 when unknown.
    steps.push({ i, key, conv: m ? m[1] : /(?:^|_)(?:naics|sic)$/.test(c) ? 'int' : 'text' });
  });
  const base: Pairs = Object.entries(classify({ 'feed.name': report, 'feed.provider': shadowserver ? 'Shadowserver' : 'csv' }, cls.type, cls.identifier));
  const finish: Array<(row: string[], e: Event) => void> = [];
  if (website) {
    finish.push((_row, e) => {
      if (typeof e['source.url'] === 'string' && e['source.fqdn'] && !/^[a-z]+:\/\//i.test(e['source.url'])) {
        e['source.url'] = `http://${e['source.fqdn']}${e['source.url'].startsWith('/') ? '' : '/'}${e['source.url']}`;
      }
    });
  }
  // A blocklist entry may be a network rather than an address.
  const ip = cols.indexOf('ip');
  if (ip >= 0) finish.push((row, e) => { if (e['source.ip'] === undefined && row[ip]?.includes('/')) e['source.network'] = row[ip].trim(); });
  return mapper(base, steps, [], finish, (e) => !!(e['source.ip'] || e['source.url'] || e['source.fqdn'] || e['source.network'] || e['source.account']));
}

function mapper(base: Pairs, steps: Step[], tail: Pairs, finish: Array<(row: string[], e: Event) => void>, keep: (e: Event) => boolean): RowPlan {
  return {
    map(row) {
      // Built from a list of pairs: an object given more than a dozen computed keys one by one
      // turns into a slow dictionary in V8 (and an object spread followed by new keys is worse).
      const pairs = base.slice();
      for (const s of steps) {
        const raw = row[s.i]?.trim();
        if (raw === undefined || raw === '') continue;
        const v = convert(raw, s.conv);
        if (v !== undefined) pairs.push([s.key, v]);
      }
      for (const t of tail) pairs.push(t);
      const e = Object.fromEntries(pairs) as Event;
      for (const f of finish) f(row, e);
      return keep(e) ? e : null;
    },
  };
}

/**
 * The schema's URL rule: a host column (cc_dns or http_host) and a path column (url or http_url)
 * make one URL, with the row's application as scheme when it is http or https. Rows that name no
 * host (sinkholes and compromised devices reached by address) take that side's address and port;
 * a path column that holds a request line ("GET /gate.php HTTP/1.1") gives its path.
 */
function joinUrl(cols: string[], key: string): (row: string[], e: Event) => void {
  const host = cols.includes('cc_dns') ? cols.indexOf('cc_dns') : cols.indexOf('http_host');
  const path = cols.includes('url') ? cols.indexOf('url') : cols.indexOf('http_url');
  const app = cols.indexOf('application');
  // The side's address and port as the row's own steps already read them.
  const side = key.startsWith('destination.') ? 'destination.' : 'source.';
  const ipKey = `${side}ip`, portKey = `${side}port`;
  return (row, e) => {
    const p = row[path]?.trim();
    if (!p || /^[a-z][a-z0-9+.-]*:\/\//i.test(p)) return;
    const ev = e as Record<string, unknown>;
    let h = row[host]?.trim(), n = 0;
    if (!h) {
      const a = ev[ipKey];
      // No host and no address: the path alone is no URL, so it stays under its column's name.
      if (typeof a !== 'string') { delete ev[key]; ev[`extra.${cols[path]}`] = p; return; }
      h = a.includes(':') ? `[${a}]` : a;
      n = (ev[portKey] as number | undefined) ?? 0;
    }
    const given = row[app]?.trim();
    const scheme = given === 'http' || given === 'https' ? given : n === 443 ? 'https' : 'http';
    const where = n && n !== (scheme === 'https' ? 443 : 80) ? `${h}:${n}` : h;
    const rest = p.replace(/^[A-Z]+ +/, '').replace(/\s.*$/, '');
    ev[key] = `${scheme}://${where}${rest.charCodeAt(0) === 47 ? '' : '/'}${rest}`;
  };
}

/** scan_exchange: a web shell found on the server makes the row a compromise, not a vulnerability. */
function exchangeClass(tag: number): (row: string[], e: Event) => void {
  return (row, e) => {
    if (row[tag]?.trim() !== 'exchange;webshell') return;
    e['classification.taxonomy'] = 'intrusions';
    e['classification.type'] = 'system-compromise';
    e['classification.identifier'] = 'exchange-server-webshell';
  };
}

/** Columns of generic (non-Shadowserver) CSV feeds. */
const GENERIC: Record<string, [string, Conv]> = {
  source_ip: ['source.ip', 'ip'], address: ['source.ip', 'ip'], ip_address: ['source.ip', 'ip'],
  domain: ['source.fqdn', 'fqdn'], fqdn: ['source.fqdn', 'fqdn'], host: ['source.fqdn', 'fqdn'],
  time: ['time.source', 'time'], date: ['time.source', 'time'], first_seen: ['time.source', 'time'],
};

function guessReportType(cols: string[]): string | undefined {
  const has = (c: string) => cols.includes(c);
  if (!has('timestamp') || !(has('geo') || has('src_geo') || has('asn') || has('src_asn'))) return undefined;
  if (has('src_ip') && has('infection')) return has('http_url') ? 'event4_sinkhole_http' : 'event4_sinkhole';
  if (has('src_ip') && has('dst_ip')) return 'event4_honeypot_darknet';
  // The old drone report (an infected host and the C&C it called), still attached by clearing houses.
  if (has('ip') && has('infection') && has('cc')) return 'botnet_drone';
  if (has('http_host') && has('category')) return 'compromised_website';
  if (has('ip') && has('port')) return 'scan_unknown';
  return 'shadowserver_unknown';
}


/**
 * A plain decimal ("4680", "556.17") read without Number(), which costs several times more on the
 * sliced strings a CSV record is made of; -1 for anything else. Up to 15 digits the quotient is
 * exact-rounded, so it equals Number(v).
 */
function decimal(v: string): number {
  const len = v.length;
  if (len === 0 || len > 15) return -1;
  let n = 0, scale = 0;
  for (let i = 0; i < len; i++) {
    const c = v.charCodeAt(i) - 48;
    if (c >= 0 && c <= 9) { n = n * 10 + c; if (scale) scale *= 10; } else if (c === -2 && !scale && i > 0 && i < len - 1) scale = 1;
    else return -1;
  }
  return scale ? n / scale : n;
}

function convert(v: string, conv: Conv): string | number | boolean | undefined {
  switch (conv) {
    case 'int': {
      const d = decimal(v);
      const n = d >= 0 ? d : Number(v);
      return Number.isInteger(n) && n > 0 ? n : undefined;
    }
    case 'num': {
      const d = decimal(v);
      const n = d >= 0 ? d : Number(v);
      return Number.isFinite(n) ? n : undefined;
    }
    case 'bool':
      return YES.has(v.toLowerCase()) ? true : NO.has(v.toLowerCase()) ? false : undefined;
    case 'ip':
      if (v === '0.0.0.0') return undefined;
      return ipOf(v);
    case 'network':
      return v.includes('/') ? v : undefined;
    case 'time':
      return toIsoTime(v);
    case 'lower':
      return v.toLowerCase();
    case 'fqdn':
      // A host column may hold an address (a drone asking a sinkhole by IP); that is no host name.
      return ipOf(v) ? undefined : v.toLowerCase();
    case 'cve': {
      const ids = v.match(/cve-\d{4}-\d+/gi);
      return ids ? ids.join(';').toUpperCase() : undefined;
    }
    default:
      return v;
  }
}

const YES = new Set(['y', 'yes', 'true', 'enabled', '1']);
const NO = new Set(['n', 'no', 'false', 'disabled', '0']);

/** Shadowserver writes "2026-11-25 01:02:03" in UTC; other forms ("...Z", HTTP dates) come out alike. */
export function toIsoTime(v: string): string | undefined {
  if (/^\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(?:\.\d+)?$/.test(v)) return v.replace(' ', 'T') + '+00:00';
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : new Date(t).toISOString().replace(/(?:\.000)?Z$/, '+00:00');
}

export async function sinkCsv(data: Buffer, filename: string | undefined, sink: EventSink, limits: ParseLimits, report?: string): Promise<void> {
  try {
    for await (const batch of csvEvents([data], { filename, limits, report })) {
      for (const e of batch) sink.add(e);
      if (sink.full) await sink.flush();
    }
  } catch (e) {
    if (e instanceof ParseRefusal) throw e;
    throw new ParseRefusal('malformed', `CSV ${filename ?? ''}: ${(e as Error).message}`.replace(/ +:/, ':'));
  }
}

function isCsvPart(p: MimePart): boolean {
  const f = (p.filename ?? '').toLowerCase();
  return f.endsWith('.csv') || f.endsWith('.zip') || p.type === 'text/csv' || p.type === 'application/zip' || p.type === 'application/x-zip-compressed';
}

const sentByShadowserver = (mail: MailReport) => /@(?:[a-z0-9-]+\.)*shadowserver\.org$/.test(mail.from.email ?? '');

export const shadowserver: FormatParser = {
  name: 'shadowserver',
  detect(mail) {
    const fromShadowserver = sentByShadowserver(mail);
    return mail.parts().some((p) => isCsvPart(p) && (fromShadowserver || reportTypeOf(p.filename) !== undefined || p.type === 'text/csv'));
  },
  async parse(mail, ctx, sink) {
    // A file renamed on the way (report.csv, a random name) still has its type in Shadowserver's subject.
    const named = sentByShadowserver(mail) || /\bshadowserver\b/i.test(mail.subject) ? subjectReportType(mail.subject) : undefined;
    for (const p of mail.parts()) if (isCsvPart(p)) await sinkCsv(p.body(), p.filename, sink, ctx.limits, named);
    return { forwardConsent: null };
  },
};
