// Reports from files: single messages (.eml and anything else a parser may know), mbox files
// (streamed, one message at a time), maildirs, and CSV feeds (streamed). Each message goes
// through ingestReport like any other channel; a message over the size limit is refused and
// recorded, never loaded.
import { createReadStream } from 'node:fs';
import { open, readdir, readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { Desk } from '../desk.js';
import { ingestFeedFile } from './feed.js';
import { ingestReport, type IngestResult } from './ingest.js';
import { recordRefusal } from './refusals.js';

export interface FileOutcome {
  file: string;
  /** 1-based position of the message in an mbox. */
  message?: number;
  result?: IngestResult;
  /** Why nothing was stored (refused, unreadable). */
  error?: string;
}

/** Messages ingested at once from one mbox or maildir, so that group commit has company. */
const WINDOW = 32;

export async function* ingestPaths(desk: Desk, paths: string[]): AsyncGenerator<FileOutcome> {
  for (const p of paths) yield* ingestPath(desk, p);
}

async function* ingestPath(desk: Desk, path: string): AsyncGenerator<FileOutcome> {
  let st;
  try { st = await stat(path); } catch (e) { yield { file: path, error: (e as Error).message }; return; }
  if (st.isDirectory()) {
    if (await isMaildir(path)) { yield* inOrder(maildirMessages(desk, path)); return; }
    for (const name of (await readdir(path)).sort()) yield* ingestPath(desk, join(path, name));
    return;
  }
  if (!st.isFile()) return;
  const kind = await sniff(path);
  if (kind === 'feed') yield await settle({ file: path }, () => ingestFeedFile(desk, path));
  else if (kind === 'mbox') yield* inOrder(mboxMessages(desk, path));
  else yield await settle({ file: path }, () => ingestMessageFile(desk, path, st.size));
}

async function settle(o: FileOutcome, fn: () => Promise<IngestResult>): Promise<FileOutcome> {
  try { return { ...o, result: await fn() }; } catch (e) { return { ...o, error: (e as Error).message }; }
}

/** A message being ingested (boxed: an async generator would await a bare promise it yields). */
interface Job { outcome: Promise<FileOutcome> }

/** Yields outcomes in input order while up to WINDOW of them are in flight. */
async function* inOrder(jobs: AsyncIterable<Job>): AsyncGenerator<FileOutcome> {
  const queue: Promise<FileOutcome>[] = [];
  for await (const job of jobs) {
    queue.push(job.outcome);
    if (queue.length >= WINDOW) yield await queue.shift()!;
  }
  while (queue.length) yield await queue.shift()!;
}

async function sniff(path: string): Promise<'feed' | 'mbox' | 'message'> {
  if (/\.csv$/i.test(path)) return 'feed';
  const fh = await open(path, 'r');
  try {
    const { buffer, bytesRead } = await fh.read(Buffer.alloc(5), 0, 5, 0);
    return bytesRead === 5 && buffer.toString('latin1') === 'From ' ? 'mbox' : 'message';
  } finally { await fh.close(); }
}

async function ingestMessageFile(desk: Desk, path: string, size: number): Promise<IngestResult> {
  const max = desk.config.intake.max_report_size;
  if (size > max) throw await refuse(desk, path, size, max);
  return ingestReport(desk, await readFile(path), 'file', { filename: basename(path) });
}

async function refuse(desk: Desk, file: string, size: number, max: number, message?: number): Promise<Error> {
  const reason = `${size} bytes exceed intake.max_report_size (${max})`;
  await recordRefusal(desk, { channel: 'file', reason, size, meta: { file, message } });
  return new Error(reason);
}

async function isMaildir(dir: string): Promise<boolean> {
  const subs = await Promise.all(['cur', 'new', 'tmp'].map((d) => stat(join(dir, d)).then((s) => s.isDirectory(), () => false)));
  return subs.every(Boolean);
}

/** Messages of a maildir (new/ and cur/; tmp/ holds deliveries in progress). The maildir is not changed. */
async function* maildirMessages(desk: Desk, dir: string): AsyncGenerator<Job> {
  for (const sub of ['new', 'cur']) {
    for (const name of (await readdir(join(dir, sub))).sort()) {
      const file = join(dir, sub, name);
      yield { outcome: stat(file).then((st) => settle({ file }, () => ingestMessageFile(desk, file, st.size))) };
    }
  }
}

/** "From sender Tue Nov 24 10:00:00 2026": a separator even where a sloppy writer left no empty line before it. */
const SEPARATOR = /^From \S+ +\S.*\d{4}\s*$/;

/**
 * Splits an mbox as it streams: a message starts at a "From " line at the start of the file or
 * after an empty line, or at any line shaped like a separator. ">From " quoting (mboxrd) is undone.
 * A message past the size limit is counted, not kept.
 */
async function* mboxMessages(desk: Desk, path: string): AsyncGenerator<Job> {
  const max = desk.config.intake.max_report_size;
  let lines: Buffer[] = [];
  let size = 0;
  let index = 0;
  let prevEmpty = true;
  let rest: Buffer = Buffer.alloc(0);
  const take = (): Job | null => {
    if (index === 0) return null;
    const n = index;
    const msgSize = size;
    // The empty line before the next "From " separates messages; it is not part of this one.
    if (lines.length && isBlank(lines[lines.length - 1])) lines.pop();
    const raw = msgSize <= max ? Buffer.concat(lines) : null;
    lines = []; size = 0;
    if (!raw) return { outcome: refuse(desk, path, msgSize, max, n).then((e) => ({ file: path, message: n, error: e.message })) };
    return { outcome: settle({ file: path, message: n }, () => ingestReport(desk, raw, 'file', { filename: basename(path), mboxMessage: n })) };
  };
  const line = (l: Buffer): Job | null => {
    let out: Job | null = null;
    if (l.length >= 5 && l.toString('latin1', 0, 5) === 'From ' && (prevEmpty || SEPARATOR.test(l.toString('latin1', 0, 200)))) {
      out = take();
      index++;
    } else if (index > 0) {
      size += l.length;
      if (size <= max) lines.push(unquote(l));
    }
    prevEmpty = isBlank(l);
    return out;
  };
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
    const buf = rest.length ? Buffer.concat([rest, chunk as Buffer]) : (chunk as Buffer);
    let start = 0;
    for (let nl = buf.indexOf(10, start); nl >= 0; nl = buf.indexOf(10, start)) {
      const out = line(buf.subarray(start, nl + 1));
      if (out) yield out;
      start = nl + 1;
    }
    // A line longer than the limit is dropped as it streams; only its tail waits for a newline.
    rest = Buffer.from(buf.subarray(start));
    if (rest.length > max) { size += rest.length; rest = Buffer.alloc(0); }
  }
  if (rest.length) { const out = line(rest); if (out) yield out; }
  const last = take();
  if (last) yield last;
}

function isBlank(l: Buffer): boolean {
  return l.length === 0 || (l.length === 1 && l[0] === 10) || (l.length === 2 && l[0] === 13 && l[1] === 10);
}

/** mboxrd: ">From ", ">>From " ... lose one ">". */
function unquote(l: Buffer): Buffer {
  if (l[0] !== 0x3e) return l;
  let i = 0;
  while (l[i] === 0x3e) i++;
  return l.toString('latin1', i, i + 5) === 'From ' ? l.subarray(1) : l;
}
