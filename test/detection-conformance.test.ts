// Conformance with fail2ban: every annotated line of fail2ban's sample logs (Debian's fail2ban
// package) run through `madoguchi regex` by the shared checker, which mirrors fail2ban's own
// samplestestcase.py (option blocks, constraints, journal lines, fail2ban's test time zone).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join, resolve } from 'node:path';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CHECKER = [join(root, '..', 'shared', 'tools', 'fail2ban_samples.py'), '/work/shared/tools/fail2ban_samples.py'].find((p) => existsSync(p));
const F2B = '/usr/lib/python3/dist-packages/fail2ban';

test('every annotated line of fail2ban\'s sample corpus passes', { timeout: 60 * 60 * 1000 }, () => {
  assert.ok(CHECKER, 'fail2ban_samples.py not found beside the repository (../shared/tools) nor in /work/shared/tools');
  assert.ok(existsSync(join(F2B, 'tests', 'files', 'logs')), 'fail2ban is not installed (apt-get install fail2ban)');
  const cli = `${process.execPath} ${join(root, 'bin', 'madoguchi.js')}`;
  const p = spawnSync('python3', [CHECKER!, cli, join(F2B, 'tests', 'files', 'logs'), '/etc/fail2ban/filter.d', join(F2B, 'tests', 'config', 'filter.d')],
    { encoding: 'utf8', maxBuffer: 1 << 26 });
  assert.equal(p.status, 0, p.stderr);
  const lines = p.stdout.trim().split('\n');
  const last = lines[lines.length - 1];
  const m = /^fail2ban corpus: (\d+)\/(\d+) lines pass/.exec(last);
  assert.ok(m, `unexpected checker output: ${last}`);
  const failing = lines.filter((l) => /^\S+\s+(\d+)\/(\d+)/.test(l) && !/^\S+\s+(\d+)\/\1\s/.test(l + ' '));
  assert.ok(Number(m[2]) >= 1000, `only ${m[2]} lines checked`);
  assert.equal(Number(m[1]), Number(m[2]), `failing filters:\n${failing.join('\n')}`);
});
