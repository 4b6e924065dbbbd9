// `madoguchi parse` as a user runs it: JSON lines per file, the inventory from the data dir or
// --inventory, standard input, unreadable files, CSV feeds streamed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCli } from './helpers/cli.js';

const samples = fileURLToPath(new URL('../../src/parsers/', import.meta.url));
const inventory = join(samples, 'samples-inventory.csv');
const phishing = join(samples, 'jpcert/samples/phishing-pgp-iso2022jp.eml');
const lines = (s: string) => s.trim().split('\n').map((l) => JSON.parse(l));

test('parse --json prints one line per file and stores nothing', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mado-parse-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const data = join(dir, 'data');
  const files = [join(samples, 'arf/samples/rfc5965-example.eml'), join(samples, 'reject/samples/bounce-dsn.eml'), join(dir, 'missing.eml')];
  const r = await runCli(['--data-dir', data, 'parse', '--json', ...files]);
  assert.equal(r.code, 1, 'an unreadable file makes the exit code 1');
  const [arf, bounce, missing] = lines(r.stdout);
  assert.equal(arf.file, files[0]);
  assert.deepEqual([arf.rejected, arf.parser, arf.events.length], [false, 'arf', 2]);
  assert.equal(arf.events[0]['source.ip'], '203.0.113.7');
  assert.equal(arf.message_id, 'arf-5965-0001@mbp.example');
  assert.deepEqual([bounce.rejected, bounce.reason], [true, 'bounce']);
  assert.deepEqual([missing.rejected, missing.file], [true, files[2]]);
  assert.match(missing.error, /cannot read/);
  assert.equal(existsSync(data), false, 'a dry run creates no database');
});

test('the inventory in the data dir, or --inventory, picks the reported resources', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mado-parse-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const resources = (out: string) => lines(out)[0].events.map((e: Record<string, string>) => e['source.ip'] ?? e['source.url']).sort();
  const withoutPair = join(dir, 'report.eml');
  // An address far from the URL and without a word about it: only the inventory ties it in.
  writeFileSync(withoutPair, 'From: security@bank-example.jp\nSubject: Phishing site on your network\nDate: Wed, 25 Nov 2026 14:02:00 +0900\n\n'
    + 'Phishing URL:\nhxxps://secure-login[.]example-bank[.]jp/verify/account.php\n\nChecked at 13:40 JST. Address noted:\n\n192.0.2.80\n');
  const bare = await runCli(['--data-dir', join(dir, 'none'), 'parse', '--json', withoutPair]);
  assert.equal(bare.code, 0, bare.stderr);
  assert.deepEqual(resources(bare.stdout), ['https://secure-login.example-bank.jp/verify/account.php']);
  const flag = await runCli(['--data-dir', join(dir, 'none'), 'parse', '--json', '--inventory', inventory, withoutPair]);
  assert.equal(flag.code, 0, flag.stderr);
  assert.deepEqual(resources(flag.stdout), ['192.0.2.80', 'https://secure-login.example-bank.jp/verify/account.php']);
  const data = join(dir, 'data');
  const imp = await runCli(['--data-dir', data, 'inventory', 'import', inventory]);
  assert.equal(imp.code, 0, imp.stderr);
  const stored = await runCli(['--data-dir', data, 'parse', '--json', withoutPair]);
  assert.equal(stored.code, 0, stored.stderr);
  assert.deepEqual(resources(stored.stdout), ['192.0.2.80', 'https://secure-login.example-bank.jp/verify/account.php']);
});

test('parse reads standard input and prints a readable summary without --json', async () => {
  const r = await runCli(['--data-dir', join(tmpdir(), 'mado-parse-none'), 'parse', '-'], { input: readFileSync(phishing) });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^-: jpcert, 1 event, from ww-info@jpcert\.or\.jp, forward consent yes\n  phishing: 192\.0\.2\.80 https:\/\/secure-login\.example-bank\.jp\/verify\/account\.php at 2026-11-25T04:40:00\.000Z\n$/);
});

test('a CSV feed is streamed into one JSON line', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mado-parse-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, '2026-11-25-event4_sinkhole-asia-jp-asn64500.csv');
  const rows = Array.from({ length: 20_000 }, (_, i) => `"2026-11-25 01:02:03","192.0.${i >> 8}.${i & 255}",${1024 + (i % 60000)},"andromeda"`);
  writeFileSync(file, '"timestamp","src_ip","src_port","infection"\n' + rows.join('\n') + '\n');
  const r = await runCli(['--data-dir', join(dir, 'none'), 'parse', '--json', file]);
  assert.equal(r.code, 0, r.stderr);
  const [o] = lines(r.stdout);
  assert.equal(o.events.length, 20_000);
  assert.deepEqual(o.events[19_999], {
    'feed.name': 'event4_sinkhole', 'feed.provider': 'Shadowserver', 'classification.type': 'infected-system', 'classification.taxonomy': 'malicious-code',
    'classification.identifier': 'andromeda', 'time.source': '2026-11-25T01:02:03+00:00', 'source.ip': '192.0.78.31', 'source.port': 1024 + (19_999 % 60000), 'malware.name': 'andromeda',
  });
});
