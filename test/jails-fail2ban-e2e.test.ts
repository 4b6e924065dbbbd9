// End to end with the real fail2ban (Debian's package): a fail2ban server of its own (config,
// socket, pid file, database in a temporary directory) watches a log file with the sshd filter
// and our action (contrib/fail2ban/action.d/madoguchi.conf). Failure lines are appended, fail2ban
// bans, the action posts an X-ARF v4 report to the desk's HTTP intake with a reporter's API key,
// and the desk has it: the right address, classified brute-force, under that reporter.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import { forEachStore } from './helpers/stores.js';
import { makeDesk, type TestDesk } from './helpers/desk.js';
import { createApiKey } from '../src/web/auth.js';
import { readRaw } from '../src/intake/raw-store.js';

const ACTION = join(dirname(fileURLToPath(import.meta.url)), '../../contrib/fail2ban/action.d/madoguchi.conf');
const ATTACKER = '203.0.113.77';

function sshdLine(ip: string, port: number): string {
  const d = new Date();
  const mon = d.toLocaleString('en-US', { month: 'short' });
  return `${mon} ${String(d.getDate()).padStart(2, ' ')} ${d.toTimeString().slice(0, 8)} web1 sshd[777]: Failed password for invalid user admin from ${ip} port ${port} ssh2\n`;
}

async function until<T>(get: () => Promise<T | null | undefined>, what: string, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const v = await get();
    if (v) return v;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}`);
}

forEachStore('fail2ban with the madoguchi action', (store) => {
  let t: TestDesk;
  let dir: string;
  let f2b: ChildProcess | null = null;
  let f2bLog = '';

  before(async () => {
    t = await makeDesk(store());
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    dir = mkdtempSync(join(tmpdir(), 'madoguchi-f2b-'));
  });

  after(async () => {
    if (f2b && f2b.exitCode === null && f2b.signalCode === null) {
      // Ask the server to stop through its own socket; if it does not, end the process we started.
      spawnSync('fail2ban-client', ['-c', join(dir, 'conf'), 'stop'], { timeout: 20_000 });
      const exited = await Promise.race([new Promise((r) => f2b!.once('exit', () => r(true))), new Promise((r) => setTimeout(() => r(false), 15_000))]);
      if (!exited) { f2b.kill('SIGKILL'); await new Promise((r) => f2b!.once('exit', r)); }
    }
    await t?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('a ban by fail2ban arrives as a report with the address, brute-force, and the key\'s reporter', async () => {
    const key = await createApiKey(t.desk.db, { name: 'fail2ban at web1', roles: ['reporter'], reporterId: 'web1-f2b' });
    const port = (t.app.server.address() as AddressInfo).port;
    const conf = join(dir, 'conf');
    mkdirSync(join(conf, 'action.d'), { recursive: true });
    cpSync('/etc/fail2ban/filter.d', join(conf, 'filter.d'), { recursive: true });
    cpSync(ACTION, join(conf, 'action.d', 'madoguchi.conf'));
    // The key travels in a header file, as docs/FAIL2BAN.md recommends.
    writeFileSync(join(dir, 'madoguchi.key'), `Authorization: Bearer ${key.key}\n`, { mode: 0o600 });
    const log = join(dir, 'auth.log');
    writeFileSync(log, '');
    writeFileSync(join(conf, 'fail2ban.conf'), [
      '[Definition]', 'loglevel = INFO', `logtarget = ${join(dir, 'fail2ban.log')}`, `socket = ${join(dir, 'f2b.sock')}`,
      `pidfile = ${join(dir, 'f2b.pid')}`, `dbfile = ${join(dir, 'f2b.sqlite3')}`, 'dbpurgeage = 1d', '',
    ].join('\n'));
    writeFileSync(join(conf, 'jail.conf'), [
      '[DEFAULT]', 'backend = polling', 'usedns = no', '',
      '[sshd-e2e]', 'enabled = true', 'filter = sshd', `logpath = ${log}`, 'port = 22', 'maxretry = 3', 'findtime = 600', 'bantime = 600',
      `action = madoguchi[port="%(port)s", madoguchi_url="http://127.0.0.1:${port}", madoguchi_keyfile="${join(dir, 'madoguchi.key')}", reporter_org="Web1 Hosting", reporter_contact="noc@web1.example", reporter_domain="web1.example"]`,
      '',
    ].join('\n'));
    const check = spawnSync('fail2ban-client', ['-c', conf, '-t'], { encoding: 'utf8' });
    assert.equal(check.status, 0, check.stderr + check.stdout);

    f2b = spawn('fail2ban-client', ['-c', conf, '-f', '-x', 'start'], { stdio: ['ignore', 'pipe', 'pipe'] });
    f2b.stdout!.on('data', (d: Buffer) => { f2bLog += d; });
    f2b.stderr!.on('data', (d: Buffer) => { f2bLog += d; });
    const fail2banLog = () => (existsSync(join(dir, 'fail2ban.log')) ? readFileSync(join(dir, 'fail2ban.log'), 'utf8') : '');
    await until(async () => fail2banLog().includes("Jail 'sshd-e2e' started"), `fail2ban to start (${f2bLog})`);

    for (let i = 0; i < 4; i++) appendFileSync(log, sshdLine(ATTACKER, 50000 + i));
    await until(async () => /Ban 203\.0\.113\.77/.test(fail2banLog()), 'the ban');

    // The raw report is stored first and parsed after: wait for the parse.
    const row = await until(async () => (await t.desk.db.query<{ id: string; sha256: string; status: string; parser: string; meta: Record<string, unknown>; channel: string }>(
      "SELECT id, sha256, status, parser, meta, channel FROM reports WHERE meta->>'apiKeyName' = 'fail2ban at web1' AND status <> 'received'")).rows[0], `the report (fail2ban log:\n${fail2banLog()})`);
    assert.equal(row.channel, 'http');
    assert.equal(row.status, 'parsed');
    assert.equal(row.meta.reporterId, 'web1-f2b');
    const ev = await t.desk.db.query<{ source_ip: string; classification_type: string; event: Record<string, unknown> }>(
      'SELECT host(source_ip) AS source_ip, classification_type, event FROM events WHERE report_id = $1', [row.id]);
    assert.equal(ev.rows.length, 1);
    assert.equal(ev.rows[0].source_ip, ATTACKER);
    assert.equal(ev.rows[0].classification_type, 'brute-force');
    assert.equal(ev.rows[0].event['classification.taxonomy'], 'intrusion-attempts');
    assert.equal(ev.rows[0].event['destination.port'], 22);
    // The report as stored: X-ARF v4 with the log lines fail2ban matched as evidence.
    const raw = JSON.parse((await readRaw(t.desk.db, row.sha256)).toString('utf8'));
    assert.deepEqual([raw.xarf_version, raw.category, raw.type, raw.source_identifier], ['4.0.0', 'connection', 'login_attack', ATTACKER]);
    assert.deepEqual(raw.reporter, { org: 'Web1 Hosting', contact: 'noc@web1.example', domain: 'web1.example' });
    const evidence = Buffer.from(raw.evidence[0].payload, 'base64').toString('utf8');
    assert.equal(evidence.match(/Failed password for invalid user admin from 203\.0\.113\.77/g)?.length, 3, evidence);
    assert.doesNotMatch(fail2banLog(), /madoguchi.*(ERROR|returned [1-9])/);
  });
});
