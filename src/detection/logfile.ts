// Reading a log file as lines in batches, with bounded memory whatever the file size:
// UTF-8 with replacement characters for invalid bytes, `\n` or `\r\n` endings, and a cap on the
// length of one line (the rest of an oversized line is dropped and counted).
import { createReadStream } from 'node:fs';

export interface LineBatch { lines: string[]; firstLineNo: number }

export interface ReadStats { lines: number; truncated: number }

/** Longest line kept, in characters; fail2ban has no limit, a desk needs one. */
export const MAX_LINE = 64 * 1024;

export async function* readLogLines(path: string, stats: ReadStats = { lines: 0, truncated: 0 }, batchSize = 8192): AsyncGenerator<LineBatch> {
  const decoder = new TextDecoder('utf-8', { fatal: false });
  let rest = '';
  let dropping = false;
  let batch: string[] = [];
  let first = 1;
  const push = (line: string) => {
    if (line.endsWith('\r')) line = line.slice(0, -1);
    batch.push(line);
    stats.lines++;
  };
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
    const text = rest + decoder.decode(chunk as Buffer, { stream: true });
    let start = 0;
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
      if (dropping) dropping = false;
      else if (nl - start > MAX_LINE) { push(text.slice(start, start + MAX_LINE)); stats.truncated++; }
      else push(text.slice(start, nl));
      start = nl + 1;
    }
    rest = text.slice(start);
    if (rest.length > MAX_LINE) {
      if (!dropping) { push(rest.slice(0, MAX_LINE)); stats.truncated++; }
      dropping = true;
      rest = '';
    }
    if (batch.length >= batchSize) {
      yield { lines: batch, firstLineNo: first };
      first += batch.length;
      batch = [];
    }
  }
  rest += decoder.decode();
  if (rest && !dropping) push(rest);
  if (batch.length) yield { lines: batch, firstLineNo: first };
}
