// Jail decisions against fail2ban's own: the same stream of failures (addresses, times) goes
// through our Jail (ignoreip, failure counting with findtime rescaling, ban decision, ban book)
// and through fail2ban 1.0.2's FailManager + FailTicket (addFailure, toBan), in the same run.
// Both must ban the same addresses the same number of times before a figure is printed.
//   node dist/bench/jails.js [--failures 1000000] [--addresses 50000]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, loadavg, cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { jailsFromYaml } from '../src/detection/jails/config.js';
import { BanBook, Jail, type FailureLike } from '../src/detection/jails/jail.js';

const { values } = parseArgs({ options: { failures: { type: 'string', default: '1000000' }, addresses: { type: 'string', default: '50000' } } });
const N = Number(values.failures), A = Number(values.addresses);

// A deterministic stream: addresses drawn with a skew (a few loud attackers, many quiet ones),
// times advancing irregularly over several findtime windows.
const ips: string[] = [], times: number[] = [];
let seed = 42, t = 1_700_000_000;
const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 4294967296);
for (let i = 0; i < N; i++) {
  const k = Math.floor(A * rnd() ** 3);
  ips.push(`10.${(k >> 16) & 255}.${(k >> 8) & 255}.${k & 255}`);
  t += rnd() < 0.01 ? 1 : 0;
  times.push(t);
}

const dir = mkdtempSync(join(tmpdir(), 'madoguchi-bench-jails-'));
try {
  const stream = join(dir, 'failures.tsv');
  writeFileSync(stream, ips.map((ip, i) => `${ip}\t${times[i]}`).join('\n') + '\n');

  // fail2ban: what its filter does per failure (FailManager.addFailure, then toBan at maxretry).
  const py = spawnSync('/usr/bin/python3', ['-c', `
import sys, time, json
from fail2ban.server.failmanager import FailManager
from fail2ban.server.ticket import FailTicket
rows = [(ip, int(t)) for ip, t in (l.split('\\t') for l in open(sys.argv[1]).read().split('\\n') if l)]
fm = FailManager(); fm.setMaxRetry(5); fm.setMaxTime(600)
banned = {}
until = {}
start = time.perf_counter()
for ip, t in rows:
    if until.get(ip, 0) > t: continue
    if fm.addFailure(FailTicket(ip, t)) >= 5:
        fm.toBan(ip)
        banned[ip] = banned.get(ip, 0) + 1
        until[ip] = t + 600
    fm.cleanup(t) if t % 5 == 0 else None
print(json.dumps({"seconds": time.perf_counter() - start, "bans": sum(banned.values()), "addresses": len(banned)}))`, stream], { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (py.status !== 0) throw new Error(py.stderr);
  const theirs = JSON.parse(py.stdout) as { seconds: number; bans: number; addresses: number };

  const [cfg] = jailsFromYaml([{ name: 'bench', logpath: '/dev/null', maxretry: 5, findtime: 600, bantime: 600, ignoreself: false, ignoreip: '192.0.2.0/24' }], '/etc/fail2ban');
  const jail = new Jail(cfg, new BanBook());
  const failures: FailureLike[] = ips.map((ip, i) => ({ epoch: times[i], fid: ip, ip, captures: {}, lines: [] }));
  const banned = new Set<string>();
  let bans = 0;
  const start = performance.now();
  for (const f of failures) {
    const b = jail.handle(f, f.epoch);
    if (b) { bans++; banned.add(b.ip); }
  }
  const ours = (performance.now() - start) / 1000;

  console.log(`${N} failures from ${A} possible addresses; ${cpus().length} cores, load ${loadavg()[0].toFixed(1)}`);
  console.log(`fail2ban FailManager: ${theirs.seconds.toFixed(2)} s, ${theirs.bans} bans of ${theirs.addresses} addresses`);
  console.log(`Madoguchi Jail:       ${ours.toFixed(2)} s, ${bans} bans of ${banned.size} addresses`);
  if (bans !== theirs.bans || banned.size !== theirs.addresses) throw new Error('the two disagree: no figures');
  console.log(`failures/s: fail2ban ${Math.round(N / theirs.seconds)}, Madoguchi ${Math.round(N / ours)}; ratio ${(theirs.seconds / ours).toFixed(1)}x`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
