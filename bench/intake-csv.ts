// Shadowserver CSV intake (issue 3): rows per second parsed, attributed and stored, in batches,
// with the embedded database and with PostgreSQL, through the same path as `madoguchi ingest`.
// Run: node dist/bench/intake-csv.js [--rows 1000000] [--netblocks 20000] [--stores pglite,postgres] [--sinks off|on]
import { createReadStream, createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { once } from 'node:events';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import { cpuBetween, serverCpu } from './server-cpu.js';
import { loadConfig } from '../src/config/config.js';
import { openDesk, type Desk } from '../src/desk.js';
import { createLogger } from '../src/log.js';
import { csvRows, importInventory } from '../src/inventory/import.js';
import { csvEvents } from '../src/parsers/index.js';
import { ingestFeedFile } from '../src/intake/feed.js';
import { copyLines, insertEvents, prepareEvent, type EventRow } from '../src/intake/events-store.js';
import { makeStore } from '../test/helpers/stores.js';
import { openDb } from '../src/store/db.js';
import { migrate } from '../src/store/migrate.js';
import { eventSinks } from '../src/intake/sinks.js';

const { values } = parseArgs({ options: {
  rows: { type: 'string', default: '1000000' }, netblocks: { type: 'string', default: '20000' }, stores: { type: 'string', default: 'pglite,postgres' },
  // The registered event sinks (case work) cost more than intake itself; off measures intake alone.
  sinks: { type: 'string', default: 'off' },
} });
const ROWS = Number(values.rows), NETBLOCKS = Number(values.netblocks);
const FILE_NAME = '2026-11-25-scan_ntp-asia-jp-asn64500.csv';

/** Scan rows: every other address inside an inventory /24 (10.x.y.0/24), the rest elsewhere. */
async function writeFeed(path: string): Promise<void> {
  const out = createWriteStream(path);
  out.write('"timestamp","ip","protocol","port","hostname","tag","asn","geo","region","city","naics","sic","sector","severity","version","stratum","response_size","amplification"\n');
  let buf = '';
  for (let i = 0; i < ROWS; i++) {
    const b = i % NETBLOCKS;
    const ip = i % 2 ? `10.${b >> 8}.${b & 255}.${(i >> 4) & 255}` : `172.${16 + (i & 15)}.${(i >> 4) & 255}.${(i >> 12) & 255}`;
    buf += `"2026-11-25 ${String((i >> 12) % 24).padStart(2, '0')}:${String((i >> 6) % 60).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}","${ip}","udp",123,"host-${i}.example","ntp-monitor",64500,"JP","TOKYO","CHIYODA",518210,0,"Communications, Service Provider, and Hosting Service","medium",4,2,4680,"556.17"\n`;
    if (buf.length > 1 << 20) { if (!out.write(buf)) await once(out, 'drain'); buf = ''; }
  }
  out.end(buf);
  await once(out, 'finish');
}

function inventoryCsv(): string {
  const lines = ['customer_id,customer_name,customer_email,language,brand,service_id,service_type,resource,valid_from,valid_to'];
  for (let b = 0; b < NETBLOCKS; b++) lines.push(`c${b >> 2},Customer ${b >> 2},abuse${b >> 2}@example.jp,ja,main,s${b},vps,10.${b >> 8}.${b & 255}.0/24,2015-01-01,`);
  return lines.join('\n') + '\n';
}

/** Wall-clock seconds, and CPU seconds of this process (the figure a loaded machine moves least). */
async function timed<T>(fn: () => Promise<T>): Promise<[T, number, number]> {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const r = await fn();
  const c = process.cpuUsage(c0);
  return [r, (performance.now() - t0) / 1000, (c.user + c.system) / 1e6];
}

const rate = (n: number, s: number) => `${Math.round(n / s).toLocaleString('en-US')} rows/s`;
const APP = 'madoguchi-bench-csv';

/**
 * What the database alone takes to store event rows: the same events, parsed, attributed and made
 * into COPY lines beforehand (untimed), then only insertEvents in batches of 5,000, one transaction
 * each. No parser or desk code can make ingest faster than this.
 */
async function storeFloor(desk: Desk, file: string, reportId: number): Promise<void> {
  const n = Math.min(ROWS, 200_000);
  const batches: Array<{ rows: EventRow[]; lines: string[] }> = [];
  const now = new Date().toISOString();
  let taken = 0;
  for await (const b of csvEvents(createReadStream(file, { highWaterMark: 1 << 20 }), { filename: FILE_NAME }, 5000)) {
    const rows = b.slice(0, n - taken).map((e) => prepareEvent(desk, e, reportId, 'report', now));
    batches.push({ rows, lines: copyLines(rows) });
    if ((taken += rows.length) >= n) break;
  }
  const s0 = await serverCpu(desk.db, APP);
  const [, t, cpu] = await timed(async () => {
    for (const { rows, lines } of batches) await desk.db.transaction((tx) => insertEvents(tx, rows, lines));
  });
  const server = cpuBetween(s0, await serverCpu(desk.db, APP));
  const us = (x: number) => `${(x * 1e6 / n).toFixed(1)} us`;
  console.log(`  store only (insertEvents of ready COPY lines, ${n.toLocaleString('en-US')} events), ${desk.db.kind.padEnd(8)}: ${rate(n, t)}; CPU per row: `
    + (desk.db.kind === 'postgres' ? `desk ${us(cpu)} + server ${us(server)}` : `${us(cpu)} (database in the process)`));
}

async function main(): Promise<void> {
  const sinks = eventSinks.map((s) => s.name).join(', ') || 'none';
  if (values.sinks === 'off') eventSinks.length = 0;
  const dir = mkdtempSync(join(tmpdir(), 'madoguchi-bench-csv-'));
  const file = join(dir, FILE_NAME);
  try {
    console.log(`# intake CSV benchmark, ${new Date().toISOString()}, node ${process.version}, load average ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
    await writeFeed(file);
    console.log(`event sinks: ${values.sinks === 'off' ? `off (registered: ${sinks}; --sinks on runs them)` : sinks}`);
    console.log(`feed: ${ROWS.toLocaleString('en-US')} rows, ${(statSync(file).size / 1048576).toFixed(0)} MiB; inventory: ${NETBLOCKS.toLocaleString('en-US')} netblocks`);

    const [parsed, tParse] = await timed(async () => {
      let n = 0;
      for await (const b of csvEvents(createReadStream(file, { highWaterMark: 1 << 20 }), { filename: FILE_NAME }, 5000)) n += b.length;
      return n;
    });
    console.log(`parse only (csvEvents):                ${rate(parsed, tParse)} (${tParse.toFixed(2)} s)`);

    for (const kind of values.stores.split(',') as ('pglite' | 'postgres')[]) {
      const store = await makeStore(kind);
      const config = loadConfig({ env: {}, file: undefined });
      config.data_dir = store.dataDir;
      // The server processes serving the benchmark are found by name, to count their CPU time.
      const db = kind === 'postgres'
        ? await openDb({ dataDir: store.dataDir, databaseUrl: `${store.databaseUrl}?application_name=${APP}`, schema: store.schema })
        : await store.open();
      await migrate(db);
      const desk: Desk = await openDesk(config, createLogger('warn'), db);
      try {
        const inv = await importInventory(desk.db, csvRows(Readable.from([inventoryCsv()])), { timezone: 'UTC' });
        if (!inv.ok) throw new Error(JSON.stringify(inv.errors));
        await desk.attribution.refresh();
        if (kind === values.stores.split(',')[0]) {
          const [n, t] = await timed(async () => {
            let k = 0;
            const now = new Date().toISOString();
            for await (const b of csvEvents(createReadStream(file, { highWaterMark: 1 << 20 }), { filename: FILE_NAME }, 5000)) for (const e of b) if (prepareEvent(desk, e, 1, 'report', now).customerId) k++;
            return k;
          });
          console.log(`parse + attribute (no store):          ${rate(ROWS, t)} (${t.toFixed(2)} s, ${n.toLocaleString('en-US')} attributed)`);
        }
        const s0 = await serverCpu(desk.db, APP);
        const [r, t, cpu] = await timed(() => ingestFeedFile(desk, file));
        const server = cpuBetween(s0, await serverCpu(desk.db, APP));
        // Counted in the database, not taken from what ingest said.
        const check = (await desk.db.query<{ n: number; ours: number; ids: number }>(
          'SELECT count(*)::int AS n, count(customer_id)::int AS ours, count(DISTINCT id)::int AS ids FROM events WHERE report_id = $1', [r.reportId])).rows[0];
        const cases = values.sinks === 'off' ? null : (await desk.db.query<{ n: number }>('SELECT count(*)::int AS n FROM cases')).rows[0].n;
        if (r.status !== 'parsed' || r.events !== ROWS || check.n !== ROWS || check.ids !== ROWS || check.ours !== ROWS / 2) throw new Error(`unexpected result: ${JSON.stringify({ r, check })}`);
        if (cases === 0) throw new Error('the case sink ran but opened no case');
        const us = (x: number) => `${(x * 1e6 / ROWS).toFixed(1)} us`;
        console.log(`ingest (store raw + parse + attribute + store events), ${kind.padEnd(8)}: ${rate(ROWS, t)} (${t.toFixed(2)} s) = ${(ROWS / t / 100000).toFixed(2)}x the 100,000 rows/s target; `
          + (kind === 'postgres'
            ? `CPU per row: desk ${us(cpu)} + server ${us(server)}; ${Math.round(ROWS / (cpu + server)).toLocaleString('en-US')} rows per CPU second of both`
            : `CPU per row: ${us(cpu)} (database in the process); ${Math.round(ROWS / cpu).toLocaleString('en-US')} rows per CPU second`)
          + `; checked in the database: ${check.n.toLocaleString('en-US')} events (distinct ids), ${check.ours.toLocaleString('en-US')} attributed`
          + (cases === null ? '' : `, ${cases.toLocaleString('en-US')} cases`) + `; load ${loadavg()[0].toFixed(1)}`);
        await storeFloor(desk, file, r.reportId);
      } finally {
        desk.attribution.close();
        await desk.db.close();
        await store.cleanup();
      }
    }
    console.log(`load average after: ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  } finally { rmSync(dir, { recursive: true, force: true }); }
}

await main();
