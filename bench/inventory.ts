// Inventory import benchmark (issue 2, "a 2 GB import file, streamed"): rows per second and the
// peak memory of `madoguchi inventory import` on a generated CSV, embedded and server database.
// Run: node dist/bench/inventory.js [--rows N] [--database-url URL]
import { spawnSync } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { once } from 'node:events';

const { values } = parseArgs({ options: {
  rows: { type: 'string', default: '1000000' },
  'database-url': { type: 'string', default: 'postgres://postgres@127.0.0.1:5432/test' },
} });
const rows = Number(values.rows);
const bin = new URL('../../bin/madoguchi.js', import.meta.url).pathname;

async function writeCsv(path: string): Promise<void> {
  const out = createWriteStream(path);
  out.write('customer_id,customer_name,customer_email,language,brand,service_id,service_type,resource,valid_from,valid_to\n');
  const types = ['shared', 'vps', 'dedicated', 'iaas', 'reseller'];
  for (let i = 0; i < rows; i++) {
    const c = Math.floor(i / 4), s = Math.floor(i / 2);
    const ip = 0x0b000000 + i * 8;
    const res = `${ip >>> 24}.${(ip >>> 16) & 255}.${(ip >>> 8) & 255}.${ip & 255}/29`;
    const line = `cust${c},"Customer ${c}, Ltd.",abuse@cust${c}.example,${c % 3 ? 'ja' : 'en'},${c % 5 ? 'main' : 'cloud'},svc${s},${types[c % 5]},${res},2020-01-01,\n`;
    if (!out.write(line)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

/** Runs the import under /usr/bin/time to read the child's peak RSS. */
function timedImport(label: string, dir: string, csv: string, env: NodeJS.ProcessEnv): void {
  const t = performance.now();
  const r = spawnSync('/usr/bin/time', ['-f', '%M', process.execPath, bin, '--data-dir', dir, 'inventory', 'import', csv], { env, encoding: 'utf8' });
  const secs = (performance.now() - t) / 1000;
  const peakKb = Number(r.stderr.trim().split('\n').pop());
  if (r.status !== 0) throw new Error(`${label}: import failed: ${r.stdout}${r.stderr}`);
  console.log(`${label}: ${rows.toLocaleString('en')} rows in ${secs.toFixed(1)} s = ${Math.round(rows / secs).toLocaleString('en')} rows/s, peak RSS ${(peakKb / 1024).toFixed(0)} MB — ${r.stdout.trim()}`);
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-inv-'));
  try {
    const csv = join(dir, 'inventory.csv');
    await writeCsv(csv);
    console.log(`# inventory import benchmark, ${new Date().toISOString()}: ${(statSync(csv).size / 1048576).toFixed(0)} MB CSV`);
    const env = { ...process.env };
    delete env.DATABASE_URL;
    timedImport('embedded (PGlite)', join(dir, 'pglite'), csv, env);
    timedImport('embedded, same file again (no changes)', join(dir, 'pglite'), csv, env);
    const schema = `bench_inv_${process.pid}`;
    const url = values['database-url']!;
    const psql = (sql: string) => spawnSync('psql', [url, '-qc', sql], { encoding: 'utf8' });
    psql(`CREATE SCHEMA ${schema}`);
    try {
      timedImport('PostgreSQL server', join(dir, 'pg'), csv, { ...env, DATABASE_URL: `${url}?options=${encodeURIComponent(`-c search_path=${schema}`)}` });
    } finally { psql(`DROP SCHEMA ${schema} CASCADE`); }
  } finally { rmSync(dir, { recursive: true, force: true }); }
}

await main();
