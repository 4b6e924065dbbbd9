// CSV feeds (Shadowserver and the like) too large to hold: the raw file is stored in chunks as it
// streams, and its rows become events batch by batch, each batch attributed, committed and
// handed to the sinks before the next is read. Memory stays at a batch, whatever the file's size.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Readable } from 'node:stream';
import { createGzip } from 'node:zlib';
import type { Desk } from '../desk.js';
import { csvEvents, reportTypeOf } from '../parsers/index.js';
import { copyLines, insertEvents, prepareEvent } from './events-store.js';
import { finish, handToSinks, insertReports, sinkContext, type Channel, type IngestResult, type Target } from './ingest.js';
import { CHUNK_SIZE, insertChunks, syncEmbeddedWal } from './raw-store.js';

async function hashFile(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const c of createReadStream(path, { highWaterMark: 1 << 20 })) h.update(c as Buffer);
  return h.digest('hex');
}

/** Gzip output of a stream regrouped into CHUNK_SIZE pieces. */
async function* gzipChunks(source: Readable): AsyncGenerator<Buffer> {
  let pending: Buffer[] = [];
  let size = 0;
  for await (const c of source.pipe(createGzip())) {
    pending.push(c as Buffer);
    size += (c as Buffer).length;
    while (size >= CHUNK_SIZE) {
      const all = Buffer.concat(pending);
      yield all.subarray(0, CHUNK_SIZE);
      pending = [all.subarray(CHUNK_SIZE)];
      size = pending[0].length;
    }
  }
  if (size) yield Buffer.concat(pending);
}

/** Stores a feed file as a report, streaming it in; resolves when committed. */
export async function storeFeedFile(desk: Desk, path: string, channel: Channel = 'file'): Promise<IngestResult> {
  const [sha256, { size }] = await Promise.all([hashFile(path), stat(path)]);
  const started = Date.now();
  const result = await desk.db.transaction(async (tx) => {
    const meta = { filename: basename(path), contentType: 'text/csv', feed: true };
    const [r] = await insertReports(tx, [{ identity: { sha256, messageId: null, bodySha256: null }, size, chunks: [], channel, meta }]);
    if (r.duplicate) return r;
    let seq = 0;
    for await (const chunk of gzipChunks(createReadStream(path, { highWaterMark: 1 << 20 }))) await insertChunks(tx, [{ sha256, chunks: [chunk], firstSeq: seq++ }]);
    return r;
  });
  if (desk.db.kind === 'pglite') await syncEmbeddedWal(desk.dataDir, started);
  return result;
}

/**
 * Turns the rows of a stored feed into events. Batches are pipelined: the next batch is parsed,
 * attributed and made into COPY lines while the previous one is being written.
 */
export async function processFeed(desk: Desk, target: Target, source: Readable, filename: string): Promise<IngestResult> {
  const { reportId } = target;
  if (target.replace) await desk.db.query('DELETE FROM events WHERE report_id = $1', [reportId]);
  const parser = reportTypeOf(filename) ? 'shadowserver' : 'csv';
  const ctx = sinkContext(target, null);
  const received = new Date().toISOString();
  const cases = new Set<string>();
  let count = 0;
  let writing: Promise<void> = Promise.resolve();
  let failure: string | null = null;
  try {
    for await (const batch of csvEvents(source, { filename }, desk.config.intake.batch_events)) {
      const rows = batch.map((e) => prepareEvent(desk, e, reportId, 'report', received));
      const lines = copyLines(rows);
      await writing;
      writing = (async () => {
        const stored = await desk.db.transaction((tx) => insertEvents(tx, rows, lines));
        count += stored.length;
        for (const c of await handToSinks(desk, stored, ctx)) cases.add(c);
      })();
    }
    await writing;
  } catch (e) {
    await writing.catch(() => undefined);
    failure = `feed stopped after ${count} events: ${(e as Error).message}`;
    desk.log.warn({ report: reportId, err: e }, 'feed quarantined');
  }
  const result = await finish(desk, {
    ...target, replace: false, status: failure ? 'quarantined' : 'parsed', parser, reason: failure, parsed: null, rows: [], streamed: count,
  });
  return { ...result, cases: [...cases] };
}

/** `madoguchi ingest big.csv`: store the file, then stream its rows into events. */
export async function ingestFeedFile(desk: Desk, path: string): Promise<IngestResult> {
  const stored = await storeFeedFile(desk, path);
  if (stored.duplicate) return stored;
  return processFeed(desk, { reportId: stored.reportId, channel: 'file', replace: false, reparse: false }, createReadStream(path, { highWaterMark: 1 << 20 }), basename(path));
}
