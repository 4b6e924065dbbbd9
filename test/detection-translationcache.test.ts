// The translation cache of `madoguchi regex`: the same failures with and without it, a changed
// filter file read as changed, a broken or foreign file ignored, a directory others may write
// not used.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFilterDefinition } from '../src/detection/config.js';
import { filterFromDefinition } from '../src/detection/filter.js';
import { translationCount } from '../src/detection/pyregex.js';
import { TranslationCache } from '../src/detection/translationcache.js';

const cli = new URL('../../bin/madoguchi.js', import.meta.url).pathname;
const NOW = 1124013600;

function setup(failregex: string): { dir: string; filter: string; log: string; env: NodeJS.ProcessEnv; cacheDir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'madoguchi-tcache-'));
  const filter = join(dir, 'test.conf');
  writeFileSync(filter, `[Definition]\nfailregex = ${failregex}\n`);
  const log = join(dir, 'x.log');
  // A non-ASCII line: the Unicode variant, made on first use when the translation came from the cache.
  writeFileSync(log, [
    'Aug 14 11:58:48 h app: fail from 192.0.2.1',
    'Aug 14 11:58:49 h app: deny from 192.0.2.2',
    'Aug 14 11:58:50 h app: fail from 192.0.2.3 für jörg',
    'Aug 14 11:58:51 h app: deny from 198.51.100.4 für jörg',
  ].join('\n') + '\n');
  const tmp = join(dir, 'tmp');
  mkdirSync(tmp);
  // os.tmpdir() of the child: the cache directory is made under it.
  return { dir, filter, log, env: { ...process.env, TMPDIR: tmp, TZ: 'UTC' }, cacheDir: join(tmp, `madoguchi-translations-${process.getuid!()}`) };
}

function regex(s: { filter: string; log: string; env: NodeJS.ProcessEnv }, ...extra: string[]): string[] {
  const p = spawnSync(process.execPath, [cli, 'regex', '--json', '--now', String(NOW), ...extra, s.log, s.filter], { encoding: 'utf8', env: s.env });
  assert.equal(p.status, 0, p.stderr);
  return p.stdout.trim().split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { fid: string }).fid);
}

test('a cached run gives the failures of an uncached one; a changed filter file is translated again', () => {
  const s = setup('fail from <HOST>( f\\w+ \\w+)?$');
  try {
    const want = ['192.0.2.1', '192.0.2.3'];
    assert.deepEqual(regex(s, '--no-cache'), want);
    assert.throws(() => statSync(s.cacheDir), /ENOENT/, '--no-cache writes nothing');
    assert.deepEqual(regex(s), want); // cold: translated, written
    const files = readdirSync(s.cacheDir);
    assert.equal(files.length, 1);
    assert.equal(statSync(s.cacheDir).mode & 0o777, 0o700);
    const written = statSync(join(s.cacheDir, files[0])).mtimeMs;
    assert.deepEqual(regex(s), want); // warm: read, nothing new to write
    assert.equal(statSync(join(s.cacheDir, files[0])).mtimeMs, written);
    // The filter file changes: another definition, another file; the new expression runs.
    writeFileSync(s.filter, '[Definition]\nfailregex = deny from <HOST>( f\\w+ \\w+)?$\n');
    assert.deepEqual(regex(s), ['192.0.2.2', '198.51.100.4']);
    assert.equal(readdirSync(s.cacheDir).length, 2);
    assert.deepEqual(regex(s), ['192.0.2.2', '198.51.100.4']);
  } finally { rmSync(s.dir, { recursive: true, force: true }); }
});

test('translations written by one process are read by the next', () => {
  const s = setup('fail from <HOST> only-in-this-test-[0-9]{3}$');
  try {
    regex(s);
    const def = readFilterDefinition(s.filter);
    const cache = new TranslationCache(s.cacheDir, def);
    assert.equal(cache.open(), true);
    const before = translationCount();
    const f = filterFromDefinition(def, { now: () => NOW, translationCache: s.cacheDir });
    assert.equal(translationCount(), before, 'nothing translated again');
    assert.equal(f.processLines(['Aug 14 11:58:48 h app: fail from 192.0.2.1 only-in-this-test-123'], 1).length, 1);
    // Its Unicode variant, made now for the first time in this process.
    assert.equal(f.processLines(['Aug 14 11:58:49 h jörg: fail from 192.0.2.2 only-in-this-test-456'], 2).length, 1);
    assert.equal(f.processLines(['Aug 14 11:58:50 h jörg: fail from 192.0.2.3 only-in-this-test-é56'], 3).length, 0);
  } finally { rmSync(s.dir, { recursive: true, force: true }); }
});

test('a broken or foreign cache file is ignored and written again', () => {
  const s = setup('fail from <HOST>( f\\w+ \\w+)?$');
  try {
    regex(s);
    const file = join(s.cacheDir, readdirSync(s.cacheDir)[0]);
    writeFileSync(file, '{"format": 1, "key": "trunc');
    assert.deepEqual(regex(s), ['192.0.2.1', '192.0.2.3']);
    const stored = JSON.parse(readFileSync(file, 'utf8')) as { key: string; entries: unknown[] };
    assert.ok(stored.entries.length > 0, 'written again');
    // Entries stored under another key (another translator, Node or definition) are not used.
    writeFileSync(file, JSON.stringify({ ...stored, key: stored.key + 'x', entries: [] }));
    const def = readFilterDefinition(s.filter);
    assert.equal(new TranslationCache(s.cacheDir, def).open(), false);
  } finally { rmSync(s.dir, { recursive: true, force: true }); }
});

test('a cache directory others may write to is not used', () => {
  const s = setup('fail from <HOST>$');
  try {
    mkdirSync(s.cacheDir, { recursive: true });
    chmodSync(s.cacheDir, 0o777);
    assert.deepEqual(regex(s), ['192.0.2.1']);
    assert.deepEqual(readdirSync(s.cacheDir), []);
    assert.equal(new TranslationCache(s.cacheDir, readFilterDefinition(s.filter)).open(), false);
  } finally { rmSync(s.dir, { recursive: true, force: true }); }
});
