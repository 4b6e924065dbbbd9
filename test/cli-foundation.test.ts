import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { forEachStore } from './helpers/stores.js';
import { spawn } from 'node:child_process';
import { BIN, runCli } from './helpers/cli.js';
import { commandModules, loadCommands } from '../src/cli/commands/index.js';

const INVENTORY = join(mkdtempSync(join(tmpdir(), 'cli-')), 'inventory.csv');
writeFileSync(INVENTORY, 'customer_id,customer_name,customer_email,language,brand,service_id,service_type,resource,valid_from,valid_to\n' +
  'c100,株式会社サンプル,abuse@sample.example,ja,main,vps-100,vps,203.0.113.0/24,2015-01-01,\n' +
  'c300,合同会社クラウド,ops@cloud.example,ja,cloud,iaas-300,iaas,2001:db8:1234::/48,2018-01-01,\n' +
  'c400,ショップ運営者,owner@shop.example,ja,main,sh-400,shared,shop-example.jp,2019-01-01,\n' +
  'c500,Old Holder,old@old.example,en,main,vps-500,vps,192.0.2.0/28,2016-01-01,2022-12-31\n');

test('the command registry names exactly the commands its modules export', async () => {
  for (const m of commandModules) {
    const names = (await loadCommands(m)).map((c) => c.name).sort();
    assert.deepEqual(names, [...m.names].sort());
  }
});

test('--help lists the commands; --version prints the version', async () => {
  const h = await runCli(['--help']);
  assert.equal(h.code, 0);
  for (const c of ['serve', 'inventory import', 'attribute', 'demo']) assert.match(h.stdout, new RegExp(`\\n  ${c} `));
  const v = await runCli(['--version']);
  assert.match(v.stdout, /^madoguchi \d+\.\d+\.\d+\n$/);
  const unknown = await runCli(['frobnicate']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown command 'frobnicate'/);
  const ch = await runCli(['attribute', '--help']);
  assert.match(ch.stdout, /--stdin/);
});

test('a DATABASE_URL that refuses gives a clear error and exit 1', { timeout: 30_000 }, async () => {
  const r = await runCli(['attribute', '192.0.2.1'], { env: { ...process.env, DATABASE_URL: 'postgres://nobody@127.0.0.1:9/none' } });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /cannot reach the database at postgres:\/\/nobody@127\.0\.0\.1:9/);
});

forEachStore('cli inventory and attribute', (store) => {
  test('import, then attribute resources given as arguments and on stdin', { timeout: 300_000 }, async () => {
    const { args, env } = store().cli();
    const imp = await runCli([...args, 'inventory', 'import', INVENTORY], { env });
    assert.equal(imp.code, 0, imp.stderr);
    assert.match(imp.stdout, /4 row\(s\) read/);
    const again = await runCli([...args, 'inventory', 'import', INVENTORY], { env });
    assert.match(again.stdout, /0 change\(s\)/);

    const r = await runCli([...args, 'attribute', '--json', '203.0.113.77', 'https://www.shop-example.jp/login', '198.51.100.1'], { env });
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(lines.map((l) => [l.input, l.customer_id, l.service_id, l.service_type, l.brand]), [
      ['203.0.113.77', 'c100', 'vps-100', 'vps', 'main'],
      ['https://www.shop-example.jp/login', 'c400', 'sh-400', 'shared', 'main'],
      ['198.51.100.1', null, null, null, null],
    ]);

    const stdin = '192.0.2.3\t2020-06-01T00:00:00Z\n192.0.2.3\n2001:db8:1234:5::9\r\nnot a thing\n192.0.2.3\tnot-a-time\n';
    const s = await runCli([...args, 'attribute', '--json', '--stdin'], { env, input: stdin });
    const got = s.stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(got.length, 5, 'one object per input line');
    assert.deepEqual(got.map((g) => g.customer_id), ['c500', null, 'c300', null, null]);
    assert.equal(got[1].input, '192.0.2.3');

    const at = await runCli([...args, 'attribute', '--json', '--at', '2021-01-01T00:00:00Z', '192.0.2.3'], { env });
    assert.equal(JSON.parse(at.stdout).customer_id, 'c500');

    // A reader that stops early (`| head`) ends the command quietly, and a slow one holds it back.
    const many = '203.0.113.77\n'.repeat(300_000);
    const child = spawn(process.execPath, [BIN, ...args, 'attribute', '--json', '--stdin'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let errText = '';
    child.stderr.on('data', (d) => { errText += d; });
    child.stdin.on('error', () => undefined);
    child.stdin.end(many);
    const first = await new Promise<string>((resolve) => child.stdout.once('data', (d) => resolve(String(d))));
    assert.match(first, /^\{"input":"203\.0\.113\.77","customer_id":"c100"/);
    child.stdout.destroy();
    const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    assert.equal(code, 0, errText);
    assert.doesNotMatch(errText, /EPIPE|MaxListeners/);

    const bad = await runCli([...args, 'inventory', 'import', INVENTORY + '.missing'], { env });
    assert.equal(bad.code, 2);
  });
});
