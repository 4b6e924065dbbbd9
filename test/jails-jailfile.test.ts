// fail2ban's own configuration (a copy of Debian's /etc/fail2ban plus jail.local and jail.d/*.local
// overrides) read by us and by fail2ban itself (`fail2ban-client -d` dumps what it would run): the
// enabled jails and their counting and ban settings must agree.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readJailFile, jailFileSet } from '../src/detection/jails/jailfile.js';
import { configuredJails } from '../src/detection/jails/service.js';
import { loadConfig } from '../src/config/config.js';
import { str2seconds } from '../src/detection/jails/time.js';

const dir = mkdtempSync(join(tmpdir(), 'madoguchi-jailfile-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const conf = join(dir, 'fail2ban');
cpSync('/etc/fail2ban', conf, { recursive: true });
for (const f of ['auth.log', 'mail.log', 'dovecot.log']) writeFileSync(join(dir, f), '');
writeFileSync(join(conf, 'jail.local'), `[DEFAULT]
bantime  = 1h
findtime = 30m
ignoreip = 127.0.0.1/8 ::1 192.0.2.0/24

[sshd]
logpath = ${join(dir, 'auth.log')}
maxretry = 4
bantime.increment = true
bantime.factor = 2
bantime.maxtime = 1w
bantime.overalljails = true
mode = aggressive

[postfix]
enabled = true
logpath = ${join(dir, 'mail.log')}
findtime = 1d12h
bantime = -1
`);
mkdirSync(join(conf, 'jail.d'), { recursive: true });
writeFileSync(join(conf, 'jail.d', 'zz-dovecot.local'), `[dovecot]\nenabled = true\nlogpath = ${join(dir, 'dovecot.log')}\nmaxretry = 7\nbantime.multipliers = 1 5 30 60\nbantime.increment = yes\n`);

/** fail2ban's own reading: `fail2ban-client -d` prints the commands it would send to the server. */
function fail2banDump(): Record<string, Record<string, unknown>> {
  const r = spawnSync('/usr/bin/python3', ['-c', `
import ast, json, subprocess, sys
out = subprocess.run(['fail2ban-client', '-c', sys.argv[1], '-d'], capture_output=True, text=True).stdout
jails = {}
for line in out.splitlines():
    try: cmd = ast.literal_eval(line)
    except Exception: continue
    if cmd[0] == 'add': jails[cmd[1]] = {'backend': cmd[2]}
    elif cmd[0] == 'set' and cmd[1] in jails:
        jails[cmd[1]][cmd[2]] = cmd[3:] if cmd[2] in ('addignoreip', 'addlogpath') else cmd[3]
print(json.dumps(jails))`, conf], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

test('enabled jails and their settings agree with fail2ban-client -d', () => {
  const theirs = fail2banDump();
  const ours = readJailFile(join(conf, 'jail.conf'));
  const enabled = ours.filter((j) => j.enabled);
  assert.deepEqual(enabled.map((j) => j.name).sort(), Object.keys(theirs).sort());
  assert.ok(Object.keys(theirs).length >= 3);
  const sec = (v: unknown) => str2seconds(String(v));
  for (const j of enabled) {
    const f = theirs[j.name];
    assert.equal(j.maxretry, Number(f.maxretry), `${j.name} maxretry`);
    assert.equal(j.findtime, sec(f.findtime), `${j.name} findtime`);
    assert.equal(j.ban.bantime, sec(f.bantime), `${j.name} bantime`);
    assert.deepEqual(j.logpath, (f.addlogpath as string[]).filter((x) => x !== 'head' && x !== 'tail'), `${j.name} logpath`);
    assert.deepEqual(j.ignoreip, f.addignoreip, `${j.name} ignoreip`);
    assert.equal(!!j.ban.increment, f['bantime.increment'] === true, `${j.name} increment`);
    if (j.ban.increment) {
      assert.equal(j.ban.increment.factor, f['bantime.factor'] ?? '1');
      assert.equal(j.ban.increment.maxtime, f['bantime.maxtime'] === undefined ? null : sec(f['bantime.maxtime']));
      assert.equal(j.ban.increment.overalljails, f['bantime.overalljails'] === true || f['bantime.overalljails'] === 'true');
      assert.deepEqual(j.ban.increment.multipliers, f['bantime.multipliers'] ? String(f['bantime.multipliers']).split(' ').map(Number) : []);
    }
  }
  const sshd = enabled.find((j) => j.name === 'sshd')!;
  assert.equal(sshd.filter, join(conf, 'filter.d', 'sshd.conf[mode=aggressive]'));
  assert.equal(enabled.find((j) => j.name === 'postfix')!.findtime, 129600);
  assert.equal(enabled.find((j) => j.name === 'postfix')!.ban.bantime, -1);
});

test('the file set is fail2ban\'s: .conf, .d/*.conf, .local, .d/*.local', () => {
  const files = jailFileSet(join(conf, 'jail.conf')).map((f) => f.slice(conf.length + 1));
  assert.deepEqual(files, ['jail.conf', 'jail.d/defaults-debian.conf', 'jail.local', 'jail.d/zz-dovecot.local']);
});

test('a jail enabled in both a jail file and madoguchi.yaml is an error, not an override', () => {
  const d = loadConfig({ env: {} }).detection;
  d.jail_files = [join(conf, 'jail.conf')];
  d.fail2ban_dir = conf;
  assert.equal(configuredJails(d).filter((j) => j.enabled).length, 3);
  d.jails = [{ name: 'sshd', logpath: join(dir, 'auth.log') }];
  assert.throws(() => configuredJails(d), /jail sshd is enabled twice/);
});

test('a broken enabled jail is named; a broken disabled one is left alone', () => {
  const bad = join(dir, 'bad');
  cpSync(conf, bad, { recursive: true });
  writeFileSync(join(bad, 'jail.local'), `[sshd]\nlogpath = ${join(dir, 'auth.log')}\nfindtime = soon\n[apache-auth]\nmaxretry = many\n`);
  assert.throws(() => readJailFile(join(bad, 'jail.conf')), /jail sshd: findtime: not a time: 'soon'/);
  writeFileSync(join(bad, 'jail.local'), `[apache-auth]\nmaxretry = many\n`);
  assert.ok(readJailFile(join(bad, 'jail.conf')).some((j) => j.name === 'sshd' && j.enabled));
});
