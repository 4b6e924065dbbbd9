// Hostile input: MIME bombs, zip bombs, oversized parts and messages, broken charsets and headers,
// binary garbage, mutated samples. Each ends as a report with a clear reason, never an exception.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { zipSync } from 'fflate';
import { DEFAULT_LIMITS, parseReport, type ParseContext, type ParseLimits } from '../src/parsers/index.js';
import type { Event } from '../src/events/event.js';

const ctx = (limits: Partial<ParseLimits> = {}, extra: Partial<ParseContext> = {}): ParseContext => ({ isOurs: () => false, limits: { ...DEFAULT_LIMITS, ...limits }, ...extra });
const mail = (headers: string, body: string | Buffer) => Buffer.concat([Buffer.from(headers.replace(/\n/g, '\r\n') + '\r\n\r\n'), Buffer.isBuffer(body) ? body : Buffer.from(body)]);

test('deeply nested multiparts are refused as a MIME bomb', async () => {
  let body = 'Attack from 203.0.113.5\r\n';
  for (let i = 0; i < 60; i++) body = `Content-Type: multipart/mixed; boundary="b${i}"\r\n\r\n--b${i}\r\n${body}\r\n--b${i}--\r\n`;
  const r = await parseReport(Buffer.from('From: x@y.example\r\nSubject: deep\r\n' + body), ctx());
  assert.equal(r.rejected, true);
  assert.equal(r.reason, 'mime-depth');
  assert.match(r.error!, /deeper than 12/);
});

test('thousands of parts are refused as a MIME bomb', async () => {
  const parts = Array.from({ length: 5000 }, (_, i) => `--B\r\nContent-Type: text/plain\r\n\r\npart ${i}\r\n`).join('') + '--B--\r\n';
  const r = await parseReport(mail('From: x@y.example\nSubject: wide\nContent-Type: multipart/mixed; boundary=B', parts), ctx());
  assert.equal(r.reason, 'mime-parts');
  assert.match(r.error!, /more than 500 MIME parts/);
});

test('a message over the size limit is refused before parsing', async () => {
  const r = await parseReport(mail('From: x@y.example\nSubject: big', 'x'.repeat(5000)), ctx({ maxMessageBytes: 4096 }));
  assert.deepEqual([r.rejected, r.reason], [true, 'too-large']);
});

test('an oversized attachment is skipped with a warning and the rest is parsed', async () => {
  const big = Buffer.alloc(200_000, 0x41).toString('base64');
  const body = `--B\r\nContent-Type: text/plain\r\n\r\nSpam from 203.0.113.9, see attachment.\r\n--B\r\nContent-Type: application/octet-stream; name="dump.bin"\r\nContent-Transfer-Encoding: base64\r\n\r\n${big}\r\n--B--\r\n`;
  const r = await parseReport(mail('From: x@y.example\nSubject: spam report\nContent-Type: multipart/mixed; boundary=B', body), ctx({ maxPartBytes: 100_000 }));
  assert.equal(r.rejected, false);
  assert.deepEqual(r.events.map((e) => e['source.ip']), ['203.0.113.9']);
  assert.equal(r.warnings.length, 1);
  assert.match(r.warnings[0], /dump\.bin.*exceeds the 100000-byte part limit/);
});

test('a zip bomb is refused by the ratio cap', async () => {
  const zip = zipSync({ '2026-11-25-scan_ntp-x-y.csv': new Uint8Array(20 * 1024 * 1024) }, { level: 9 });
  assert.ok(zip.length < 100_000);
  const r = await parseReport(Buffer.from(zip), ctx(), { filename: 'report.zip' });
  assert.deepEqual([r.rejected, r.reason], [true, 'zip']);
  assert.match(r.error!, /expands more than 200 times/);
});

test('a zip expanding beyond the total cap is refused', async () => {
  const rows = Array.from({ length: 40_000 }, (_, i) => `"2026-11-25 00:00:00","203.0.${(i >> 8) & 255}.${i & 255}",${i}`).join('\n');
  const zip = zipSync({ '2026-11-25-blocklist-x-y.csv': new TextEncoder().encode('"timestamp","ip","asn"\n' + rows) });
  const r = await parseReport(Buffer.from(zip), ctx({ zipMaxBytes: 256 * 1024 }), { filename: 'x.zip' });
  assert.equal(r.reason, 'zip');
  assert.match(r.error!, /beyond 262144 bytes/);
});

test('a zip with too many members is refused', async () => {
  const files: Record<string, Uint8Array> = {};
  for (let i = 0; i < 150; i++) files[`f${i}.csv`] = new TextEncoder().encode('ip\n192.0.2.1\n');
  const r = await parseReport(Buffer.from(zipSync(files)), ctx(), { filename: 'many.zip' });
  assert.equal(r.reason, 'zip');
  assert.match(r.error!, /more than 100 members/);
});

test('binary garbage is refused as malformed, not thrown', async () => {
  let seed = 42;
  const rnd = () => (seed = (seed * 1103515245 + 12345) >>> 0) & 0xff;
  const garbage = Buffer.from(Array.from({ length: 100_000 }, rnd));
  const r = await parseReport(garbage, ctx());
  assert.deepEqual([r.rejected, r.reason], [true, 'malformed']);
});

test('empty input and whitespace are rejected as empty', async () => {
  for (const raw of ['', '   \r\n\r\n  ']) {
    const r = await parseReport(Buffer.from(raw), ctx());
    assert.deepEqual([r.rejected, r.reason], [true, 'empty']);
  }
});

test('unknown and lying charsets still give text', async () => {
  const sjis = Buffer.from([0x83, 0x74, 0x83, 0x42, 0x83, 0x62, 0x83, 0x56, 0x83, 0x93, 0x83, 0x4f]); // フィッシング in Shift_JIS
  const body = Buffer.concat([sjis, Buffer.from(' hxxp://phish[.]example/login\r\n')]);
  for (const cs of ['x-unknown-charset', 'utf-8', '', 'us-ascii']) {
    const r = await parseReport(mail(`From: x@y.example\nSubject: report\nContent-Type: text/plain${cs ? `; charset=${cs}` : ''}`, body), ctx());
    assert.equal(r.rejected, false, cs);
    assert.deepEqual(r.events.map((e) => e['source.url']), ['http://phish.example/login'], cs);
  }
  const r = await parseReport(mail('From: x@y.example\nSubject: report\nContent-Type: text/plain', body), ctx());
  assert.equal(r.events[0]['classification.type'], 'phishing', 'unlabelled Shift_JIS is recognised');
});

test('broken headers and boundaries do not stop the parse', async () => {
  const raw = Buffer.from([
    'From x@y.example Mon Nov 23 00:00:00 2026', // mbox separator
    'From: =?utf-8?B?broken base64?= <x@y.example>',
    'this line is no header at all',
    'Subject: =?unknown-cs?Q?=E3=81=82?= attack from 203.0.113.66',
    'X-Long: ' + 'a'.repeat(100_000),
    'Content-Type: multipart/mixed; boundary="never-closed"',
    '',
    '--never-closed',
    'Content-Type: text/plain; charset="utf-8',
    '',
    'Brute force from 203.0.113.66 port 22',
  ].join('\r\n'));
  const r = await parseReport(raw, ctx());
  assert.equal(r.rejected, false);
  assert.deepEqual(r.events.map((e) => e['source.ip']), ['203.0.113.66']);
  assert.equal(r.events[0]['classification.type'], 'brute-force');
});

test('a CSV with an unclosed quote is refused with the CSV error', async () => {
  const csv = '"timestamp","ip"\n"2026-11-25 00:00:00","203.0.113.1\n' + 'x'.repeat(2 * 1024 * 1024);
  const r = await parseReport(Buffer.from(csv), ctx(), { filename: '2026-11-25-blocklist-x-y.csv' });
  assert.deepEqual([r.rejected, r.reason], [true, 'malformed']);
  assert.match(r.error!, /^CSV 2026-11-25-blocklist-x-y\.csv: /);
});

test('deeply nested JSON and non-event JSON are refused as malformed', async () => {
  for (const raw of ['['.repeat(200_000) + ']'.repeat(200_000), '{"hello": "world"}', '[{"source.ip": {"nested": 1}}]', '{not json']) {
    const r = await parseReport(Buffer.from(raw), ctx());
    assert.deepEqual([r.rejected, r.reason], [true, 'malformed'], raw.slice(0, 20));
  }
});

test('more events than the limit: refused without a sink, streamed in batches with one', async () => {
  const rows = Array.from({ length: 2500 }, (_, i) => `"2026-11-25 00:00:00","198.51.${i >> 8}.${i & 255}"`).join('\n');
  const csv = Buffer.from('"timestamp","ip"\n' + rows);
  const refused = await parseReport(csv, ctx({ maxEvents: 1000 }), { filename: '2026-11-25-blocklist-x-y.csv' });
  assert.equal(refused.reason, 'too-many-events');
  const batches: Event[][] = [];
  const streamed = await parseReport(csv, ctx({ maxEvents: 1000 }, { onEvents: (b) => { batches.push(b); } }), { filename: '2026-11-25-blocklist-x-y.csv' });
  assert.equal(streamed.rejected, false);
  assert.equal(streamed.eventCount, 2500);
  assert.equal(streamed.events.length, 0);
  assert.deepEqual(batches.map((b) => b.length), [1000, 1000, 500]);
  assert.equal(batches[2][499]['source.ip'], '198.51.9.195');
});

test('mutated samples never make the parser throw', async () => {
  const root = fileURLToPath(new URL('../../src/parsers/', import.meta.url));
  const samples: Buffer[] = [];
  for (const m of readdirSync(root)) {
    let files: string[] = [];
    try { files = readdirSync(join(root, m, 'samples')); } catch { continue; }
    for (const f of files) if (!f.endsWith('.expected.json')) samples.push(readFileSync(join(root, m, 'samples', f)));
  }
  let seed = 7;
  const rnd = (n: number) => { seed = (seed * 1103515245 + 12345) >>> 0; return seed % n; };
  let parsed = 0;
  for (let round = 0; round < 400; round++) {
    const s = Buffer.from(samples[rnd(samples.length)]);
    const kind = rnd(4);
    let m: Buffer;
    if (kind === 0) { for (let k = 0; k < 20; k++) s[rnd(s.length)] = rnd(256); m = s; }
    else if (kind === 1) m = s.subarray(0, rnd(s.length));
    else if (kind === 2) { const at = rnd(s.length); m = Buffer.concat([s.subarray(0, at), s.subarray(at, at + rnd(200)), s.subarray(at)]); }
    else m = Buffer.from(s.toString('latin1').replace(/--/g, () => (rnd(3) === 0 ? '' : '--')), 'latin1');
    const r = await parseReport(m, ctx());
    assert.equal(typeof r.rejected, 'boolean');
    assert.ok(Array.isArray(r.events));
    if (r.rejected) assert.ok(r.error && r.reason, 'a rejection carries its reason');
    parsed++;
  }
  assert.equal(parsed, 400);
});

// Each of these shapes took from seconds to minutes of one thread before (found by mutating the
// samples): expressions that search from every position of a long run that never completes
// them. Sizes are such that quadratic work would take many minutes; linear work takes milliseconds.
// The timeout only keeps a regression from hanging the suite.
test('long runs without delimiters in headers and HTML cost linear time', { timeout: 60_000 }, async () => {
  const blanks = ' '.repeat(500_000) + '\t'.repeat(100_000);
  const cases: Array<[string, Buffer]> = [
    ['Date: header of blanks', mail(`From: a@reporter.example\nSubject: scan\nDate: Tue, 24 Nov 2026 09:00:00 +0900${blanks}x`, 'Scan from 203.0.113.7')],
    ['From: header of blanks and no address', mail(`From: "Reporter${blanks}x\nSubject: scan`, 'Scan from 203.0.113.7')],
    ['From: header, a long word without @', mail(`From: ${'a'.repeat(600_000)}\nSubject: scan`, 'Scan from 203.0.113.7')],
    ['HTML of unclosed tags', mail('From: a@reporter.example\nSubject: phish\nContent-Type: text/html', '<a href=x '.repeat(40_000) + '<'.repeat(400_000))],
    ['HTML of unclosed scripts', mail('From: a@reporter.example\nSubject: phish\nContent-Type: text/html', '<script>x'.repeat(200_000) + '<p>http://203.0.113.8/login</p>')],
  ];
  for (const [what, input] of cases) {
    const r = await parseReport(input, ctx());
    assert.equal(typeof r.rejected, 'boolean', what);
  }
});
