// HTTP intake (issue 3): durable reports per second through POST /api/v1/reports on 127.0.0.1,
// load from wrk (each request a distinct ~6 KB report mail, so none is a duplicate). A report
// counts when the answer is 2xx: stored, parsed, attributed, events committed.
// Run: node dist/bench/intake-http.js [--duration 15] [--connections 64] [--stores pglite,postgres] [--sinks off|on]
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config/config.js';
import { openDesk } from '../src/desk.js';
import { createLogger } from '../src/log.js';
import { csvRows, importInventory } from '../src/inventory/import.js';
import { buildServer } from '../src/web/server.js';
import { createApiKey } from '../src/web/auth.js';
import { intakeIdle } from '../src/intake/ingest.js';
import { makeStore } from '../test/helpers/stores.js';
import { eventSinks } from '../src/intake/sinks.js';

const { values } = parseArgs({ options: {
  duration: { type: 'string', default: '15' }, connections: { type: 'string', default: '64' }, threads: { type: 'string', default: '2' },
  stores: { type: 'string', default: 'pglite,postgres' },
  // The registered event sinks (case work) cost more than intake itself; off measures intake alone.
  sinks: { type: 'string', default: 'off' },
} });

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

async function main(): Promise<void> {
  const sinks = eventSinks.map((s) => s.name).join(', ') || 'none';
  if (values.sinks === 'off') eventSinks.length = 0;
  const dir = mkdtempSync(join(tmpdir(), 'madoguchi-bench-http-'));
  console.log(`# intake HTTP benchmark, ${new Date().toISOString()}, node ${process.version}, wrk -t${values.threads} -c${values.connections} -d${values.duration}s, load average ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  console.log(`event sinks: ${values.sinks === 'off' ? `off (registered: ${sinks}; --sinks on runs them)` : sinks}`);
  try {
    for (const kind of values.stores.split(',') as ('pglite' | 'postgres')[]) {
      const store = await makeStore(kind);
      const config = loadConfig({ env: {}, file: undefined });
      config.data_dir = store.dataDir;
      config.intake.api.rate = 1e9;
      config.intake.api.burst = 1e9;
      const desk = await openDesk(config, createLogger('warn'), await store.open());
      const app = await buildServer(desk);
      try {
        await importInventory(desk.db, csvRows(Readable.from(['customer_id,customer_name,customer_email,language,brand,service_id,service_type,resource,valid_from,valid_to\nc1,Sample KK,abuse@sample.example,ja,main,vps-1,vps,203.0.113.0/24,2015-01-01,\n'])), { timezone: 'UTC' });
        await desk.attribution.refresh();
        const { key } = await createApiKey(desk.db, { name: 'bench', roles: ['reporter'] });
        const url = await app.listen({ host: '127.0.0.1', port: 0 });
        const script = join(dir, 'post.lua');
        writeFileSync(script, luaScript(key));
        const c0 = process.cpuUsage();
        const out = await wrk(['-t', values.threads, '-c', values.connections, '-d', `${values.duration}s`, '--latency', '-s', script, `${url}/api/v1/reports`]);
        const cpu = process.cpuUsage(c0);
        await intakeIdle(desk);
        const total = Number(/(\d+) requests in ([\d.]+)(m?s)/.exec(out)![1]);
        const m = /requests in ([\d.]+)(m?s)/.exec(out)!;
        const secs = Number(m[1]) / (m[2] === 'ms' ? 1000 : 1);
        const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
        const errors = /Socket errors: (.*)/.exec(out)?.[1] ?? 'none';
        const p50 = /50%\s+(\S+)/.exec(out)?.[1], p99 = /99%\s+(\S+)/.exec(out)?.[1];
        const db = (await desk.db.query<{ n: number; parsed: number; events: number }>(
          `SELECT count(*)::int AS n, count(*) FILTER (WHERE status = 'parsed')::int AS parsed, coalesce(sum(event_count), 0)::int AS events FROM reports`)).rows[0];
        const durable = db.n / secs;
        console.log(`${kind.padEnd(8)}: ${total} requests in ${secs.toFixed(1)} s, ${non2xx} non-2xx, socket errors: ${errors}; `
          + `${db.n} reports stored (${db.parsed} parsed, ${db.events} events) = ${Math.round(durable).toLocaleString('en-US')} durable reports/s `
          + `= ${(durable / 2000).toFixed(2)}x the 2,000/s target; latency p50 ${p50}, p99 ${p99}; `
          + `desk CPU ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s = ${Math.round(db.n / ((cpu.user + cpu.system) / 1e6))} reports per CPU second${kind === 'postgres' ? ' (server CPU not counted)' : ''}`);
      } finally {
        await app.close();
        desk.attribution.close();
        await desk.db.close();
        await store.cleanup();
      }
    }
    console.log(`load average after: ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  } finally { rmSync(dir, { recursive: true, force: true }); }
}

await main();
