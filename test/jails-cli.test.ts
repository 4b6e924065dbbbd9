// The jail commands as an operator runs them: `jails list`, `jails run` in the foreground (stopped
// with SIGTERM), `bans export` in each format, `bans lift`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { forEachStore } from './helpers/stores.js';
import { BIN, runCli } from './helpers/cli.js';

function sshdLine(ip: string): string {
  const d = new Date();
  return `${d.toLocaleString('en-US', { month: 'short' })} ${String(d.getDate()).padStart(2, ' ')} ${d.toTimeString().slice(0, 8)} web1 sshd[1]: Failed password for root from ${ip} port 2222 ssh2\n`;
}

forEachStore('jail commands', (store) => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  let args: string[];
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'madoguchi-jails-cli-'));
    writeFileSync(join(dir, 'auth.log'), '');
    writeFileSync(join(dir, 'madoguchi.yaml'), [
      'detection:',
      `  ipset_file: ${join(dir, 'bans.ipset')}`,
      '  set_name: f2b',
      '  jails:',
      '    - name: sshd',
      `      logpath: ${join(dir, 'auth.log')}`,
      '      maxretry: 2',
      '      bantime: 1d',
      '      ignoreip: 192.0.2.0/24',
      '    - name: off',
      `      logpath: ${join(dir, 'none.log')}`,
      '      enabled: false',
      '',
    ].join('\n'));
    const c = store().cli();
    env = { ...c.env, MADOGUCHI_CONFIG: join(dir, 'madoguchi.yaml') };
    args = c.args;
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('list, run, export, lift', async () => {
    const list = await runCli([...args, 'jails', 'list'], { env });
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /^ {2}sshd: \/etc\/fail2ban\/filter\.d\/sshd\.conf on .*auth\.log; maxretry 2 in 600 s, ban 86400 s\n$/);
    const all = await runCli([...args, 'jails', 'list', '--all', '--json'], { env });
    assert.equal(all.code, 0, all.stderr);
    assert.deepEqual(all.stdout.trim().split('\n').map((l) => JSON.parse(l).name), ['sshd', 'off']);

    const run = spawn(process.execPath, [BIN, ...args, 'jails', 'run'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    run.stderr.on('data', (d) => { stderr += d; });
    const exited = new Promise<number | null>((r) => run.once('close', r));
    try {
      // Opening the embedded database can take long on a busy machine.
      for (let i = 0; i < 1200 && !stderr.includes('jails running'); i++) await new Promise((r) => setTimeout(r, 100));
      assert.match(stderr, /1 jails running/);
      appendFileSync(join(dir, 'auth.log'), sshdLine('203.0.113.20') + sshdLine('192.0.2.9') + sshdLine('203.0.113.20') + sshdLine('192.0.2.9'));
      const file = join(dir, 'bans.ipset');
      for (let i = 0; i < 200 && !(existsSync(file) && readFileSync(file, 'utf8').includes('203.0.113.20')); i++) await new Promise((r) => setTimeout(r, 100));
      assert.match(readFileSync(file, 'utf8'), /^add f2b4-new 203\.0\.113\.20 timeout 86\d{3}$/m, stderr);
    } finally {
      run.kill('SIGTERM');
    }
    assert.equal(await exited, 0, stderr);
    assert.match(stderr, /sshd: 4 lines, 4 failures, 1 bans, 2 ignored/);

    const nft = await runCli([...args, 'bans', 'export', '--format', 'nftables'], { env });
    assert.equal(nft.code, 0, nft.stderr);
    assert.match(nft.stdout, /add element inet madoguchi f2b4 \{ 203\.0\.113\.20 timeout \d+s \}/);
    const out = join(dir, 'list.txt');
    assert.equal((await runCli([...args, 'bans', 'export', '--format', 'plain', '--output', out], { env })).code, 0);
    assert.equal(readFileSync(out, 'utf8'), '203.0.113.20\n');
    const bad = await runCli([...args, 'bans', 'export', '--format', 'pf'], { env });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--format must be one of nftables, ipset, plain, json/);

    assert.equal((await runCli([...args, 'bans', 'lift', 'not-an-ip'], { env })).code, 2);
    const lift = await runCli([...args, 'bans', 'lift', '203.0.113.20'], { env });
    assert.equal(lift.code, 0, lift.stderr);
    assert.match(lift.stderr, /1 ban lifted/);
    assert.equal((await runCli([...args, 'bans', 'export', '--format', 'json'], { env })).stdout, '[]\n');
  });

  test('a configuration mistake is named and nothing runs', async () => {
    writeFileSync(join(dir, 'broken.yaml'), `detection:\n  jails:\n    - name: sshd\n      logpath: /x\n      findtime: soon\n`);
    const r = await runCli([...args, 'jails', 'run'], { env: { ...env, MADOGUCHI_CONFIG: join(dir, 'broken.yaml') } });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /jail sshd: findtime: not a time: 'soon'/);
  });
});
