// Detection benchmark (issue 5): `madoguchi regex` against `fail2ban-regex` (the peer), same
// filter, same log, same run.
//  1. sshd.conf over a synthetic auth.log (1,000,000 lines by default: sshd failures, sessions,
//     pam, cron, systemd and kernel noise), and over an all-attack one (--attack-lines, default
//     200,000: only the sshd lines of failed logins and dropped connections, where an attacked
//     host's log spends its time).
//  2. Every filter of fail2ban's sample corpus over its own sample log, repeated to --corpus-lines
//     (default 50,000: fail2ban-regex takes seconds per filter, so start-up no longer dominates).
// Both tools run as processes on the same file, one after the other; fail2ban-regex with --raw
// (host names taken as they are, no DNS), which is what madoguchi does. Three figures per tool:
// lines/s over wall time and over CPU time (user + system, which a shared machine disturbs less),
// both start-up included, and "own": the processing time each tool prints itself
// (`[processed in X sec`), start-up excluded. madoguchi counts a large log with worker threads
// (its default; --threads 1 for one), so its CPU time can exceed its wall time.
// Each run is checked: both tools' summaries give the same counts, fail2ban-regex's "Lines: N
// lines, I ignored, M matched, X missed" and its failregex and ignoreregex hit totals, which
// madoguchi counts the way fail2ban-regex does (for sshd a difference fails the run; in the corpus
// it is flagged). Those are not failures: fail2ban-regex's "matched" also counts lines of a
// pending <F-MLFID> match (no host yet) and a multi-line failure's earlier lines, and leaves out
// lines that also gave a <F-NOFAIL> match; madoguchi's failure count is printed beside them.
// (Failures line by line are checked by the conformance test.)
// Run: node dist/bench/detection.js [--lines N] [--attack-lines N] [--corpus-lines N] [--only a,b] [--skip-corpus] [--skip-sshd] [--skip-attack] [--threads N]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { attackAuthLog, syntheticAuthLog } from './detection-log.js';

const { values } = parseArgs({ options: {
  lines: { type: 'string', default: '1000000' },
  'attack-lines': { type: 'string', default: '200000' },
  'skip-attack': { type: 'boolean', default: false },
  'corpus-lines': { type: 'string', default: '50000' },
  only: { type: 'string' },
  'skip-corpus': { type: 'boolean', default: false },
  'skip-sshd': { type: 'boolean', default: false },
  threads: { type: 'string' },
} });

const FILTERS = '/etc/fail2ban/filter.d';
const SAMPLES = '/usr/lib/python3/dist-packages/fail2ban/tests/files/logs';
const CLI = new URL('../../bin/madoguchi.js', import.meta.url).pathname;
/** fail2ban-regex runs at ~20,000 lines/s on a quiet machine: a run is stopped after this long. */
const PEER_TIMEOUT_MS = 15 * 60 * 1000;

/** The counts both tools print; `failures` only madoguchi (fail2ban-regex prints no such figure). */
interface Summary { lines: number; ignored: number; matched: number; missed: number; failregex: number; ignoreregex: number; failures?: number }
interface Run { wall: number; cpu: number; ok: boolean; err?: string; own?: number; summary?: Summary }

/** Wall time, and CPU time (user + system, from /usr/bin/time): the machine may be shared. */
function run(cmd: string, args: string[], parse: (out: string) => Summary | undefined): Run {
  const t = performance.now();
  const p = spawnSync('/usr/bin/time', ['-f', '__cpu %U %S', cmd, ...args], { encoding: 'utf8', maxBuffer: 1 << 28, timeout: PEER_TIMEOUT_MS });
  const wall = (performance.now() - t) / 1000;
  const m = /__cpu ([\d.]+) ([\d.]+)\s*$/.exec(p.stderr ?? '');
  const cpu = m ? Number(m[1]) + Number(m[2]) : NaN;
  // Both tools print their own processing time, start-up excluded.
  const own = /\[processed in ([\d.]+) sec/.exec(p.stdout ?? '');
  const ok = p.status === 0;
  return { wall, cpu, ok, err: ok ? undefined : p.error ? String(p.error) : (p.stderr || p.stdout).slice(-300), own: own ? Number(own[1]) : undefined, summary: ok ? parse(p.stdout) : undefined };
}

/** "Failregex: N total", "Ignoreregex: N total", "Lines: N lines, I ignored, M matched, X missed": the same in both tools' summaries. */
function peerSummary(out: string): Summary | undefined {
  const l = /^Lines: (\d+) lines, (\d+) ignored, (\d+) matched, (\d+) missed/m.exec(out);
  const f = /^Failregex: (\d+) total/m.exec(out), i = /^Ignoreregex: (\d+) total/m.exec(out);
  return l && f && i ? { lines: Number(l[1]), ignored: Number(l[2]), matched: Number(l[3]), missed: Number(l[4]), failregex: Number(f[1]), ignoreregex: Number(i[1]) } : undefined;
}

function ourSummary(out: string): Summary | undefined {
  const s = peerSummary(out), f = /^Failures: (\d+)/m.exec(out);
  return s && f ? { ...s, failures: Number(f[1]) } : undefined;
}

/** The counts of `a` that differ in `b`, as `name a/b`; empty when all agree. */
function countDiffs(a: Summary, b: Summary): string {
  const keys = ['lines', 'ignored', 'matched', 'missed', 'failregex', 'ignoreregex'] as const;
  return keys.filter((k) => a[k] !== b[k]).map((k) => `${k} ${a[k]}/${b[k]}`).join(', ');
}

// --raw: no DNS lookups for host names, as madoguchi does (a lookup that fails misses the line).
const peer = (log: string, filter: string) => run('fail2ban-regex', ['--raw', '--print-no-missed', '--print-no-ignored', log, filter], peerSummary);
const ours = (log: string, filter: string) => run(process.execPath, [CLI, 'regex', ...(values.threads ? ['--threads', values.threads] : []), log, filter], ourSummary);

const fmt = (x: number) => Math.round(x).toLocaleString('en-US');

interface Ratios { wall: number; cpu: number; own: number; agree: boolean }

function compare(name: string, log: string, filter: string, lines: number): Ratios | null {
  const a = peer(log, filter);
  const b = ours(log, filter);
  if (!a.ok || !b.ok) {
    console.log(`${name.padEnd(22)} skipped: ${!a.ok ? 'fail2ban-regex' : 'madoguchi'} failed: ${(a.err ?? b.err ?? '').trim().split('\n').pop()}`);
    return null;
  }
  const wall = a.wall / b.wall, cpu = a.cpu / b.cpu;
  const own = a.own !== undefined && b.own !== undefined ? a.own / b.own : NaN;
  const diffs = a.summary && b.summary ? countDiffs(a.summary, b.summary) : 'no summary';
  const agree = diffs === '';
  const counts = !agree ? `COUNTS DIFFER (fail2ban-regex/madoguchi): ${diffs}`
    : `${b.summary!.matched} matched, ${b.summary!.ignored} ignored lines (both); ${b.summary!.failures} failures`;
  console.log(`${name.padEnd(22)} ${String(lines).padStart(8)} lines | fail2ban-regex ${fmt(lines / a.wall).padStart(7)}/s wall ${fmt(lines / a.cpu).padStart(7)}/s cpu ${fmt(lines / (a.own ?? NaN)).padStart(7)}/s own`
    + ` | madoguchi regex ${fmt(lines / b.wall).padStart(9)}/s wall ${fmt(lines / b.cpu).padStart(9)}/s cpu ${fmt(lines / (b.own ?? NaN)).padStart(9)}/s own`
    + ` | ratio ${wall.toFixed(1)}x wall ${cpu.toFixed(1)}x cpu ${own.toFixed(1)}x own | ${counts}`);
  return { wall, cpu, own, agree };
}

function geomean(xs: number[]): number { return Math.exp(xs.reduce((a, x) => a + Math.log(x), 0) / xs.length); }

function main(): number {
  const load = () => loadavg().map((x) => x.toFixed(1)).join(' ');
  console.log(`# detection benchmark, ${new Date().toISOString()}, node ${process.version}, load ${load()}`);
  const dir = mkdtempSync(join(tmpdir(), 'madoguchi-bench-'));
  let status = 0;
  try {
    if (!values['skip-sshd']) {
      const n = Number(values.lines);
      const log = join(dir, 'auth.log');
      writeFileSync(log, syntheticAuthLog(n));
      console.log(`\n## sshd.conf over a synthetic auth.log`);
      const r = compare('sshd', log, join(FILTERS, 'sshd.conf'), n);
      if (!r || !r.agree) status = 1;
      console.log(`load after: ${load()}`);
    }
    if (!values['skip-attack']) {
      const n = Number(values['attack-lines']);
      const log = join(dir, 'attack.log');
      writeFileSync(log, attackAuthLog(n));
      console.log(`\n## sshd.conf over an all-attack auth.log`);
      const r = compare('sshd (attack)', log, join(FILTERS, 'sshd.conf'), n);
      if (!r || !r.agree) status = 1;
      console.log(`load after: ${load()}`);
    }
    if (!values['skip-corpus']) {
      const target = Number(values['corpus-lines']);
      const only = values.only ? new Set(values.only.split(',')) : null;
      console.log(`\n## fail2ban sample corpus, each sample log repeated to about ${target} lines`);
      const ratios: Ratios[] = [];
      for (const name of readdirSync(SAMPLES).sort()) {
        const filter = join(FILTERS, name + '.conf');
        if ((only && !only.has(name)) || !existsSync(filter)) continue;
        const sample = readFileSync(join(SAMPLES, name), 'utf8').split('\n').filter((l) => l.trim() && !l.startsWith('#'));
        if (!sample.length) continue;
        const reps = Math.max(1, Math.round(target / sample.length));
        const log = join(dir, name + '.log');
        writeFileSync(log, (sample.join('\n') + '\n').repeat(reps));
        const r = compare(name, log, filter, sample.length * reps);
        if (r) ratios.push(r);
      }
      if (ratios.length) {
        const g = (k: 'wall' | 'cpu' | 'own') => geomean(ratios.map((r) => r[k]).filter((x) => x > 0)).toFixed(1);
        console.log(`\ngeometric mean over ${ratios.length} filters: ${g('wall')}x wall, ${g('cpu')}x cpu (both with start-up), ${g('own')}x own (processing only); `
          + `${ratios.filter((r) => !r.agree).length} with differing counts; load after: ${load()}`);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return status;
}

process.exitCode = main();
