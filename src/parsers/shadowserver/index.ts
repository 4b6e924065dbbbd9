// Shadowserver reports (and other CSV feeds): one event per row, read as a stream so a report
// of millions of rows never sits in memory. The report type comes from the file name
// (YYYY-MM-DD-<type>-<org...>.csv); without one, from the columns.
import type { Readable } from 'node:stream';
import { CsvReader } from './csv.js';
import { classify, type Event } from '../../events/event.js';
import { parseIPv4, parseIPv6, formatIPv6 } from '../../attribution/ip.js';
import type { FormatParser } from '../format.js';
import { ParseRefusal, type MimePart } from '../mail/mime.js';
import { isZip, unzipPieces, type ZipLimits } from '../zip.js';
import { DEFAULT_LIMITS, type ParseLimits } from '../types.js';
import type { EventSink } from '../sink.js';
import { COLUMNS, classifyReport, sourceIsWebsite, type Conv } from './schema.js';

const FILENAME = /(?:^|[\\/])(\d{4}-\d{2}-\d{2})-([a-z0-9_]+)-[^\\/]*\.csv$/i;

/** The Shadowserver report type named by a file name, or undefined. */
export function reportTypeOf(filename: string | undefined): string | undefined {
  const m = filename ? FILENAME.exec(filename) : null;
  return m ? m[2].toLowerCase() : undefined;
}

export interface CsvOptions {
  filename?: string;
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
      if (feed?.name !== piece.name) feed = new FeedReader(piece.name, opts.maxRecordBytes);
      yield* take(feed, feed.reader.push(piece.data));
      if (piece.final) yield* take(feed, feed.reader.end());
    }
  } else {
    const feed = new FeedReader(opts.filename, opts.maxRecordBytes);
    for await (const chunk of chunks) yield* take(feed, feed.reader.push(chunk));
    yield* take(feed, feed.reader.end());
  }
  if (batch.length) yield batch;
}

/** One CSV file being read: its reader and, once the header is in, its row plan. */
class FeedReader {
  readonly reader: CsvReader;
  private plan?: RowPlan;

  constructor(readonly name: string | undefined, maxRecord?: number) {
    this.reader = new CsvReader(maxRecord);
  }

  row(fields: string[]): Event | null {
    if (!this.plan) { this.plan = planFor(fields, this.name); return null; }
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

function planFor(header: string[], filename?: string): RowPlan {
  const cols = header.map((h) => h.trim().toLowerCase());
  const shadowserver = reportTypeOf(filename) ?? guessReportType(cols);
  const report = shadowserver ?? 'csv';
  const cls = shadowserver ? classifyReport(shadowserver) : { type: 'other', identifier: 'csv' };
  const website = shadowserver ? sourceIsWebsite(shadowserver) : false;
  const steps: Array<{ i: number; key: string; conv: Conv; zeroIsEmpty: boolean }> = [];
  const seen = new Set<string>();
  cols.forEach((c, i) => {
    let m: [string, Conv] | undefined = COLUMNS[c] ?? (shadowserver ? undefined : GENERIC[c]);
    if (m && website && c === 'http_host') m = ['source.fqdn', 'lower'];
    if (m && seen.has(m[0])) m = undefined; // first of src_ip / ip wins
    const key = m ? m[0] : `extra.${c.replace(/[^a-z0-9_]/g, '_')}`;
    seen.add(key);
    // Industry codes are 0 when unknown.
    steps.push({ i, key, conv: m ? m[1] : 'text', zeroIsEmpty: /(?:^|_)(?:naics|sic)$/.test(c) });
  });
  const base = Object.entries(classify({ 'feed.name': report, 'feed.provider': shadowserver ? 'Shadowserver' : 'csv' }, cls.type, cls.identifier));
  return {
    map(row) {
      // Built from a list of pairs: an object given more than a dozen computed keys one by one
      // turns into a slow dictionary in V8 (and an object spread followed by new keys is worse).
      const pairs: [string, unknown][] = base.slice();
      for (const s of steps) {
        const raw = row[s.i]?.trim();
        if (raw === undefined || raw === '' || (s.zeroIsEmpty && raw === '0')) continue;
        const v = convert(raw, s.conv);
        if (v !== undefined) pairs.push([s.key, v]);
      }
      const e = Object.fromEntries(pairs) as Event;
      if (website && typeof e['source.url'] === 'string' && e['source.fqdn'] && !/^[a-z]+:\/\//i.test(e['source.url'])) {
        e['source.url'] = `http://${e['source.fqdn']}${e['source.url'].startsWith('/') ? '' : '/'}${e['source.url']}`;
      }
      // A blocklist entry may be a network rather than an address.
      const ip = (e as Record<string, unknown>)['source.ip'];
      if (ip === undefined && row[cols.indexOf('ip')]?.includes('/')) e['source.network'] = row[cols.indexOf('ip')];
      return e['source.ip'] || e['source.url'] || e['source.fqdn'] || e['source.network'] || e['source.account'] ? e : null;
    },
  };
}

/** Columns of generic (non-Shadowserver) CSV feeds. */
const GENERIC: Record<string, [string, Conv]> = {
  source_ip: ['source.ip', 'ip'], address: ['source.ip', 'ip'], ip_address: ['source.ip', 'ip'],
  domain: ['source.fqdn', 'lower'], fqdn: ['source.fqdn', 'lower'], host: ['source.fqdn', 'lower'],
  time: ['time.source', 'time'], date: ['time.source', 'time'], first_seen: ['time.source', 'time'],
};

function guessReportType(cols: string[]): string | undefined {
  const has = (c: string) => cols.includes(c);
  if (!has('timestamp') || !(has('geo') || has('src_geo') || has('asn') || has('src_asn'))) return undefined;
  if (has('src_ip') && has('infection')) return has('http_url') ? 'event4_sinkhole_http' : 'event4_sinkhole';
  if (has('src_ip') && has('dst_ip')) return 'event4_honeypot_darknet';
  if (has('http_host') && has('category')) return 'compromised_website';
  if (has('ip') && has('port')) return 'scan_unknown';
  return 'shadowserver_unknown';
}

const words = new Uint32Array(4);

function convert(v: string, conv: Conv): string | number | undefined {
  switch (conv) {
    case 'int': {
      const n = Number(v);
      return Number.isInteger(n) && n > 0 ? n : undefined;
    }
    case 'ip':
      if (parseIPv4(v) >= 0) return v;
      return parseIPv6(v, words) ? formatIPv6(words) : undefined;
    case 'time':
      return toIsoTime(v);
    case 'lower':
      return v.toLowerCase();
    default:
      return v;
  }
}

/** Shadowserver writes "2026-11-25 01:02:03" in UTC. */
export function toIsoTime(v: string): string | undefined {
  if (/^\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(?:\.\d+)?$/.test(v)) return v.replace(' ', 'T') + '+00:00';
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : new Date(t).toISOString();
}

export async function sinkCsv(data: Buffer, filename: string | undefined, sink: EventSink, limits: ParseLimits): Promise<void> {
  try {
    for await (const batch of csvEvents([data], { filename, limits })) {
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

export const shadowserver: FormatParser = {
  name: 'shadowserver',
  detect(mail) {
    const fromShadowserver = /@(?:[a-z0-9-]+\.)*shadowserver\.org$/.test(mail.from.email ?? '');
    return mail.parts().some((p) => isCsvPart(p) && (fromShadowserver || reportTypeOf(p.filename) !== undefined || p.type === 'text/csv'));
  },
  async parse(mail, ctx, sink) {
    for (const p of mail.parts()) if (isCsvPart(p)) await sinkCsv(p.body(), p.filename, sink, ctx.limits);
    return { forwardConsent: null };
  },
};
