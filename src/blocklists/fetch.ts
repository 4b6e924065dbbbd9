// Getting a list: over HTTP (conditional requests with ETag / If-Modified-Since, a timeout, a byte
// cap) or from a local file. The text is parsed while it streams into a temporary copy; only a
// complete, non-empty list replaces the copy the desk holds, so a failed, empty or cut-short
// download leaves the last good version in force.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { ListParser, type ParsedList } from './format.js';

export type ProblemKind = 'vanished' | 'empty' | 'truncated' | 'over_cap' | 'fetch_failed';

/** What the desk remembers about the copy it holds, to ask only for something newer. */
export interface CopyState { etag?: string | null; lastModified?: string | null; fileStamp?: string | null; sha256?: string | null }

export type Fetched =
  | { outcome: 'new'; parsed: ParsedList; sha256: string; etag?: string; lastModified?: string; fileStamp?: string }
  | { outcome: 'unchanged'; etag?: string; lastModified?: string; fileStamp?: string }
  | { outcome: 'problem'; kind: ProblemKind; error: string };

export interface FetchOptions {
  /** Where the new text is written (renamed over the copy by the caller when accepted). */
  tmpPath: string;
  timeoutMs: number;
  maxBytes: number;
  /** Whether a previous copy exists (without one, there is nothing to be unchanged against). */
  haveCopy: boolean;
}

export async function fetchList(source: { url?: string; path?: string }, state: CopyState, opts: FetchOptions): Promise<Fetched> {
  return source.url ? fetchUrl(source.url, state, opts) : readLocal(source.path!, state, opts);
}

async function fetchUrl(url: string, state: CopyState, opts: FetchOptions): Promise<Fetched> {
  const headers: Record<string, string> = { 'user-agent': 'Madoguchi blocklist watch', accept: 'text/plain, */*' };
  if (opts.haveCopy && state.etag) headers['if-none-match'] = state.etag;
  if (opts.haveCopy && state.lastModified) headers['if-modified-since'] = state.lastModified;
  const signal = AbortSignal.timeout(opts.timeoutMs);
  let res: Response;
  try {
    res = await fetch(url, { headers, signal, redirect: 'follow' });
  } catch (e) {
    return { outcome: 'problem', kind: 'fetch_failed', error: `download failed: ${describe(e)}` };
  }
  if (res.status === 304 && opts.haveCopy) { await res.body?.cancel(); return { outcome: 'unchanged' }; }
  if (res.status === 404 || res.status === 410) {
    await res.body?.cancel();
    return { outcome: 'problem', kind: 'vanished', error: `the list is gone: HTTP ${res.status}` };
  }
  if (!res.ok || !res.body) {
    await res.body?.cancel();
    return { outcome: 'problem', kind: 'fetch_failed', error: `HTTP ${res.status} ${res.statusText}` };
  }
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (declared > opts.maxBytes) {
    await res.body.cancel();
    return { outcome: 'problem', kind: 'over_cap', error: `the list is ${declared} bytes, over the cap of ${opts.maxBytes}` };
  }
  let taken: Taken;
  try {
    taken = await take(res.body as unknown as AsyncIterable<Uint8Array>, opts);
  } catch (e) {
    return { outcome: 'problem', kind: 'truncated', error: `download broke off: ${describe(e)}` };
  }
  if (Number.isFinite(declared) && !taken.parsed.overCap && taken.bytes !== declared) {
    return { outcome: 'problem', kind: 'truncated', error: `got ${taken.bytes} of ${declared} bytes` };
  }
  return accept(taken, state, opts.maxBytes, { etag: res.headers.get('etag') ?? undefined, lastModified: res.headers.get('last-modified') ?? undefined });
}

async function readLocal(path: string, state: CopyState, opts: FetchOptions): Promise<Fetched> {
  let stamp: string;
  try {
    const st = await stat(path);
    if (!st.isFile()) return { outcome: 'problem', kind: 'vanished', error: `${path} is not a file` };
    if (st.size > opts.maxBytes) return { outcome: 'problem', kind: 'over_cap', error: `${path} is ${st.size} bytes, over the cap of ${opts.maxBytes}` };
    stamp = `${st.size}:${st.mtimeMs}`;
  } catch (e) {
    return { outcome: 'problem', kind: 'vanished', error: `cannot read ${path}: ${describe(e)}` };
  }
  if (opts.haveCopy && state.fileStamp === stamp) return { outcome: 'unchanged', fileStamp: stamp };
  let taken: Taken;
  const stream = createReadStream(path, { highWaterMark: 1 << 20 });
  try {
    taken = await take(stream, opts);
  } catch (e) {
    return { outcome: 'problem', kind: 'fetch_failed', error: `cannot read ${path}: ${describe(e)}` };
  } finally { stream.destroy(); }
  return accept(taken, state, opts.maxBytes, { fileStamp: stamp });
}

interface Taken { parsed: ParsedList; sha256: string; bytes: number }

/** Streams the text into the temporary copy, the parser and a hash at once, up to the cap. */
async function take(body: AsyncIterable<Uint8Array>, opts: FetchOptions): Promise<Taken> {
  const parser = new ListParser({ maxBytes: opts.maxBytes });
  const hash = createHash('sha256');
  const out = await open(opts.tmpPath, 'w');
  let bytes = 0;
  try {
    for await (const chunk of body) {
      const buf = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      bytes += buf.length;
      if (!parser.push(buf.toString('latin1'))) break;
      hash.update(buf);
      await out.write(buf);
    }
  } finally { await out.close(); }
  return { parsed: parser.end(), sha256: hash.digest('hex'), bytes };
}

/** A complete, non-empty list is accepted; anything else is a problem and the old copy stays. */
function accept(t: Taken, state: CopyState, maxBytes: number, validators: { etag?: string; lastModified?: string; fileStamp?: string }): Fetched {
  const p = t.parsed;
  if (p.overCap) return { outcome: 'problem', kind: 'over_cap', error: `the list is over the cap of ${maxBytes} bytes` };
  if (p.v4.n + p.v6.n === 0) {
    const why = p.malformed ? `no valid entry in ${p.malformed} lines (first: ${JSON.stringify(p.malformedSamples[0]?.text ?? '')})` : 'the list is empty';
    return { outcome: 'problem', kind: 'empty', error: why };
  }
  // FireHOL declares its entry count: fewer lines than declared means the file was cut short.
  if (p.header.declaredEntries !== undefined && p.entries < p.header.declaredEntries) {
    return { outcome: 'problem', kind: 'truncated', error: `the header declares ${p.header.declaredEntries} entries, the file holds ${p.entries}` };
  }
  if (state.sha256 === t.sha256) return { outcome: 'unchanged', ...validators };
  return { outcome: 'new', parsed: p, sha256: t.sha256, ...validators };
}

function describe(e: unknown): string {
  const err = e as Error & { cause?: Error & { code?: string } };
  if (err?.name === 'TimeoutError') return 'timed out';
  return err?.cause?.code ?? err?.cause?.message ?? err?.message ?? String(e);
}
