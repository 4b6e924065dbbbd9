// Jail decisions against fail2ban itself: time expressions, failure counting and ban-time growth are
// computed by the installed fail2ban (its Python modules) and by our code on the same inputs.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { str2seconds, TimeError } from '../src/detection/jails/time.js';
import { evalExpr, ExprError } from '../src/detection/jails/expr.js';
import { banTimeFunction, DEFAULT_FORMULA } from '../src/detection/jails/bantime.js';
import { FailureTracker } from '../src/detection/jails/failures.js';
import { IgnoreList } from '../src/detection/jails/ignore.js';
import { jailFromOptions, jailsFromYaml, JailConfigError, filterSpec } from '../src/detection/jails/config.js';
import { BanBook, Jail, type FailureLike } from '../src/detection/jails/jail.js';
import { ipv6Id, loadFilter } from '../src/detection/filter.js';

const PY = '/usr/bin/python3';

/** Runs Python with fail2ban importable; the script prints one JSON document. */
function fail2ban(script: string): unknown {
  const r = spawnSync(PY, ['-c', `import json\n${script}`], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

describe('fail2ban time expressions', () => {
  const exprs = ['600', '10m', '1h', '1d', '1w', '1d12h', '1h 30m', '0d 1h 30m', '1hour+30min', '1year-6mo', '6 months',
    '2 weeks', '1mo', '3600s', '1h-1', '-1', '30sec', '1day 2hours', '5 m', '1.5h', '12h30m'];
  test('str2seconds agrees with fail2ban MyTime.str2seconds', () => {
    const theirs = fail2ban(`from fail2ban.server.mytime import MyTime\nprint(json.dumps([MyTime.str2seconds(x) for x in ${JSON.stringify(exprs)}]))`) as number[];
    assert.deepEqual(exprs.map((e) => str2seconds(e)), theirs);
  });
  test('garbage is a clear error, never code', () => {
    assert.throws(() => str2seconds('__import__("os")'), TimeError);
    assert.throws(() => str2seconds('10 parsecs'), TimeError);
    assert.throws(() => str2seconds(''), TimeError);
    assert.throws(() => evalExpr('1/0'), ExprError);
    assert.throws(() => evalExpr('x'.repeat(3000)), ExprError);
  });
});

describe('bantime.increment', () => {
  const cases: [string, Record<string, string>][] = [
    ['default formula', {}],
    ['factor 2, maxtime 1d', { factor: '2', maxtime: '1d' }],
    ['multipliers', { multipliers: '1 5 30 60 300 720 1440 2880' }],
    ['exp formula', { formula: 'ban.Time * math.exp(float(ban.Count+1)*banFactor)/math.exp(1*banFactor)', factor: '2.0 / 2.885385' }],
  ];
  for (const [name, extra] of cases) {
    test(`${name}: ban times agree with fail2ban's evformula`, () => {
      const theirs = fail2ban(`
from fail2ban.server.jail import Jail
from fail2ban.server.observer import ObserverThread
j = Jail('x', backend='polling')
j.setBanTimeExtra('increment', 'true')
for k, v in ${JSON.stringify(Object.entries(extra))}: j.setBanTimeExtra(k, v)
f = j.getBanTimeExtra('evformula')
print(json.dumps([f(ObserverThread.BanTimeIncr(600, n)) for n in range(1, 25)]))`) as number[];
      const ours = banTimeFunction({
        bantime: 600,
        increment: {
          factor: extra.factor ?? '1', formula: extra.formula ?? DEFAULT_FORMULA,
          multipliers: extra.multipliers ? extra.multipliers.split(' ').map(Number) : [],
          maxtime: extra.maxtime ? str2seconds(extra.maxtime) : null, rndtime: null, overalljails: false,
        },
      });
      const mine = Array.from({ length: 24 }, (_, i) => ours(i + 1));
      for (let i = 0; i < 24; i++) assert.ok(Math.abs(mine[i] - theirs[i]) <= 1e-6 * theirs[i], `ban ${i + 2}: ${mine[i]} vs ${theirs[i]}`);
      assert.equal(ours(0), 600, 'a first ban is plain bantime');
    });
  }
  test('rndtime adds at most rndtime seconds; a bad formula fails at configuration', () => {
    const f = banTimeFunction({ bantime: 60, increment: { factor: '1', formula: DEFAULT_FORMULA, multipliers: [], maxtime: null, rndtime: 30, overalljails: false } }, () => 0.5);
    assert.equal(f(1), 120 + 15);
    assert.throws(() => banTimeFunction({ bantime: 60, increment: { factor: '1', formula: 'ban.Time * os.system(1)', multipliers: [], maxtime: null, rndtime: null, overalljails: false } }), ExprError);
  });
});

describe('failure counting', () => {
  test('retry counts, findtime rescaling and bans agree with fail2ban FailManager', () => {
    // Irregular failures of three addresses over a few findtime windows.
    const seq: [string, number][] = [];
    let t = 1_700_000_000;
    for (let i = 0; i < 200; i++) {
      t += (i * 37) % 251;
      seq.push([`192.0.2.${(i * 7) % 3}`, t]);
    }
    const theirs = fail2ban(`
from fail2ban.server.failmanager import FailManager
from fail2ban.server.ticket import FailTicket
fm = FailManager(); fm.setMaxRetry(4); fm.setMaxTime(600)
out = []
for ip, t in ${JSON.stringify(seq)}:
    fm.cleanup(t)
    r = fm.addFailure(FailTicket(ip, t))
    banned = r >= 4
    if banned: fm.toBan(ip)
    out.append([r, banned])
print(json.dumps(out))`) as [number, boolean][];
    const tr = new FailureTracker(600);
    const mine = seq.map(([ip, time]) => {
      const r = tr.add(ip, time, []);
      const banned = r >= 4;
      if (banned) tr.take(ip);
      return [r, banned];
    });
    assert.deepEqual(mine, theirs);
    assert.ok(theirs.some(([, b]) => b) && theirs.some(([, b]) => !b), 'the sequence exercises both outcomes');
  });
  test('memory stays bounded under a flood of distinct addresses', () => {
    const tr = new FailureTracker(600, 20, 1000);
    for (let i = 0; i < 50_000; i++) tr.add(`10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`, 1000 + i / 1000, ['x'.repeat(100)]);
    assert.equal(tr.size, 1000);
  });
});

describe('ignoreip', () => {
  test('addresses, networks with host bits as fail2ban allows, IPv6, names', async () => {
    const l = new IgnoreList(['127.0.0.1/8', '192.0.2.5', '2001:db8::/32', 'trusted.example', '198.51.100.0/24,203.0.113.9'], false);
    for (const ip of ['127.1.2.3', '192.0.2.5', '2001:db8::1', '198.51.100.77', '203.0.113.9']) assert.ok(l.has(ip), ip);
    for (const ip of ['192.0.2.6', '2001:db9::1', '10.0.0.1', 'garbage']) assert.ok(!l.has(ip), ip);
    assert.deepEqual(l.names, ['trusted.example']);
    const problems = await l.resolveNames(async (n) => (n === 'trusted.example' ? ['192.0.2.200'] : []));
    assert.deepEqual(problems, []);
    assert.ok(l.has('192.0.2.200'));
    assert.deepEqual(new IgnoreList(['bad..name', '300.1.1.1'], false).errors.length, 2);
  });
  test('ignoreself covers this host', () => {
    assert.ok(new IgnoreList([], true).has('127.0.0.1'));
  });
});

describe('jail configuration', () => {
  test('fail2ban defaults and rescaled times', () => {
    const j = jailFromOptions('sshd', { enabled: 'true', logpath: '/var/log/auth.log', findtime: '1h', bantime: '1d', 'bantime.increment': 'true', 'bantime.maxtime': '1w' }, '/etc/fail2ban');
    assert.equal(j.maxretry, 5);
    assert.equal(j.findtime, 3600);
    assert.equal(j.ban.bantime, 86400);
    assert.equal(j.ban.increment?.maxtime, 604800);
    assert.equal(j.filter, '/etc/fail2ban/filter.d/sshd.conf');
    assert.equal(filterSpec('sshd[mode=aggressive]', '/etc/fail2ban'), '/etc/fail2ban/filter.d/sshd.conf[mode=aggressive]');
  });
  test('mistakes are named', () => {
    assert.throws(() => jailsFromYaml([{ name: 'sshd', logpath: '/x', findtme: '10m' }], '/e'), /unknown option 'findtme'/);
    assert.throws(() => jailsFromYaml([{ name: 'sshd', logpath: '/x', maxretry: 0 }], '/e'), /maxretry/);
    assert.throws(() => jailsFromYaml([{ name: 'sshd', logpath: '/x', bantime: 'forever' }], '/e'), /bantime/);
    assert.throws(() => jailsFromYaml([{ name: 'sshd' }], '/e'), /logpath is required/);
    assert.throws(() => jailsFromYaml([{ name: 'sshd', logpath: '/x', classification: 'nonsense' }], '/e'), JailConfigError);
    assert.throws(() => jailsFromYaml(['sshd'], '/e'), /must be a mapping/);
  });
});

describe('jail decisions', () => {
  const failure = (ip: string, epoch: number): FailureLike => ({ epoch, fid: ip, ip, captures: { user: 'root' }, lines: [`fail from ${ip}`] });
  const jail = (opts: Record<string, string>, book = new BanBook()) =>
    new Jail(jailFromOptions('sshd', { enabled: 'true', logpath: '/x', maxretry: '3', findtime: '10m', bantime: '10m', ignoreself: 'false', ...opts }, '/e'), book);

  test('maxretry within findtime bans once; the banned address is not banned again', () => {
    const j = jail({ ignoreip: '192.0.2.99' });
    const now = 1_700_000_000;
    assert.equal(j.handle(failure('192.0.2.1', now), now), null);
    assert.equal(j.handle(failure('192.0.2.1', now + 1), now + 1), null);
    const ban = j.handle(failure('192.0.2.1', now + 2), now + 2);
    assert.ok(ban);
    assert.equal(ban.ip, '192.0.2.1');
    assert.equal(ban.bantime, 600);
    assert.equal(ban.banCount, 1);
    assert.equal(ban.failures, 3);
    assert.equal(ban.user, 'root');
    assert.deepEqual(ban.lines, ['fail from 192.0.2.1', 'fail from 192.0.2.1', 'fail from 192.0.2.1']);
    for (let i = 3; i < 10; i++) assert.equal(j.handle(failure('192.0.2.1', now + i), now + i), null);
    assert.equal(j.stats.alreadyBanned, 7);
    for (let i = 0; i < 5; i++) assert.equal(j.handle(failure('192.0.2.99', now + i), now + i), null);
    assert.equal(j.stats.ignored, 5);
  });

  test('a date more than a minute off is taken as now, as fail2ban does in operation', () => {
    const j = jail({});
    const now = 1_700_000_000;
    j.handle(failure('192.0.2.1', now - 86400), now);
    j.handle(failure('192.0.2.1', now - 86400 * 2), now);
    const ban = j.handle(failure('192.0.2.1', now + 86400), now);
    assert.equal(ban?.time, now);
  });

  test('increment: repeat offenders get longer bans and need fewer failures; overalljails spans jails', () => {
    const book = new BanBook();
    const a = jail({ 'bantime.increment': 'true', 'bantime.overalljails': 'true' }, book);
    const b = new Jail(jailFromOptions('postfix', { enabled: 'true', logpath: '/x', maxretry: '3', bantime: '10m', ignoreself: 'false', 'bantime.increment': 'true', 'bantime.overalljails': 'true' }, '/e'), book);
    let t = 1_700_000_000;
    const banAfter = (j: Jail) => { for (let i = 1; i <= 10; i++) { t += 1; const r = j.handle(failure('192.0.2.1', t), t); if (r) return { r, tries: i }; } return null; };
    const first = banAfter(a)!;
    assert.equal(first.tries, 3);
    assert.equal(first.r.bantime, 600);
    t += 700;
    const second = banAfter(b)!;
    assert.equal(second.r.banCount, 2, 'the ban in the other jail counts');
    assert.equal(second.r.bantime, 1200);
    assert.equal(second.tries, 2, 'a known bad address counts double');
    t += 1300;
    const third = banAfter(a)!;
    // fail2ban sums the latest ban counts of every jail (1 in sshd + 2 in postfix): 600 * 2^3.
    assert.equal(third.r.banCount, 4);
    assert.equal(third.r.bantime, 4800);
    assert.equal(third.tries, 1);
  });
});

describe('IPv6 failure ids', () => {
  const spellings = ['2001:db8::1', '2001:DB8::1', '2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8:0:0::0:1', '::ffff:192.0.2.7',
    '::FFFF:c000:207', '::192.0.2.7', '::1', '::', '2001:db8:0:1:0:0:0:1', '2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1', 'fe80::1:2', '2001:db8::g1', '1:2:3:4:5:6:7:8:9'];
  test('are spelt as fail2ban IPAddr spells them', () => {
    const theirs = fail2ban(`from fail2ban.server.ipdns import IPAddr
print(json.dumps([str(IPAddr(x, IPAddr.FAM_IPv6)) for x in ${JSON.stringify(spellings)}]))`) as string[];
    assert.deepEqual(spellings.map(ipv6Id), theirs);
  });

  test('one address written three ways is one offender, banned at maxretry', () => {
    const filter = loadFilter('/etc/fail2ban/filter.d/sshd.conf', { now: () => 1_795_687_300, checkAll: false });
    const lines = ['2001:DB8::7', '2001:db8:0::7', '2001:0db8:0:0:0:0:0:0007'].map((a, i) =>
      `Nov 26 10:00:0${i} host sshd[${100 + i}]: Failed password for root from ${a} port 2222 ssh2`);
    const failures = filter.processLines(lines, 1);
    assert.deepEqual(failures.map((f) => [f.host, f.fid, f.ip]), [
      ['2001:DB8::7', '2001:db8::7', '2001:db8::7'], ['2001:db8:0::7', '2001:db8::7', '2001:db8::7'], ['2001:0db8:0:0:0:0:0:0007', '2001:db8::7', '2001:db8::7']]);
    const j = new Jail(jailFromOptions('sshd', { enabled: 'true', logpath: '/x', maxretry: '3', findtime: '10m', bantime: '10m', ignoreself: 'false' }, '/e'), new BanBook());
    const bans = failures.map((f) => j.handle(f, f.epoch)).filter((b) => b !== null);
    assert.equal(bans.length, 1);
    assert.equal(bans[0]!.ip, '2001:db8::7');
    assert.equal(bans[0]!.failures, 3);
  });
});
