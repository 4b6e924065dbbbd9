// Reading a log file as lines in batches, with bounded memory whatever the file size:
// UTF-8 with replacement characters for invalid bytes (a BOM kept), `\n` endings with any `\r` before them
// dropped (fail2ban's rstrip('\r\n')), and a cap on the length of one line (the rest of an
// oversized line is dropped and counted).
import { isAscii } from 'node:buffer';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { NON_ASCII } from './regex.js';

/**
 * `ascii`: no line of the batch holds a non-ASCII character. `newline`: every line still ends with
 * its `\n` (readLogLines with keepNewline), not part of the line.
 */
export interface LineBatch { lines: string[]; firstLineNo: number; ascii: boolean; newline: boolean }

/** `unfinished`: a last line without a line end, left unread (readLogLines with wholeLines). */
export interface ReadStats { lines: number; truncated: number; unfinished: number }

/** Bytes read at a time. */
const CHUNK = 1 << 20;

export function newReadStats(): ReadStats { return { lines: 0, truncated: 0, unfinished: 0 }; }

export function addReadStats(a: ReadStats, b: ReadStats): ReadStats {
  return { lines: a.lines + b.lines, truncated: a.truncated + b.truncated, unfinished: a.unfinished + b.unfinished };
}

/** Longest line kept, in characters; fail2ban has no limit, a desk needs one. */
export const MAX_LINE = 64 * 1024;

/**
 * The lines of a file in batches. `range`: only the bytes [start, end), both at line starts
 * (see lineStartAt). `keepNewline`: each line is given with a `\n` after it, mostly a slice of
 * what was read (Filter.processLines' `newline` hint). `wholeLines`: a last line without a line
 * end is not read but counted in `stats.unfinished`, as fail2ban reads a file (FileContainer
 * waits for the line end).
 */
export async function* readLogLines(path: string, stats: ReadStats = newReadStats(), batchSize = 8192, range: { start: number; end: number } | null = null, keepNewline = false, wholeLines = false): AsyncGenerator<LineBatch> {
  // A BOM is a character of the first line, as fail2ban decodes it ('UTF-8', not 'UTF-8-sig').
  const decoder = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });
  let rest = '';
  let dropping = false;
  let batch: string[] = [];
  let batchAscii = true;
  let first = 1;
  const nl = keepNewline ? '\n' : '';
  const push = (line: string) => {
    line = dropCRs(line);
    batch.push(line + nl);
    stats.lines++;
  };
  /** The line text[start, end), whose `\n` is text[end]: kept with it as one slice when asked. */
  const pushEnded = (text: string, start: number, end: number) => {
    if (keepNewline && text.charCodeAt(end - 1) !== 13) { batch.push(text.slice(start, end + 1)); stats.lines++; }
    else push(text.slice(start, end));
  };
  if (range && range.end <= range.start) return;
  /** The lines of text[from...] that end in it; where the unfinished rest starts. */
  const scan = (text: string, from: number): number => {
    let start = from;
    for (let end = text.indexOf('\n', start); end >= 0; end = text.indexOf('\n', start)) {
      if (dropping) dropping = false;
      else if (end - start > MAX_LINE) { push(text.slice(start, start + MAX_LINE)); stats.truncated++; }
      else pushEnded(text, start, end);
      start = end + 1;
    }
    return start;
  };
  // One buffer read into again and again: a fresh one per chunk costs more in page faults (new
  // memory) than the decoding itself. Each chunk is decoded into its own string, not appended
  // to the rest of the previous one (that would copy the whole chunk once more).
  const fh = await open(path, 'r');
  try {
    let pos = range?.start ?? 0;
    const stop = range?.end ?? Infinity;
    const buf = Buffer.allocUnsafeSlow(Math.max(1, Math.min(CHUNK, stop - pos, (await fh.stat()).size - pos)));
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, stop - pos), pos);
      if (bytesRead <= 0) break;
      pos += bytesRead;
      const bytes = buf.subarray(0, bytesRead);
      let head: string, text: string;
      // Pure ASCII bytes read as Latin-1 give the same text, faster; what the decoder still held
      // (an incomplete sequence, which an ASCII byte ends as invalid) is flushed first.
      if (isAscii(bytes)) {
        const held = decoder.decode();
        head = rest + held;
        text = bytes.toString('latin1');
        if (held || NON_ASCII.test(rest)) batchAscii = false;
      } else {
        head = rest;
        text = decoder.decode(bytes, { stream: true });
        batchAscii = false;
      }
      let start = 0;
      if (head) {
        // The line begun in the previous chunk, ended in this one.
        const nl = text.indexOf('\n');
        if (nl < 0) { head += text; start = text.length; }
        else { scan(head + text.slice(0, nl + 1), 0); start = nl + 1; head = ''; }
      }
      start = scan(text, start);
      rest = head + text.slice(start);
      if (rest.length > MAX_LINE) {
        if (!dropping) { push(rest.slice(0, MAX_LINE)); stats.truncated++; }
        dropping = true;
        rest = '';
      }
      if (batch.length >= batchSize) {
        yield { lines: batch, firstLineNo: first, ascii: batchAscii, newline: keepNewline };
        first += batch.length;
        batch = [];
        // What is carried over decides the next batch's flag, with the next chunk.
        batchAscii = true;
      }
    }
  } finally {
    await fh.close();
  }
  rest += decoder.decode();
  if (rest && !dropping) {
    if (wholeLines) stats.unfinished++;
    else push(rest);
  }
  if (batch.length) yield { lines: batch, firstLineNo: first, ascii: batchAscii && !NON_ASCII.test(rest), newline: keepNewline };
}

/** A line without the `\r`s before its line end, as fail2ban's rstrip('\r\n') leaves it. */
export function dropCRs(line: string): string {
  let end = line.length;
  while (end > 0 && line.charCodeAt(end - 1) === 13) end--;
  return end < line.length ? line.slice(0, end) : line;
}

/** The first line start at or after byte `pos` (the file's size when there is none). */
export function lineStartAt(path: string, pos: number): number {
  if (pos <= 0) return 0;
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const buf = Buffer.allocUnsafe(1 << 16);
    for (let at = pos - 1; at < size; at += buf.length) {
      const n = readSync(fd, buf, 0, buf.length, at);
      const nl = buf.subarray(0, n).indexOf(10);
      if (nl >= 0) return at + nl + 1;
      if (n === 0) break;
    }
    return size;
  } finally {
    closeSync(fd);
  }
}
