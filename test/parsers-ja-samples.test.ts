// The shared Japanese report corpus through the real CLI, checked by the project's own tool:
// inventory imported into a scratch data dir, `madoguchi parse --json`, resources and types exact.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BIN } from './helpers/cli.js';

const beside = fileURLToPath(new URL('../../../shared', import.meta.url));
const shared = existsSync(join(beside, 'tools', 'ja_samples.py')) ? beside : '/work/shared';

test('Japanese reports: 6/6 exact resources, 6/6 types', { skip: !existsSync(join(shared, 'tools', 'ja_samples.py')) && 'shared/ not found' }, () => {
  const r = spawnSync('python3', [join(shared, 'tools', 'ja_samples.py'), `${process.execPath} ${BIN}`, join(shared, 'samples', 'ja')], { encoding: 'utf8', timeout: 300_000 });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout.trim().split('\n').pop()!, /^japanese reports: 6\/6 exact resources, 6\/6 types$/);
});
