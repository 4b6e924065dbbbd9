// `madoguchi regex` counting a large log in parts (worker threads) gives the summary of one
// sequential run: when each part's warm-up rebuilt the state, and when it could not (an
// <F-MLFID> merge reaching back past the warm-up, a date format that changes inside a part),
// where the part is counted again from the true state.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { syntheticAuthLog } from '../bench/detection-log.js';

const NOW = 1764115200;
const cli = new URL('../../bin/madoguchi.js', import.meta.url).pathname;

/** The summary without what varies from run to run (times) or says how it was counted. */
function summary(log: string, filter: string, threads: number): { text: string; how: string } {
  // Parts of 4 MiB: the files here are small enough to generate quickly.
  const p = spawnSync(process.execPath, [cli, 'regex', '--now', String(NOW), '--threads', String(threads), '--part-mb', '4', log, filter], { encoding: 'utf8', maxBuffer: 1 << 24 });
  assert.equal(p.status, 0, p.stderr);
  const lines = p.stdout.split('\n');
  return {
    text: lines.filter((l) => !/^\[processed in|^Lines over the time budget|^Counted in/.test(l)).join('\n'),
    how: lines.find((l) => l.startsWith('Counted in')) ?? '',
  };
}

function withDir(fn: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'madoguchi-parts-'));
  try { fn(dir); } finally { rmSync(dir, { recursive: true, force: true }); }
}

test('sshd over a busy auth.log: the parts give the sequential counts, no part counted again', () => {
  withDir((dir) => {
    const log = join(dir, 'auth.log');
    writeFileSync(log, syntheticAuthLog(120_000)); // ~13 MB: three parts
    const one = summary(log, '/etc/fail2ban/filter.d/sshd.conf', 1);
    const three = summary(log, '/etc/fail2ban/filter.d/sshd.conf', 3);
    assert.equal(one.how, '');
    assert.match(three.how, /^Counted in 3 parts .* 0 recounted/);
    assert.match(one.text, /Failures: [1-9]\d{3,}/);
    assert.equal(three.text, one.text);
  });
});

test('a merge that reaches back past the warm-up: the part is counted again, counts as sequential', () => {
  withDir((dir) => {
    const filter = join(dir, 'merge.conf');
    writeFileSync(filter, `[Definition]
prefregex = ^<F-MLFID>s\\[\\d+\\]</F-MLFID>: <F-CONTENT>.+</F-CONTENT>$
failregex = ^<F-NOFAIL>hello from <HOST></F-NOFAIL>$
            ^bad login$
datepattern = {NONE}
`);
    const log = join(dir, 'x.log');
    // The address comes on the first line; the failure that needs it is the last one.
    writeFileSync(log, 's[7]: hello from 192.0.2.1\n' + 'noise line of no interest\n'.repeat(400_000) + 's[7]: bad login\n');
    const one = summary(log, filter, 1);
    const two = summary(log, filter, 2);
    assert.match(one.text, /Failures: 1\n/);
    assert.equal(two.text, one.text);
    assert.match(two.how, /^Counted in 2 parts .* 1 recounted/);
  });
});

test('a date format that changes inside a part: counted again, counts as sequential', () => {
  withDir((dir) => {
    const filter = join(dir, 'dates.conf');
    writeFileSync(filter, `[Definition]
failregex = ^\\s*fail from <HOST>$
`);
    const log = join(dir, 'x.log');
    const a = 'Nov 26 00:00:00 fail from 192.0.2.1\nNov 26 00:00:00 other text\n'.repeat(130_000);
    const b = '2026-11-26 00:00:01 fail from 192.0.2.2\n2026-11-26 00:00:01 other text\n'.repeat(10_000);
    writeFileSync(log, a + b);
    const one = summary(log, filter, 1);
    const two = summary(log, filter, 2);
    assert.match(one.text, /Failures: 140000\n/);
    assert.equal(two.text, one.text);
    assert.match(two.how, /^Counted in 2 parts .* 1 recounted/);
  });
});
