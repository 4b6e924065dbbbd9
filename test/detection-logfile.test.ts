// The log reader: the same lines as decoding the whole file as UTF-8 at once, whichever way a
// chunk is decoded (ASCII chunks as Latin-1), and a truthful `ascii` flag per batch.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readLogLines } from '../src/detection/logfile.js';
import { NON_ASCII } from '../src/detection/regex.js';

const CHUNK = 1 << 20; // the reader's chunk size

async function check(name: string, bytes: Buffer): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'madoguchi-log-'));
  try {
    const path = join(dir, 'x.log');
    writeFileSync(path, bytes);
    // As fail2ban reads it: a BOM kept, every \r before a line end dropped.
    const want = new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes).split('\n').map((l) => l.replace(/\r+$/, ''));
    if (want[want.length - 1] === '') want.pop();
    const got: string[] = [];
    for await (const b of readLogLines(path, undefined, 1000)) {
      assert.equal(b.firstLineNo, got.length + 1, name);
      if (b.ascii) assert.ok(!b.lines.some((l) => NON_ASCII.test(l)), `${name}: batch at ${b.firstLineNo} flagged ASCII`);
      got.push(...b.lines);
    }
    assert.equal(got.length, want.length, name);
    assert.ok(got.every((l, i) => l === want[i]), `${name}: lines differ`);
    // Kept line ends: the same lines, each followed by one `\n`.
    const kept: string[] = [];
    for await (const b of readLogLines(path, undefined, 1000, null, true)) {
      assert.equal(b.newline, true, name);
      kept.push(...b.lines);
    }
    assert.equal(kept.length, want.length, `${name} (kept line ends)`);
    assert.ok(kept.every((l, i) => l === want[i] + '\n'), `${name}: lines with kept line ends differ`);
  } finally { rmSync(dir, { recursive: true, force: true }); }
}

test('lines read in chunks equal the file decoded at once', async () => {
  const ascii = Buffer.from('Nov 26 00:00:00 h sshd[1]: Failed password for root from 192.0.2.1 port 22 ssh2\r\n'.repeat(30_000));
  await check('ascii', ascii);
  await check('bom', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), ascii]));
  // A multi-byte character cut by the chunk boundary, the next chunk pure ASCII.
  const cut = Buffer.concat([ascii.subarray(0, CHUNK - 10), Buffer.from('é€\n', 'utf8'), ascii.subarray(0, CHUNK)]);
  await check('character across chunks', cut);
  // An incomplete sequence at the boundary, then ASCII: one replacement character.
  const broken = Buffer.concat([ascii.subarray(0, CHUNK - 1), Buffer.from([0xe2]), ascii.subarray(0, CHUNK)]);
  await check('broken sequence at a boundary', broken);
  // A BOM in the middle of the file is a character, not stripped.
  await check('inner bom', Buffer.concat([ascii.subarray(0, CHUNK), Buffer.from('\ufeffx\n', 'utf8'), ascii.subarray(0, 1000)]));
  // A line of non-ASCII text in an otherwise ASCII batch.
  await check('mixed', Buffer.concat([ascii.subarray(0, 5000), Buffer.from('user=jörg\n', 'utf8'), ascii.subarray(0, CHUNK * 2)]));
  // Line ends of both kinds, empty lines, a last line without its line end.
  await check('line ends', Buffer.from('a\n\nb\r\n\r\nc\r\r\n'.repeat(1000) + 'last'));
});
