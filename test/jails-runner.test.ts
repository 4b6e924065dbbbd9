// The jail runner end to end on both stores: sshd log lines appended to a real file (and written
// into a real journal file) go through fail2ban's sshd filter; an outside attacker is banned and
// shows up in the nftables and ipset files (loaded into a real kernel set in a private network
// namespace) and in GET /api/v1/bans; one of our own customers' addresses becomes a desk event.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { forEachStore } from './helpers/stores.js';
import { makeDesk, type TestDesk } from './helpers/desk.js';
import { importInventory, rowsFromText } from '../src/inventory/import.js';
import { jailsFromYaml } from '../src/detection/jails/config.js';
import { JailRunner } from '../src/detection/jails/runner.js';
import { listBans, activeBans } from '../src/detection/jails/banstore.js';
import { jailService } from '../src/detection/jails/service.js';

const INVENTORY = `customer_id,customer_name,customer_email,language,brand,service_id,service_type,resource,valid_from,valid_to
c1,Example KK,ops@c1.example,ja,sakura,vps-1,vps,198.51.100.0/24,2020-01-01,
`;

/** A syslog line as sshd writes it, dated now in the process's zone. */
function sshdLine(ip: string, user = 'root'): string {
  const d = new Date();
  const mon = d.toLocaleString('en-US', { month: 'short' });
  const hms = d.toTimeString().slice(0, 8);
  return `${mon} ${String(d.getDate()).padStart(2, ' ')} ${hms} web1 sshd[4242]: Failed password for ${user} from ${ip} port 52222 ssh2\n`;
}

async function until(cond: () => Promise<boolean> | boolean, what: string): Promise<void> {
  for (let i = 0; i < 2400; i++) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  assert.fail(`timed out waiting for ${what}`);
}

function inNetns(script: string): string {
  const r = spawnSync('unshare', ['-n', 'sh', '-c', script], { encoding: 'utf8' });
  assert.equal(r.status, 0, `${script}: ${r.stderr}`);
  return r.stdout;
}

forEachStore('jail runner', (store) => {
  let t: TestDesk;
  let dir: string;
  const jailYaml = (extra: Record<string, unknown> = {}) => jailsFromYaml([{
    name: 'sshd', filter: 'sshd', logpath: join(dir, 'auth.log'), maxretry: 3, findtime: '10m', bantime: '1h', ignoreself: false, port: 22, ...extra,
  }], '/etc/fail2ban');
  const runnerFor = (jails = jailYaml()) => new JailRunner(t.desk, jails, {
    fail2banDir: '/etc/fail2ban', nftablesFile: join(dir, 'bans.nft'), ipsetFile: join(dir, 'bans.ipset'), setName: 'mdg', pollMs: 50,
  });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'madoguchi-runner-'));
    t = await makeDesk(store());
    const r = await importInventory(t.desk.db, rowsFromText(INVENTORY, 'csv'), { timezone: 'Asia/Tokyo' });
    assert.ok(r.ok, JSON.stringify(r.errors));
    await t.desk.attribution.refresh();
  });
  after(async () => { await t?.close(); rmSync(dir, { recursive: true, force: true }); });

  test('outside attackers are banned and exported; our own address raises an event', async () => {
    const log = join(dir, 'auth.log');
    writeFileSync(log, sshdLine('203.0.113.99').repeat(5));
    const runner = runnerFor();
    await runner.start();
    try {
      for (let i = 0; i < 3; i++) appendFileSync(log, sshdLine('203.0.113.5', 'admin') + sshdLine('198.51.100.20') + (i < 2 ? sshdLine('203.0.113.6') : ''));
      await until(async () => { await runner.settled(); return (await listBans(t.desk.db, {})).length === 2; }, 'two ban decisions');
      await runner.settled();

      const [st] = runner.status();
      assert.equal(st.lines, 8, 'the lines present at start are not read');
      assert.equal(st.bans, 2);
      const records = await listBans(t.desk.db, {});
      const outside = records.find((b) => b.ip === '203.0.113.5')!;
      assert.equal(outside.own, false);
      assert.equal(outside.bantime, 3600);
      assert.equal(outside.failures, 3);
      const own = records.find((b) => b.ip === '198.51.100.20')!;
      assert.equal(own.own, true);
      assert.equal(own.customer_id, 'c1');
      assert.ok(own.event_id);

      const ev = await t.desk.db.query<{ source: string; customer_id: string; classification_type: string; event: Record<string, unknown> }>(
        'SELECT source, customer_id, classification_type, event FROM events WHERE id = $1', [own.event_id]);
      assert.equal(ev.rows[0].source, 'detection:sshd');
      assert.equal(ev.rows[0].customer_id, 'c1');
      assert.equal(ev.rows[0].classification_type, 'brute-force');
      assert.equal(ev.rows[0].event['classification.taxonomy'], 'intrusion-attempts');
      assert.equal(ev.rows[0].event['source.ip'], '198.51.100.20');
      assert.equal(ev.rows[0].event['destination.port'], 22);
      assert.match(String(ev.rows[0].event.raw), /Failed password for root from 198\.51\.100\.20/);

      assert.deepEqual((await activeBans(t.desk.db)).map((b) => b.ip), ['203.0.113.5']);
      await until(() => existsSync(join(dir, 'bans.nft')) && readFileSync(join(dir, 'bans.nft'), 'utf8').includes('203.0.113.5'), 'the nftables file');
      await until(() => readFileSync(join(dir, 'bans.ipset'), 'utf8').includes('203.0.113.5'), 'the ipset file');
      // Loaded by the real tools into the kernel, in a network namespace of their own.
      const nft = JSON.parse(inNetns(`nft -f ${join(dir, 'bans.nft')} && nft -j list set inet madoguchi mdg4`));
      const elems = nft.nftables.find((x: Record<string, unknown>) => x.set).set.elem;
      assert.equal(elems.length, 1);
      assert.equal(elems[0].elem.val, '203.0.113.5');
      assert.ok(elems[0].elem.timeout > 3500 && elems[0].elem.timeout <= 3600);
      const ipset = inNetns(`ipset restore -exist < ${join(dir, 'bans.ipset')} && ipset restore -exist < ${join(dir, 'bans.ipset')} && ipset list mdg4`);
      assert.match(ipset, /Number of entries: 1\n/);
      assert.match(ipset, /^203\.0\.113\.5 timeout \d+$/m);

      // The HTTP view of the same list, behind an operator key.
      const op = await t.keyFor(['operator']);
      assert.equal((await t.app.inject({ method: 'GET', url: '/api/v1/bans' })).statusCode, 401);
      assert.equal((await t.app.inject({ method: 'GET', url: '/api/v1/bans', headers: await t.keyFor(['reporter']) })).statusCode, 403);
      const json = await t.app.inject({ method: 'GET', url: '/api/v1/bans?format=json', headers: op });
      assert.equal(json.statusCode, 200);
      assert.deepEqual(json.json().map((b: { ip: string }) => b.ip), ['203.0.113.5']);
      const plain = await t.app.inject({ method: 'GET', url: '/api/v1/bans?format=plain', headers: op });
      assert.equal(plain.body, '203.0.113.5\n');
      const nftHttp = await t.app.inject({ method: 'GET', url: '/api/v1/bans?format=nftables&set=edge', headers: op });
      assert.match(nftHttp.body, /add element inet madoguchi edge4 \{ 203\.0\.113\.5 timeout \d+s \}/);
      assert.equal((await t.app.inject({ method: 'GET', url: '/api/v1/bans?format=pf', headers: op })).statusCode, 400);
      assert.equal((await t.app.inject({ method: 'GET', url: '/api/v1/bans?set=x;drop', headers: op })).statusCode, 400);
      const recs = await t.app.inject({ method: 'GET', url: '/api/v1/bans/records?ip=198.51.100.20', headers: op });
      assert.equal(recs.json()[0].customer_id, 'c1');
      const lift = await t.app.inject({ method: 'POST', url: '/api/v1/bans/lift', headers: op, payload: { ip: '203.0.113.5' } });
      assert.deepEqual(lift.json(), { lifted: 1 });
      assert.deepEqual((await t.app.inject({ method: 'GET', url: '/api/v1/bans?format=json', headers: op })).json(), []);
    } finally {
      await runner.stop();
    }
  });

  test('outgoing reports are listed for operators and legal staff', async () => {
    const [b] = await listBans(t.desk.db, { ip: '203.0.113.5' });
    await t.desk.db.query(
      `INSERT INTO outgoing_reports (ban_id, ip, format, recipient, status, reason) VALUES ($1, '203.0.113.5', 'xarf-v4-login_attack', 'abuse@hosting.example', 'dry-run', NULL),
                                                                                      ($1, '203.0.113.5', 'xarf-v4-login_attack', NULL, 'skipped', 'no abuse contact')`, [b.id]);
    const legal = await t.keyFor(['legal']);
    const r = await t.app.inject({ method: 'GET', url: '/api/v1/bans/outgoing-reports?ip=203.0.113.5', headers: legal });
    assert.equal(r.statusCode, 200);
    assert.deepEqual(r.json().map((x: { status: string; reason: string | null; ban_id: number }) => [x.status, x.reason, x.ban_id]), [['skipped', 'no abuse contact', b.id], ['dry-run', null, b.id]]);
    assert.equal((await t.app.inject({ method: 'GET', url: '/api/v1/bans/outgoing-reports?ip=nonsense', headers: legal })).statusCode, 400);
    assert.equal((await t.app.inject({ method: 'GET', url: '/api/v1/bans/outgoing-reports', headers: await t.keyFor(['customer'], { customerId: 'c1' }) })).statusCode, 403);
  });

  test('a jail with a broken filter stops the start with the filter named, and nothing is left running', async () => {
    writeFileSync(join(dir, 'broken.conf'), '[Definition]\nfailregex = ^(?P<host>unclosed\n');
    const jails = jailsFromYaml([
      { name: 'good', filter: 'sshd', logpath: join(dir, 'auth.log') },
      { name: 'bad', filter: join(dir, 'broken.conf'), logpath: join(dir, 'auth.log') },
    ], '/etc/fail2ban');
    const runner = new JailRunner(t.desk, jails, { fail2banDir: '/etc/fail2ban' });
    await assert.rejects(runner.start(), /filter broken: Unable to compile regular expression/);
    assert.deepEqual(runner.status(), []);
  });

  test('a restart resumes where the jail stopped: lines written meanwhile are read, none twice', async () => {
    const log = join(dir, 'auth.log');
    for (let i = 0; i < 3; i++) appendFileSync(log, sshdLine('203.0.113.7'));
    const runner = runnerFor();
    await runner.start();
    try {
      await until(async () => { await runner.settled(); return (await listBans(t.desk.db, { ip: '203.0.113.7' })).length === 1; }, 'the ban after restart');
      const [st] = runner.status();
      assert.equal(st.lines, 3);
      assert.equal(st.failures, 3);
    } finally { await runner.stop(); }
  });

  test('bantime.increment: the history in the bans table lengthens a repeat offender\'s ban across restarts', async () => {
    const log = join(dir, 'auth.log');
    // 203.0.113.5 was banned (and lifted) in the first test.
    const runner = runnerFor(jailYaml({ 'bantime.increment': true }));
    await runner.start();
    try {
      appendFileSync(log, sshdLine('203.0.113.5') + sshdLine('203.0.113.5'));
      await until(async () => { await runner.settled(); return (await listBans(t.desk.db, { ip: '203.0.113.5' })).length === 2; }, 'the second ban');
      const [latest] = await listBans(t.desk.db, { ip: '203.0.113.5' });
      assert.equal(latest.ban_count, 2);
      assert.equal(latest.bantime, 7200);
      assert.equal(latest.failures, 2, 'a known offender counts double (fail2ban observer)');
    } finally { await runner.stop(); }
  });

  test('as a service of `madoguchi serve`: off by default, runs the configured jails when enabled', async () => {
    const d = t.desk.config.detection;
    assert.equal(await jailService.start(t.desk), null);
    d.enabled = true;
    d.jails = [{ name: 'svc', filter: 'sshd', logpath: join(dir, 'svc.log'), maxretry: 1, ignoreself: false }];
    d.nftables_file = join(dir, 'svc.nft');
    try {
      writeFileSync(join(dir, 'svc.log'), '');
      const running = await jailService.start(t.desk);
      assert.ok(running);
      appendFileSync(join(dir, 'svc.log'), sshdLine('203.0.113.88'));
      await until(async () => (await listBans(t.desk.db, { jail: 'svc' })).length === 1, 'a ban by the service');
      await running.stop();
      assert.match(readFileSync(join(dir, 'svc.nft'), 'utf8'), /203\.0\.113\.88/);
    } finally {
      d.enabled = false; d.jails = []; d.nftables_file = '';
    }
  });

  test('systemd backend: journal entries through journalctl and the filter in journal mode', async () => {
    const file = join(dir, 'sshd.journal');
    const writer = spawn('/lib/systemd/systemd-journal-remote', [`--output=${file}`, '-'], { stdio: ['pipe', 'ignore', 'ignore'] });
    let n = 0;
    const entry = (msg: string) => {
      n++;
      const us = BigInt(Date.now()) * 1000n + BigInt(n);
      writer.stdin.write(`__REALTIME_TIMESTAMP=${us}\n__MONOTONIC_TIMESTAMP=${n}\n_BOOT_ID=0123456789abcdef0123456789abcdef\n_HOSTNAME=web1\nSYSLOG_IDENTIFIER=sshd\n_PID=4242\n_SYSTEMD_UNIT=sshd.service\nMESSAGE=${msg}\n\n`);
    };
    entry('Server listening on 0.0.0.0 port 22.');
    await until(() => existsSync(file), 'the journal file');
    const runner = new JailRunner(t.desk, jailsFromYaml([{ name: 'sshd-journal', filter: 'sshd', backend: 'systemd', journalfiles: [file], maxretry: 2, ignoreself: false }], '/etc/fail2ban'),
      { fail2banDir: '/etc/fail2ban' });
    await runner.start();
    try {
      await new Promise((r) => setTimeout(r, 700));
      entry('Failed password for invalid user oracle from 203.0.113.44 port 40000 ssh2');
      entry('Failed password for invalid user oracle from 203.0.113.44 port 40002 ssh2');
      await until(async () => { await runner.settled(); return (await listBans(t.desk.db, { jail: 'sshd-journal' })).length === 1; }, 'a ban from the journal');
      const [b] = await listBans(t.desk.db, { jail: 'sshd-journal' });
      assert.equal(b.ip, '203.0.113.44');
      assert.ok(Math.abs(Date.parse(b.banned_at) - Date.now()) < 60_000, 'dated by the journal entry');
    } finally {
      await runner.stop();
      writer.stdin.end();
      await new Promise((r) => writer.once('close', r));
    }
  });
});
