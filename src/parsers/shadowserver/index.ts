// Shadowserver reports (and other CSV feeds): one event per row, read as a stream so a report
// of millions of rows never sits in memory. The report type comes from the file name
// (YYYY-MM-DD-<type>-<org...>.csv); without one, from the columns.
import type { Readable } from 'node:stream';
import { csvRecords } from './csv.js';
import { classify, type Event } from '../../events/event.js';
import { parseIPv4, parseIPv6, formatIPv6 } from '../../attribution/ip.js';
import type { FormatParser } from '../format.js';
import { ParseRefusal, type MimePart } from '../mail/mime.js';
import { isZip, unzipBounded } from '../zip.js';
import type { ParseLimits } from '../types.js';
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
  /** Largest single CSV record, bytes (an unclosed quote would otherwise swallow the file). */
  maxRecordBytes?: number;
}

/**
 * Streams events from a CSV feed in batches of up to `batchSize`. Shadowserver files are mapped
 * per the report schema; other CSVs with an address or URL column become `other` events.
 */
export async function* csvEvents(input: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string> | Readable, opts: CsvOptions = {}, batchSize = 1000): AsyncGenerator<Event[]> {
  let plan: RowPlan | undefined;
  let batch: Event[] = [];
  for await (const records of csvRecords(input as AsyncIterable<Uint8Array | string>, opts.maxRecordBytes)) {
    for (const row of records) {
      if (!plan) { plan = planFor(row, opts.filename); continue; }
      const e = plan.map(row);
      if (e) batch.push(e);
      if (batch.length >= batchSize) { yield batch; batch = []; }
    }
  }
  if (batch.length) yield batch;
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
      // Keys assigned one by one: an object spread followed by many new keys is 100 times slower in V8.
      const e: Event = {};
      for (const [k, v] of base) (e as Record<string, unknown>)[k] = v;
      for (const s of steps) {
        const raw = row[s.i]?.trim();
        if (raw === undefined || raw === '' || (s.zeroIsEmpty && raw === '0')) continue;
        const v = convert(raw, s.conv);
        if (v !== undefined) (e as Record<string, unknown>)[s.key] = v;
      }
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

/** CSV members of a part or file: plain CSV, or zipped CSVs (bounded). */
function csvMembers(data: Buffer, name: string | undefined, limits: ParseLimits): Array<{ name?: string; data: Buffer }> {
  if (isZip(data)) return unzipBounded(data, limits).filter((m) => /\.csv$/i.test(m.name)).map((m) => ({ name: m.name, data: m.data }));
  return [{ name, data }];
}

export async function sinkCsv(data: Buffer, filename: string | undefined, sink: EventSink, limits: ParseLimits): Promise<void> {
  for (const m of csvMembers(data, filename, limits)) {
    try {
      for await (const batch of csvEvents([m.data], { filename: m.name ?? filename })) {
        for (const e of batch) sink.add(e);
        if (sink.full) await sink.flush();
      }
    } catch (e) {
      if (e instanceof ParseRefusal) throw e;
      throw new ParseRefusal('malformed', `CSV ${m.name ?? filename ?? ''}: ${(e as Error).message}`.replace(/ +:/, ':'));
    }
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
