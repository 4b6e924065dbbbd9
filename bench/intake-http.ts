// HTTP intake (issue 3): durable reports per second through POST /api/v1/reports on 127.0.0.1,
// load from wrk (each request a distinct ~6 KB report mail, so none is a duplicate). The answer
// comes at the raw commit; a report counts when it is in the store afterwards (counted in the
// database, not from wrk's answers). Behind the answers the intake worker parses, stores the events
// and runs the sinks on the same two cores: the bench also measures how fast that backlog drains
// (during the load and after it, up to --drain seconds) and the end-to-end rate.
// Run: node dist/bench/intake-http.js [--duration 15] [--connections 64] [--stores pglite,postgres] [--sinks off|on] [--drain 60]
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import { cpuBetween, serverCpu } from './server-cpu.js';
import { loadConfig } from '../src/config/config.js';
import { openDesk, type Desk } from '../src/desk.js';
import { createLogger } from '../src/log.js';
import { csvRows, importInventory } from '../src/inventory/import.js';
import { buildServer } from '../src/web/server.js';
import { createApiKey } from '../src/web/auth.js';
import { intakeWorker, stopIntake } from '../src/intake/worker.js';
import { intakeIdle } from '../src/intake/ingest.js';
import { openDb } from '../src/store/db.js';
import { migrate } from '../src/store/migrate.js';
import { eventSinks } from '../src/intake/sinks.js';

const { values } = parseArgs({ options: {
  duration: { type: 'string', default: '15' }, connections: { type: 'string', default: '64' }, threads: { type: 'string', default: '2' },
  stores: { type: 'string', default: 'pglite,postgres' },
  // The registered event sinks (case work) run in the worker, behind the answer; off drains parse + events alone.
  sinks: { type: 'string', default: 'on' },
  drain: { type: 'string', default: '60' },
} });

const APP = 'madoguchi-bench-http';

/** A fail2ban-style report mail; {ID} and {IP} vary per request. */
function template(): string {
  const lines = [];
  for (let i = 0; i < 60; i++) lines.push(`2026-11-24 09:${String(i).padStart(2, '0')}:01 sshd[${1000 + i}]: Failed password for invalid user admin${i} from 203.0.113.{IP} port ${40000 + i} ssh2`);
  return [
    'From: fail2ban <fail2ban@reporter.example>', 'To: abuse@desk.example', 'Subject: [Fail2Ban] sshd: banned 203.0.113.{IP} from reporter.example',
    'Date: Tue, 24 Nov 2026 10:00:00 +0000', 'Message-ID: <{ID}@reporter.example>', 'MIME-Version: 1.0', 'Content-Type: text/plain; charset=utf-8', '',
    'Hi,', '', 'The IP 203.0.113.{IP} has just been banned by Fail2Ban after 60 attempts against sshd.', '', 'Here are more information about 203.0.113.{IP}:',
    '', ...lines, '', 'Regards,', 'Fail2Ban', '',
  ].join('\r\n');
}

function luaScript(key: string): string {
  return `
local threads = 0
function setup(thread) thread:set("tid", threads); threads = threads + 1 end
local n = 0
local body = [==[${template()}]==]
wrk.method = "POST"
wrk.headers["Content-Type"] = "message/rfc822"
wrk.headers["Authorization"] = "Bearer ${key}"
function request()
  n = n + 1
  local id = tostring(tid) .. "-" .. tostring(n)
  local b = body:gsub("{ID}", id):gsub("{IP}", tostring(n % 250 + 1))
  return wrk.format(nil, nil, nil, b)
end
`;
}

function wrk(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (d) => { out += d; });
    p.on('error', reject);
    p.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`wrk exited ${code}: ${out}`))));
  });
}

/**
 * CPU seconds of the desk's main thread (the one that answers HTTP: the bottleneck), read from
 * /proc (clock ticks of 10 ms), and of its threads together.
 */
function mainThreadCpu(): number {
  const f = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
  const [utime, stime] = f.slice(f.lastIndexOf(')') + 2).split(' ').slice(11, 13).map(Number);
  return (utime + stime) / 100;
}

/** CPU seconds of this process, of its main thread, and of the PostgreSQL server processes serving it. */
async function cpuSeconds(desk: Desk): Promise<{ own: number; main: number; server: Map<number, number> }> {
  const c = process.cpuUsage();
  return { own: (c.user + c.system) / 1e6, main: mainThreadCpu(), server: await serverCpu(desk.db, APP) };
}

interface Counts { n: number; done: number; parsed: number; events: number; empty: number; sinksPending: number; withCases: number }

async function counts(desk: Desk): Promise<Counts> {
  return (await desk.db.query<Counts>(
    `SELECT count(*)::int AS n, count(*) FILTER (WHERE status <> 'received')::int AS done, count(*) FILTER (WHERE status = 'parsed')::int AS parsed,
            coalesce(sum(event_count), 0)::int AS events, count(*) FILTER (WHERE status <> 'received' AND event_count = 0)::int AS empty,
            count(*) FILTER (WHERE sinks_pending)::int AS "sinksPending", count(*) FILTER (WHERE cardinality(cases) > 0)::int AS "withCases"
       FROM reports`)).rows[0];
}

const fmt = (x: number) => Math.round(x).toLocaleString('en-US');
const load = () => loadavg().map((x) => x.toFixed(1)).join(' ');

async function main(): Promise<void> {
  const sinks = eventSinks.map((s) => s.name).join(', ') || 'none';
  if (values.sinks === 'off') eventSinks.length = 0;
  const drainMax = Number(values.drain) * 1000;
  const dir = mkdtempSync(join(tmpdir(), 'madoguchi-bench-http-'));
  console.log(`# intake HTTP benchmark, ${new Date().toISOString()}, node ${process.version}, wrk -t${values.threads} -c${values.connections} -d${values.duration}s, load average ${load()}`);
  console.log(`event sinks (in the intake worker): ${values.sinks === 'off' ? `off (registered: ${sinks}; --sinks on runs them)` : sinks}`);
  let failed = false;
  try {
    for (const kind of values.stores.split(',') as ('pglite' | 'postgres')[]) {
      const dataDir = mkdtempSync(join(tmpdir(), 'madoguchi-bench-http-store-'));
      const schema = `bench_${randomBytes(4).toString('hex')}`;
      const base = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
      const databaseUrl = kind === 'postgres' ? `${base}${base.includes('?') ? '&' : '?'}application_name=${APP}` : undefined;
      const db = await openDb({ dataDir, databaseUrl, schema: databaseUrl ? schema : undefined });
      await migrate(db);
      const config = loadConfig({ env: {}, file: undefined });
      config.data_dir = dataDir;
      config.intake.api.rate = 1e9;
      config.intake.api.burst = 1e9;
      const desk = await openDesk(config, createLogger('warn'), db);
      const app = await buildServer(desk);
      try {
        await importInventory(desk.db, csvRows(Readable.from(['customer_id,customer_name,customer_email,language,brand,service_id,service_type,resource,valid_from,valid_to\nc1,Sample KK,abuse@sample.example,ja,main,vps-1,vps,203.0.113.0/24,2015-01-01,\n'])), { timezone: 'UTC' });
        await desk.attribution.refresh();
        const { key } = await createApiKey(desk.db, { name: 'bench', roles: ['reporter'] });
        const url = await app.listen({ host: '127.0.0.1', port: 0 });
        const script = join(dir, 'post.lua');
        writeFileSync(script, luaScript(key));
        const c0 = await cpuSeconds(desk);
        const out = await wrk(['-t', values.threads, '-c', values.connections, '-d', `${values.duration}s`, '--latency', '-s', script, `${url}/api/v1/reports`]);
        const loadAtEnd = load();
        const c1 = await cpuSeconds(desk);
        const atEnd = await counts(desk);
        const total = Number(/(\d+) requests in/.exec(out)![1]);
        const m = /requests in ([\d.]+)(m?s)/.exec(out)!;
        const secs = Number(m[1]) / (m[2] === 'ms' ? 1000 : 1);
        const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
        const errors = /Socket errors: (.*)/.exec(out)?.[1] ?? 'none';
        const p50 = /^\s+50%\s+(\S+)/m.exec(out)?.[1], p99 = /^\s+99%\s+(\S+)/m.exec(out)?.[1];

        // The backlog the answers left behind, drained by the worker with the cores to itself.
        const d0 = Date.now();
        const worker = intakeWorker(desk);
        // Requests wrk left in flight are still being stored and handed over: wait for those first.
        let cap: NodeJS.Timeout | undefined;
        await Promise.race([intakeIdle(desk).then(() => worker.idle()), new Promise((r) => { cap = setTimeout(r, drainMax); })]);
        // An uncleared cap kept the process alive for --drain seconds after its last line.
        clearTimeout(cap);
        const drainSecs = (Date.now() - d0) / 1000;
        const c2 = await cpuSeconds(desk);
        await stopIntake(desk);
        const fin = await counts(desk);
        const cpu = (a: Awaited<ReturnType<typeof cpuSeconds>>, b: Awaited<ReturnType<typeof cpuSeconds>>) => b.own - a.own + cpuBetween(a.server, b.server);
        const acked = total - non2xx;

        console.log(`${kind}: ${total} requests in ${secs.toFixed(1)} s (${non2xx} non-2xx, socket errors: ${errors}), latency p50 ${p50}, p99 ${p99}; load average at the end ${loadAtEnd}`);
        console.log(`  answered: ${atEnd.n} reports stored = ${fmt(atEnd.n / secs)} durable reports/s = ${(atEnd.n / secs / 2000).toFixed(2)}x the 2,000/s target; `
          + `desk CPU ${cpu(c0, c1).toFixed(1)} s (main thread ${(c1.main - c0.main).toFixed(1)} s${kind === 'postgres' ? `, server ${cpuBetween(c0.server, c1.server).toFixed(1)} s` : ''}) for answering and, meanwhile, parsing ${atEnd.done}`);
        const drained = fin.done - atEnd.done;
        console.log(`  worker: ${atEnd.done} finished during the load (${fmt(atEnd.done / secs)}/s), then ${drained} in ${drainSecs.toFixed(1)} s (${fmt(drained / Math.max(0.001, drainSecs))}/s, CPU ${cpu(c1, c2).toFixed(1)} s = ${fmt(drained / Math.max(0.01, cpu(c1, c2)))} per CPU s)`
          + `${fin.n - fin.done ? `, ${fin.n - fin.done} still received after --drain ${values.drain} s` : ''}; end to end ${fmt(fin.done / (secs + drainSecs))} reports/s parsed`);
        console.log(`  store: ${fin.n} reports, ${fin.parsed} parsed, ${fin.events} events, ${fin.withCases} with case numbers, ${fin.sinksPending} with sinks pending`);
        // Checks: every answered report is stored; every finished one parsed into events; sinks done.
        const problems: string[] = [];
        if (atEnd.n < acked) problems.push(`${acked} answered 2xx but only ${atEnd.n} stored`);
        if (fin.done !== fin.parsed || fin.empty) problems.push(`${fin.done - fin.parsed} finished reports not parsed, ${fin.empty} without events`);
        if (values.sinks !== 'off' && fin.withCases < fin.done - fin.sinksPending) problems.push(`${fin.done - fin.sinksPending - fin.withCases} reports past their sinks without a case`);
        if (problems.length) { failed = true; console.log(`  CHECK FAILED: ${problems.join('; ')}`); } else console.log('  checks: every 2xx stored; every finished report parsed with events' + (values.sinks !== 'off' ? ' and in a case' : ''));
      } finally {
        await app.close();
        await stopIntake(desk);
        desk.attribution.close();
        if (kind === 'postgres') await desk.db.exec(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
        await desk.db.close();
        rmSync(dataDir, { recursive: true, force: true });
      }
    }
    console.log(`load average after: ${load()}`);
  } finally { rmSync(dir, { recursive: true, force: true }); }
  if (failed) process.exitCode = 1;
}

await main();
