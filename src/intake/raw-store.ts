// The raw report store: every report's bytes exactly as received, content-addressed by SHA-256,
// gzip-compressed, in chunks in the database (report_blobs). See docs/INTAKE.md for why the
// database and not files.
import { createHash } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readdirSync, statSync } from 'node:fs';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createGunzip, gunzip, gunzipSync, gzip, gzipSync } from 'node:zlib';
import { Readable } from 'node:stream';
import type { Db } from '../store/db.js';

/** Compressed bytes per report_blobs row: large enough to be cheap, small enough to stream. */
export const CHUNK_SIZE = 1 << 20;

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

export function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Below this, compressing in place costs less than handing the work to the libuv pool. */
const SYNC_GZIP_MAX = 64 * 1024;

/** Compresses (large input off the main thread, on the libuv pool) and cuts the result into chunks. */
export async function compressRaw(raw: Buffer): Promise<Buffer[]> {
  // In place, on the thread that answers, level 1: on the parsers' 43 sample mails it took 22% less
  // time than level 6 for 1.2% more bytes (a 6 KB fail2ban mail: 40% less, 2.5% more). Through the
  // pool a small mail costs more main-thread time than compressing it here. Large input: level 6, off the thread.
  return splitChunks(raw.length <= SYNC_GZIP_MAX ? gzipSync(raw, { level: 1 }) : await gzipAsync(raw));
}

export function splitChunks(buf: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let o = 0; o < buf.length; o += CHUNK_SIZE) out.push(buf.subarray(o, Math.min(buf.length, o + CHUNK_SIZE)));
  return out.length ? out : [buf];
}

/** Inserts the chunks of several reports in one statement (chunk numbers start at firstSeq). */
export async function insertChunks(tx: Db, blobs: { sha256: string; chunks: Buffer[]; firstSeq?: number }[]): Promise<void> {
  const params: unknown[] = [];
  const values: string[] = [];
  for (const b of blobs) {
    b.chunks.forEach((c, i) => {
      params.push(b.sha256, (b.firstSeq ?? 0) + i, c);
      values.push(`($${params.length - 2}, $${params.length - 1}, $${params.length})`);
    });
  }
  if (values.length) await tx.query(`INSERT INTO report_blobs (sha256, seq, data) VALUES ${values.join(', ')} ON CONFLICT DO NOTHING`, params);
}

/**
 * The raw bytes of a stored report. maxSize guards against inflating more than the caller is
 * prepared to hold (a report stored by an older, more permissive configuration).
 */
export async function readRaw(db: Db, hash: string, maxSize = 1 << 30): Promise<Buffer> {
  const r = await db.query<{ data: Uint8Array }>('SELECT data FROM report_blobs WHERE sha256 = $1 ORDER BY seq', [hash]);
  if (!r.rows.length) throw new Error(`no raw bytes stored for ${hash}`);
  return inflateRaw(Buffer.concat(r.rows.map((x) => Buffer.from(x.data.buffer, x.data.byteOffset, x.data.byteLength))), maxSize);
}

/**
 * SQL for a stored report's chunks joined in order (its gzip bytes, null if none), given the SQL
 * naming its hash: what a query reading reports to parse whole takes along.
 */
export const joinedChunks = (hash: string) => `(SELECT string_agg(data, ''::bytea ORDER BY seq) FROM report_blobs WHERE sha256 = ${hash})`;

/** A report's bytes from its chunks joined; small reports (by `size`, the report's) in place, like compressRaw. */
export async function inflateRaw(gz: Uint8Array, maxSize = 1 << 30, size = maxSize): Promise<Buffer> {
  const buf = Buffer.from(gz.buffer, gz.byteOffset, gz.byteLength);
  return size <= SYNC_GZIP_MAX ? gunzipSync(buf, { maxOutputLength: maxSize }) : gunzipAsync(buf, { maxOutputLength: maxSize });
}

/** The raw bytes of a stored report as a stream, one chunk in memory at a time. */
export function streamRaw(db: Db, hash: string): Readable {
  let seq = 0;
  const chunks = new Readable({
    async read() {
      try {
        const r = await db.query<{ data: Uint8Array }>('SELECT data FROM report_blobs WHERE sha256 = $1 AND seq = $2', [hash, seq++]);
        this.push(r.rows.length ? Buffer.from(r.rows[0].data) : null);
      } catch (e) { this.destroy(e as Error); }
    },
  });
  const out = chunks.pipe(createGunzip());
  chunks.on('error', (e) => out.destroy(e));
  return out;
}

/**
 * The embedded database runs with fsync off (its WASM file system has no fsync): a commit reaches
 * the operating system, which survives a crash of the process but not of the machine. After a
 * commit that acknowledges reports we flush the write-ahead log segments written since ourselves.
 * A helper thread does it with plain system calls: one message each way per commit instead of a
 * chain of asynchronous file operations (directory, stat, open, fsync, close per segment), which
 * took about a twelfth of the main thread's time at full HTTP intake (bench/intake-http.ts).
 */
export function syncEmbeddedWal(dataDir: string, since: number): Promise<void> {
  return walFlusher().flush(join(dataDir, 'pg', 'pg_wal'), since);
}

/** Flushes the WAL segments of `dir` modified since `since` (epoch ms); a missing directory has none. */
function flushWal(dir: string, since: number): void {
  let names: string[];
  try { names = readdirSync(dir); } catch { return; }
  for (const name of names) {
    if (!/^[0-9A-F]{24}$/.test(name)) continue;
    const p = join(dir, name);
    if (statSync(p).mtimeMs + 1000 < since) continue;
    const fd = openSync(p, 'r+');
    try { fsyncSync(fd); } finally { closeSync(fd); }
  }
}

interface FlushRequest { id: number; dir: string; since: number }
interface FlushAnswer { id: number; error?: string }

class WalFlusher {
  private readonly thread = new Worker(new URL(import.meta.url), { workerData: { madoguchiWalFlusher: true } });
  private readonly pending = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  private next = 0;

  constructor() {
    this.thread.unref();
    this.thread.on('message', (a: FlushAnswer) => {
      const p = this.pending.get(a.id);
      this.pending.delete(a.id);
      if (!this.pending.size) this.thread.unref();
      if (a.error === undefined) p?.resolve(); else p?.reject(new Error(`flushing the write-ahead log: ${a.error}`));
    });
    const fail = (e: Error) => {
      if (flusher === this) flusher = null; // the next flush starts another thread
      for (const p of this.pending.values()) p.reject(e);
      this.pending.clear();
    };
    this.thread.on('error', fail);
    this.thread.on('exit', (code) => fail(new Error(`the WAL flusher thread exited (${code})`)));
  }

  flush(dir: string, since: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const id = this.next++;
      this.pending.set(id, { resolve, reject });
      // Held while a flush is pending, so that the process waits for it; idle, it keeps nothing alive.
      this.thread.ref();
      this.thread.postMessage({ id, dir, since } satisfies FlushRequest);
    });
  }
}

let flusher: WalFlusher | null = null;

function walFlusher(): WalFlusher {
  return flusher ??= new WalFlusher();
}

if (!isMainThread && (workerData as { madoguchiWalFlusher?: boolean } | null)?.madoguchiWalFlusher) {
  parentPort!.on('message', ({ id, dir, since }: FlushRequest) => {
    try {
      flushWal(dir, since);
      parentPort!.postMessage({ id } satisfies FlushAnswer);
    } catch (e) {
      parentPort!.postMessage({ id, error: (e as Error).message } satisfies FlushAnswer);
    }
  });
}
