// One SQL dialect (PostgreSQL) behind two drivers: PGlite embedded in a data directory, or a
// PostgreSQL server named by DATABASE_URL. Domain code sees only `Db`.
import { mkdirSync, openSync, closeSync, writeSync, readFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { startPgliteThread, type PgliteThread } from './pglite-thread.js';

export interface QueryResult<T> { rows: T[]; affectedRows?: number }

export interface Db {
  readonly kind: 'pglite' | 'postgres';
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<QueryResult<T>>;
  /** Runs SQL without parameters that may hold several statements (migrations). */
  exec(sql: string): Promise<void>;
  /**
   * COPY into `target` (`table (columns)`, from code, never from input) from `data` in COPY's text
   * format; returns the number of rows copied. The cheapest way in for large batches of rows.
   */
  copyFrom(target: string, data: string): Promise<number>;
  /** Runs fn inside one transaction: all of it commits or none of it does. */
  transaction<T>(fn: (tx: Db) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export interface OpenOptions {
  dataDir: string;
  databaseUrl?: string;
  /** PostgreSQL schema to use (tests isolate themselves in one); created when missing. */
  schema?: string;
  connectTimeoutMs?: number;
}

export class DatabaseUnavailable extends Error {}

export async function openDb(opts: OpenOptions): Promise<Db> {
  return opts.databaseUrl ? openPostgres(opts.databaseUrl, opts) : openPglite(opts.dataDir, opts);
}

async function openPglite(dataDir: string, opts: OpenOptions): Promise<Db> {
  const dir = join(dataDir, 'pg');
  mkdirSync(dir, { recursive: true });
  const releaseLock = lockDataDir(dataDir);
  let pg: PgliteThread | undefined;
  try {
    pg = await startPgliteThread({ dir });
    if (opts.schema) await pg.exec(`CREATE SCHEMA IF NOT EXISTS ${ident(opts.schema)}; SET search_path TO ${ident(opts.schema)}`);
  } catch (e) {
    await pg?.close().catch(() => undefined);
    releaseLock();
    throw e;
  }
  const wrap = (tx: number | undefined): Db => ({
    kind: 'pglite',
    query: <T>(sql: string, params?: unknown[]) => pg.query<T>(sql, params, tx),
    exec: (sql: string) => pg.exec(sql, tx),
    copyFrom: (target: string, data: string) => pg.copyFrom(target, data, tx),
    async transaction<T>(fn: (tx: Db) => Promise<T>): Promise<T> {
      // PGlite has one connection; a nested transaction runs inside the outer one.
      if (tx !== undefined) return fn(wrap(tx));
      const t = await pg.begin();
      let out: T;
      try {
        out = await fn(wrap(t));
      } catch (e) {
        await pg.end(t, false);
        throw e;
      }
      await pg.end(t, true);
      return out;
    },
    async close() { if (tx === undefined) { await pg.close(); releaseLock(); } },
  });
  return wrap(undefined);
}

async function openPostgres(url: string, opts: OpenOptions): Promise<Db> {
  const pgmod = await import('pg');
  const Pool = pgmod.default.Pool;
  const timeout = opts.connectTimeoutMs ?? 5000;
  const pool = new Pool({
    connectionString: url,
    connectionTimeoutMillis: timeout,
    max: 8,
    options: opts.schema ? `-c search_path=${opts.schema}` : undefined,
  });
  pool.on('error', () => { /* an idle client died; the next checkout reconnects */ });
  try {
    const c = await pool.connect();
    try {
      if (opts.schema) await c.query(`CREATE SCHEMA IF NOT EXISTS ${ident(opts.schema)}`);
    } finally { c.release(); }
  } catch (e) {
    await pool.end().catch(() => undefined);
    throw new DatabaseUnavailable(`cannot reach the database at ${redactUrl(url)}: ${(e as Error).message}`);
  }
  type Client = { query: (sql: string, params?: unknown[]) => Promise<{ rows: unknown[]; rowCount: number | null }> };
  const wrap = (c: Client | null): Db => ({
    kind: 'postgres',
    async query<T>(sql: string, params?: unknown[]) {
      const r = await (c ?? pool).query(sql, params);
      return { rows: r.rows as T[], affectedRows: r.rowCount ?? undefined };
    },
    async exec(sql: string) { await (c ?? pool).query(sql); },
    async copyFrom(target: string, data: string) {
      if (c) return copyIn(c, `COPY ${target} FROM STDIN`, data);
      const client = await pool.connect();
      try { return await copyIn(client, `COPY ${target} FROM STDIN`, data); } finally { client.release(); }
    },
    async transaction<T>(fn: (tx: Db) => Promise<T>): Promise<T> {
      if (c) return fn(wrap(c));
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const out = await fn(wrap(client));
        await client.query('COMMIT');
        return out;
      } catch (e) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw e;
      } finally { client.release(); }
    },
    async close() { if (!c) await pool.end(); },
  });
  return wrap(null);
}

/** The parts of node-postgres's connection that COPY FROM STDIN needs (what pg-copy-streams uses). */
interface PgConnection { query(sql: string): void; sendCopyFromChunk(chunk: Buffer): void; endCopyFrom(): void }

/**
 * COPY ... FROM STDIN on a node-postgres client: a "submittable" given to client.query, driven by
 * the client's protocol callbacks. The data goes out in one piece (a batch is held anyway).
 */
function copyIn(client: object, sql: string, data: string): Promise<number> {
  return new Promise((resolve, reject) => {
    let rows = 0;
    let settled = false;
    const settle = (e: Error | null) => { if (!settled) { settled = true; if (e) reject(e); else resolve(rows); } };
    (client as { query(submittable: object): void }).query({
      submit(connection: PgConnection) { connection.query(sql); },
      handleCopyInResponse(connection: PgConnection) {
        connection.sendCopyFromChunk(Buffer.from(data));
        connection.endCopyFrom();
      },
      handleCommandComplete(msg: { text: string }) { rows = Number(msg.text.split(' ').pop()) || 0; },
      handleError(e: Error) { settle(e); },
      handleReadyForQuery() { settle(null); },
      handleRowDescription() { /* COPY FROM returns no rows */ },
      handleDataRow() { /* idem */ },
      handleEmptyQuery() { /* idem */ },
      handlePortalSuspended() { /* idem */ },
      handleCopyData() { /* idem */ },
    });
  });
}

function ident(name: string): string {
  if (!/^[a-z_][a-z0-9_]*$/i.test(name)) throw new Error(`bad schema name: ${name}`);
  return `"${name}"`;
}

export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
}

export class DataDirLocked extends DatabaseUnavailable {}

/**
 * The embedded database belongs to one process at a time: a second opener would corrupt it.
 * A lock file holds the owner's PID; a lock left by a dead process is taken over.
 */
function lockDataDir(dataDir: string): () => void {
  const path = join(dataDir, 'madoguchi.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      let released = false;
      const release = () => { if (!released) { released = true; try { unlinkSync(path); } catch { /* already gone */ } } };
      process.once('exit', release);
      return release;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const pid = Number(readFileSync(path, 'utf8').trim());
      if (pid && pid !== process.pid && isAlive(pid)) {
        throw new DataDirLocked(`the embedded database in ${dataDir} is in use by process ${pid} (a running desk?): use its HTTP API, stop it, or set DATABASE_URL`);
      }
      if (pid === process.pid) throw new DataDirLocked(`the embedded database in ${dataDir} is already open in this process`);
      try { unlinkSync(path); } catch { /* raced with another taker */ }
    }
  }
  throw new DataDirLocked(`cannot lock ${dataDir}`);
}

function isAlive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch (e) { return (e as NodeJS.ErrnoException).code === 'EPERM'; }
}
