// Detection benchmark (issue 5): `madoguchi regex` against `fail2ban-regex` (the peer), same
// filter, same log, same run.
//  1. sshd.conf over a synthetic auth.log (1,000,000 lines by default: sshd failures, sessions,
//     pam, cron, systemd and kernel noise).
//  2. Every filter of fail2ban's sample corpus over its own sample log, repeated to --corpus-lines.
// Both tools run as processes on the same file, start-up included; lines/s from wall time and
// from CPU time (user + system, which a shared machine disturbs less). "engine" compares the
// processing time fail2ban-regex reports with our engine run in this process on the same file.
// Run: node dist/bench/detection.js [--lines N] [--corpus-lines N] [--only a,b] [--skip-corpus]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { syntheticAuthLog } from './detection-log.js';
import { loadFilter } from '../src/detection/filter.js';
import { readLogLines } from '../src/detection/logfile.js';

const { values } = parseArgs({ options: {
  lines: { type: 'string', default: '1000000' },
  'corpus-lines': { type: 'string', default: '20000' },
  only: { type: 'string' },
  'skip-corpus': { type: 'boolean', default: false },
  'skip-sshd': { type: 'boolean', default: false },
} });

const FILTERS = '/etc/fail2ban/filter.d';
const SAMPLES = '/usr/lib/python3/dist-packages/fail2ban/tests/files/logs';
const CLI = new URL('../../bin/madoguchi.js', import.meta.url).pathname;

interface Run { wall: number; cpu: number; ok: boolean; err?: string; processing?: number }

/** Wall time, and CPU time (user + system, from /usr/bin/time): the machine may be shared. */
function run(cmd: string, args: string[]): Run {
  const t = performance.now();
  const p = spawnSync('/usr/bin/time', ['-f', '__cpu %U %S', cmd, ...args], { encoding: 'utf8', maxBuffer: 1 << 28 });
  const wall = (performance.now() - t) / 1000;
  const m = /__cpu ([\d.]+) ([\d.]+)\s*$/.exec(p.stderr ?? '');
  const cpu = m ? Number(m[1]) + Number(m[2]) : NaN;
  // fail2ban-regex reports its own processing time, start-up excluded.
  const proc = /\[processed in ([\d.]+) sec/.exec(p.stdout ?? '');
  return { wall, cpu, ok: p.status === 0, err: p.status === 0 ? undefined : (p.stderr || p.stdout).slice(-300), processing: proc ? Number(proc[1]) : undefined };
}

const peer = (log: string, filter: string) => run('fail2ban-regex', ['--print-no-missed', '--print-no-ignored', log, filter]);
const ours = (log: string, filter: string) => run(process.execPath, [CLI, 'regex', log, filter]);

const fmt = (x: number) => Math.round(x).toLocaleString('en-US');

/** Our engine in this process over the same file: the work without Node's and the CLI's start-up. */
async function engine(log: string, filter: string): Promise<{ wall: number; cpu: number }> {
  const f = loadFilter(filter);
  const t = performance.now();
  const c = process.cpuUsage();
  for await (const batch of readLogLines(log)) f.processLines(batch.lines, batch.firstLineNo, { ascii: batch.ascii, countOnly: true });
  const u = process.cpuUsage(c);
  return { wall: (performance.now() - t) / 1000, cpu: (u.user + u.system) / 1e6 };
}

interface Ratios { wall: number; cpu: number; engine: number }

async function compare(name: string, log: string, filter: string, lines: number): Promise<Ratios | null> {
  const a = peer(log, filter);
  const b = ours(log, filter);
  if (!a.ok || !b.ok) {
    console.log(`${name.padEnd(22)} skipped: ${!a.ok ? 'fail2ban-regex' : 'madoguchi'} failed: ${(a.err ?? b.err ?? '').trim().split('\n').pop()}`);
    return null;
  }
  const e = await engine(log, filter);
  const wall = a.wall / b.wall, cpu = a.cpu / b.cpu;
  const eng = (a.processing ?? a.wall) / e.wall;
  console.log(`${name.padEnd(22)} ${String(lines).padStart(8)} lines | fail2ban-regex ${fmt(lines / a.wall).padStart(7)}/s wall ${fmt(lines / a.cpu).padStart(7)}/s cpu ${fmt(lines / (a.processing ?? a.wall)).padStart(7)}/s own`
    + ` | madoguchi regex ${fmt(lines / b.wall).padStart(9)}/s wall ${fmt(lines / b.cpu).padStart(9)}/s cpu | engine ${fmt(lines / e.wall).padStart(9)}/s`
    + ` | ratio ${wall.toFixed(1)}x wall ${cpu.toFixed(1)}x cpu ${eng.toFixed(1)}x engine`);
  return { wall, cpu, engine: eng };
}

function geomean(xs: number[]): number { return Math.exp(xs.reduce((a, x) => a + Math.log(x), 0) / xs.length); }

async function main(): Promise<void> {
  console.log(`# detection benchmark, ${new Date().toISOString()}, node ${process.version}`);
  const dir = mkdtempSync(join(tmpdir(), 'madoguchi-bench-'));
  try {
    if (!values['skip-sshd']) {
      const n = Number(values.lines);
      const log = join(dir, 'auth.log');
      writeFileSync(log, syntheticAuthLog(n));
      console.log(`\n## sshd.conf over a synthetic auth.log`);
      await compare('sshd', log, join(FILTERS, 'sshd.conf'), n);
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
        const r = await compare(name, log, filter, sample.length * reps);
        if (r) ratios.push(r);
      }
      if (ratios.length) {
        const g = (k: keyof Ratios) => geomean(ratios.map((r) => r[k])).toFixed(1);
        console.log(`\ngeometric mean over ${ratios.length} filters: ${g('wall')}x wall, ${g('cpu')}x cpu (both with start-up), ${g('engine')}x engine (processing only)`);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
