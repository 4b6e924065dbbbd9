// Cases at scale, on the embedded database and on PostgreSQL in the same run:
//  1. seeds 1,000,000 existing cases (three years of a desk, most closed),
//  2. groups a stream of events into cases in intake-sized batches and stores them
//     (open-case lookup, new numbers, case updates, event links, audit entries): events per second,
//  3. times the case list queries an operator runs (filter by state, customer, category; by age;
//     a deep page by cursor): median and 95th percentile over repeated runs.
// The events are first stored in the `events` table as intake stores them (not timed: that is
// intake's figure); the run then checks its outcome (every event linked once, the counts on the
// cases, the audit entries and the events they record) and fails loudly if it does not add up.
// node dist/bench/cases.js [--cases 1000000] [--events 200000] [--batch 5000] [--store pglite|postgres|both] [--keep DIR]
// --keep DIR seeds once and reuses the seeded database in later runs (each run works on a copy):
// PGlite's in DIR/pglite-N, PostgreSQL's as the template database bench_cases_N.
import { cpSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { cpuBetween, serverCpu } from './server-cpu.js';
import { randomBytes } from 'node:crypto';
import { openDb, type Db } from '../src/store/db.js';
import { migrate } from '../src/store/migrate.js';
import { loadConfig } from '../src/config/config.js';
import { createLogger } from '../src/log.js';
import { makeCaseEnv, groupingOptions, type CaseEnv } from '../src/cases/env.js';
import { groupEvents, type GroupInput } from '../src/cases/grouping.js';
import { listCases, type CaseFilter, type Viewer } from '../src/cases/cases.js';
import { classify } from '../src/events/event.js';
import { insertEvents } from '../src/intake/events-store.js';

const { values: o } = parseArgs({ options: {
  cases: { type: 'string', default: '1000000' }, events: { type: 'string', default: '200000' },
  batch: { type: 'string', default: '5000' }, store: { type: 'string', default: 'both' }, keep: { type: 'string' },
} });
const N_CASES = Number(o.cases);
const N_EVENTS = Number(o.events);
const BATCH = Number(o.batch);
const CUSTOMERS = 20000;
const NOW = new Date('2026-11-20T00:00:00Z');
const TYPES = ['spam', 'phishing', 'brute-force', 'scanner', 'malware-distribution', 'ddos', 'vulnerable-system', 'copyright', 'application-compromise', 'c2-server'];
const PLAYBOOKS: [string, string][] = [['spam', 'spam_phishing'], ['phishing', 'spam_phishing'], ['brute-force', 'security_incident'],
  ['malware-distribution', 'security_incident'], ['ddos', 'security_incident'], ['open-service', 'security_incident'],
  ['copyright', 'rights_infringement'], ['compromised-website', 'security_incident'], ['c2', 'security_incident'], ['other', 'other_illegal']];

/** Three years of cases: opened uniformly, closed unless recent; the last weeks still open. */
async function seed(db: Db): Promise<void> {
  await db.exec(`INSERT INTO brands (id, name) VALUES ('b', 'Bench Hosting');
    INSERT INTO customers (id, name, language, emails, brand_id) SELECT 'c' || i, 'Customer ' || i, CASE WHEN i % 3 = 0 THEN 'en' ELSE 'ja' END, ARRAY['c' || i || '@example.jp'], 'b' FROM generate_series(0, ${CUSTOMERS - 1}) i;
    INSERT INTO services (id, customer_id, type) SELECT 's' || i, 'c' || (i / 2), CASE WHEN i % 2 = 0 THEN 'shared' ELSE 'vps' END FROM generate_series(0, ${CUSTOMERS * 2 - 1}) i;`);
  const span = 3 * 365 * 86400;
  const pbs = `(ARRAY[${PLAYBOOKS.map(([p]) => `'${p}'`).join(',')}])`;
  const cats = `(ARRAY[${PLAYBOOKS.map(([, c]) => `'${c}'`).join(',')}])`;
  const chunk = 100000;
  for (let from = 1; from <= N_CASES; from += chunk) {
    const to = Math.min(N_CASES, from + chunk - 1);
    await db.exec(`INSERT INTO cases (number, year, seq, state, origin, category, abuse_type, playbook, customer_id, service_id, service_type, brand_id,
        resource, group_key, title, event_count, first_event_at, last_event_at, opened_at, first_notice_at, resolved_at, closed_at, due_at, updated_at)
      SELECT 'S' || i, 2025, i, st, 'events', ${cats}[1 + pb], ${pbs}[1 + pb], ${pbs}[1 + pb], 'c' || (svc / 2), 's' || svc,
             CASE WHEN svc % 2 = 0 THEN 'shared' ELSE 'vps' END, 'b', '192.0.2.' || (i % 250),
             'c|c' || (svc / 2) || '|s' || svc || '|' || ${pbs}[1 + pb], 'bench case', 1 + i % 7, opened, opened + interval '1 hour', opened,
             opened + interval '3 hours', CASE WHEN st IN ('resolved', 'closed') THEN opened + interval '2 days' END,
             CASE WHEN st = 'closed' THEN opened + interval '9 days' END, CASE WHEN st IN ('new', 'notified') THEN opened + interval '3 days' END, opened
        FROM (SELECT i, (i * 7919) % ${CUSTOMERS * 2} AS svc, (i * 31) % ${PLAYBOOKS.length} AS pb,
                     timestamptz '${NOW.toISOString()}' - make_interval(secs => ${span} * ((i * 104729) % ${N_CASES})::float8 / ${N_CASES}) AS opened
                FROM generate_series(${from}::bigint, ${to}::bigint) i) x,
             LATERAL (SELECT CASE WHEN opened > timestamptz '${NOW.toISOString()}' - interval '14 days'
                                  THEN (ARRAY['new', 'notified', 'customer_replied', 'escalated', 'triage'])[1 + i % 5]
                                  WHEN opened > timestamptz '${NOW.toISOString()}' - interval '60 days' THEN 'resolved' ELSE 'closed' END AS st) s`);
  }
  await db.exec(`INSERT INTO case_counters (year, last) VALUES (2025, ${N_CASES}); ANALYZE cases;`);
}

/** Stores the stream's events as intake does (reports first: events refer to them) and gives each its id. */
async function storeEvents(db: Db, stream: GroupInput[]): Promise<void> {
  const reports = stream.reduce((n, s) => Math.max(n, s.reportId ?? 0), 0);
  const r = await db.query<{ id: string }>(
    `INSERT INTO reports (sha256, size, channel, status) SELECT 'bench' || i, 100, 'smtp', 'parsed' FROM generate_series(1, $1::int) i RETURNING id`, [reports]);
  const reportIds = r.rows.map((x) => Number(x.id)).sort((a, b) => a - b);
  for (let i = 0; i < stream.length; i += BATCH) {
    const part = stream.slice(i, i + BATCH);
    for (const s of part) s.reportId = reportIds[s.reportId! - 1];
    const stored = await db.transaction((tx) => insertEvents(tx, part.map((s) => ({
      reportId: s.reportId!, source: 'report', time: s.time.toISOString(), sourceIp: null, classificationType: null,
      customerId: s.attribution?.customer_id ?? null, serviceId: s.attribution?.service_id ?? null, attributedTo: null, event: s.event,
    }))));
    stored.forEach((e, j) => { part[j].eventId = e.id; });
  }
  await db.exec('ANALYZE events; ANALYZE reports');
}

/** A day of events: most join a case of their group, some open new ones, a few are unattributed. */
function events(n: number): GroupInput[] {
  const out: GroupInput[] = new Array(n);
  for (let i = 0; i < n; i++) {
    // 3,000 services misbehave today, most with one kind of abuse, some with two.
    const svc = (i * 7907) % 3000 + (i % 4 === 0 ? 3000 : 0);
    const type = TYPES[(svc + (i % 7 === 0 ? 1 : 0)) % TYPES.length];
    const unattributed = i % 50 === 0;
    out[i] = {
      event: classify({ 'source.ip': `198.51.${(svc >> 8) & 255}.${svc & 255}`, 'destination.port': 22, 'feed.name': 'bench', raw: `bench event ${i}` }, type),
      attribution: unattributed ? null : { customer_id: `c${svc >> 1}`, service_id: `s${svc}`, service_type: svc % 2 ? 'vps' : 'shared', brand: 'b' },
      time: new Date(NOW.getTime() + (i / n) * 86400_000), eventId: i + 1, reportId: Math.floor(i / 20) + 1,
      reporter: `reporter${i % 100}@example.net`, channel: 'smtp', consent: null,
    };
  }
  return out;
}

/** CPU seconds used so far by this process and by the database server processes serving it. */
async function cpuSeconds(db: Db): Promise<{ own: number; server: Map<number, number> }> {
  const own = process.cpuUsage();
  return { own: (own.user + own.system) / 1e6, server: await serverCpu(db, 'madoguchi-bench') };
}

function cpuOfBoth(a: Awaited<ReturnType<typeof cpuSeconds>>, b: Awaited<ReturnType<typeof cpuSeconds>>): number {
  return b.own - a.own + cpuBetween(a.server, b.server);
}

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))];
}

const one = async (db: Db, sql: string): Promise<number> => Number((await db.query<{ n: string }>(sql)).rows[0].n);

/** What the grouping left behind: read from the database, not from what groupEvents said. */
async function outcome(db: Db): Promise<{ cases: number; eventCount: number; links: number; audit: number }> {
  const [cases, eventCount, links, audit] = await Promise.all([
    one(db, 'SELECT count(*) AS n FROM cases'), one(db, 'SELECT coalesce(sum(event_count), 0) AS n FROM cases'),
    one(db, 'SELECT count(*) AS n FROM case_events'), one(db, 'SELECT count(*) AS n FROM audit_log')]);
  return { cases, eventCount, links, audit };
}

function check(kind: string, what: string, got: number, want: number): void {
  if (got !== want) throw new Error(`[${kind}] outcome check failed: ${what} is ${got}, expected ${want}`);
}

/**
 * A database with N_CASES seeded cases, fresh for this run: seeded now, or (--keep) copied from the
 * kept seed, seeding that first when it is not there yet. Returns the database and how long seeding took.
 */
async function seededDb(kind: 'pglite' | 'postgres', dataDir: string): Promise<{ db: Db; seedS: number | null; /** closes the database and removes this run's copy */ drop: () => Promise<void> }> {
  const base = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  // Named so that the server processes serving the bench can be found (and their CPU time read).
  const named = (url: string) => `${url}${url.includes('?') ? '&' : '?'}application_name=madoguchi-bench`;
  const fresh = async (db: Db): Promise<number> => { await migrate(db); const t = performance.now(); await seed(db); return (performance.now() - t) / 1000; };
  if (kind === 'pglite') {
    if (!o.keep) { const db = await openDb({ dataDir }); return { db, seedS: await fresh(db), drop: () => db.close() }; }
    const kept = join(o.keep, `pglite-${N_CASES}`);
    let seedS: number | null = null;
    if (!existsSync(join(kept, 'seeded'))) {
      rmSync(kept, { recursive: true, force: true });
      const db = await openDb({ dataDir: kept });
      seedS = await fresh(db);
      await db.close();
      writeFileSync(join(kept, 'seeded'), `${N_CASES}\n`);
    }
    cpSync(join(kept, 'pg'), join(dataDir, 'pg'), { recursive: true });
    const db = await openDb({ dataDir });
    await migrate(db);
    return { db, seedS, drop: () => db.close() };
  }
  if (!o.keep) {
    const schema = `bench_${randomBytes(4).toString('hex')}`;
    const db = await openDb({ dataDir, databaseUrl: named(base), schema });
    return { db, seedS: await fresh(db), drop: async () => { try { await db.exec(`DROP SCHEMA "${schema}" CASCADE`); } finally { await db.close(); } } };
  }
  // A template database copies in seconds, where seeding takes minutes.
  const url = (name: string) => { const u = new URL(base); u.pathname = `/${name}`; return u.toString(); };
  const template = `bench_cases_${N_CASES}`;
  const run = `${template}_run`;
  const admin = await openDb({ dataDir, databaseUrl: base });
  let seedS: number | null = null;
  try {
    const exists = async (name: string) => (await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rows.length > 0;
    if (!(await exists(template))) {
      await admin.exec(`CREATE DATABASE ${template}`);
      const db = await openDb({ dataDir, databaseUrl: url(template) });
      try { seedS = await fresh(db); } catch (e) { await db.close(); await admin.exec(`DROP DATABASE ${template}`); throw e; }
      await db.exec('CHECKPOINT');
      await db.close();
    }
    await admin.exec(`DROP DATABASE IF EXISTS ${run}`);
    await admin.exec(`CREATE DATABASE ${run} TEMPLATE ${template}`);
  } finally { await admin.close(); }
  const db = await openDb({ dataDir, databaseUrl: named(url(run)) });
  await migrate(db);
  return { db, seedS, drop: async () => {
    await db.close();
    const a = await openDb({ dataDir, databaseUrl: base });
    try { await a.exec(`DROP DATABASE IF EXISTS ${run}`); } finally { await a.close(); }
  } };
}

async function run(kind: 'pglite' | 'postgres'): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-cases-'));
  const { db, seedS, drop } = await seededDb(kind, dataDir);
  try {
    const env: CaseEnv = makeCaseEnv(db, loadConfig({ env: {} }), createLogger('silent'));
    const stream = events(N_EVENTS);
    await storeEvents(db, stream);
    const before = await outcome(db);
    check(kind, 'existing cases', before.cases, N_CASES);
    const t = performance.now();
    const cpu0 = await cpuSeconds(db);
    let opened = 0;
    let touched = 0;
    let entries = 0;
    for (let i = 0; i < stream.length; i += BATCH) {
      const grouped = await groupEvents(db, stream.slice(i, i + BATCH), groupingOptions(env, new Date(NOW.getTime() + 86400_000)));
      opened += grouped.filter((g) => g.created).length;
      touched += grouped.length;
      // An entry per case opened or reopened, one for the batch's events joining open cases.
      entries += grouped.filter((g) => g.created || g.reopened).length + (grouped.some((g) => !g.created && !g.reopened) ? 1 : 0);
    }
    const groupS = (performance.now() - t) / 1000;
    const cpuS = cpuOfBoth(cpu0, await cpuSeconds(db));
    const after = await outcome(db);
    check(kind, 'event links added', after.links - before.links, N_EVENTS);
    check(kind, 'distinct events linked', await one(db, `SELECT count(DISTINCT event_id) AS n FROM case_events WHERE event_id IS NOT NULL`), N_EVENTS);
    check(kind, 'events counted on cases', after.eventCount - before.eventCount, N_EVENTS);
    check(kind, 'cases opened', after.cases - before.cases, opened);
    check(kind, 'audit entries added', after.audit - before.audit, entries);
    check(kind, 'events recorded in the audit trail', await one(db, `SELECT coalesce(sum(CASE WHEN action = 'cases.events_added'
        THEN (SELECT sum(n::int) FROM jsonb_array_elements_text(change->'events') n) ELSE (change->>'events')::int END), 0) AS n
      FROM audit_log WHERE seq > ${before.audit}`), N_EVENTS);
    console.log(`[${kind}] ${seedS === null ? `reused the kept seed of ${N_CASES.toLocaleString()} cases` : `seeded ${N_CASES.toLocaleString()} cases in ${seedS.toFixed(1)} s`}; grouped ${N_EVENTS.toLocaleString()} events in batches of ${BATCH} in ${groupS.toFixed(2)} s wall = ${Math.round(N_EVENTS / groupS).toLocaleString()} events/s; ${cpuS.toFixed(2)} CPU s (bench${kind === 'postgres' ? ' + server backends' : ', database in-process'}) = ${Math.round(N_EVENTS / cpuS).toLocaleString()} events per CPU second (checked: ${N_EVENTS.toLocaleString()} events linked once each, ${opened.toLocaleString()} new cases, ${touched.toLocaleString()} case updates in ${entries.toLocaleString()} audit entries; load ${loadavg()[0].toFixed(1)})`);
    await listQueries(kind, env);
  } finally {
    await drop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function listQueries(kind: string, env: CaseEnv): Promise<void> {
  const operator: Viewer = { actor: 'bench', roles: ['operator'], customerId: null };
  const page2 = await listCases(env, operator, { state: ['closed'] }, { limit: 1000 });
  const queries: [string, CaseFilter, 'oldest' | 'newest', string?][] = [
    ['state=notified, oldest first', { state: ['notified'] }, 'oldest'],
    ['state=closed, newest first', { state: ['closed'] }, 'newest'],
    ['customer=c1234, newest first', { customer_id: 'c1234' }, 'newest'],
    ['category=rights_infringement, oldest first', { category: 'rights_infringement' }, 'oldest'],
    ['customer=c77 + state=closed', { customer_id: 'c77', state: ['closed'] }, 'newest'],
    ['all cases, newest first', {}, 'newest'],
    ['state=closed, page after 1,000 rows (cursor)', { state: ['closed'] }, 'oldest', page2.next!],
    ['overdue', { overdue: true }, 'oldest'],
  ];
  for (const [name, f, order, after] of queries) {
    const times: number[] = [];
    let rows = 0;
    for (let i = 0; i < 30; i++) {
      const q0 = performance.now();
      rows = (await listCases(env, operator, f, { limit: 50, order, after }, new Date(NOW.getTime() + 86400_000))).cases.length;
      times.push(performance.now() - q0);
    }
    console.log(`[${kind}]   list ${name.padEnd(46)} ${rows} rows  median ${percentile(times, 0.5).toFixed(2)} ms  p95 ${percentile(times, 0.95).toFixed(2)} ms`);
  }
}

console.log(`cases bench: ${N_CASES.toLocaleString()} existing cases, ${N_EVENTS.toLocaleString()} events; 2 cores shared with other work (load ${loadavg()[0].toFixed(1)})`);
for (const kind of o.store === 'both' ? ['pglite', 'postgres'] as const : [o.store as 'pglite' | 'postgres']) await run(kind);
