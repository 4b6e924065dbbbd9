// The embedded database on a thread of its own. PGlite is PostgreSQL compiled to WebAssembly: in
// the thread that also answers HTTP and parses reports it took about half of that thread's time at
// full intake (bench/RESULTS.md). Here it runs in a worker thread and the desk's thread only sends
// statements and receives rows, so the database and the rest of the desk use both cores.
// Semantics are PGlite's own: one connection; a transaction holds it, and statements from outside
// the transaction wait until it ends.
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import type { PGlite, Transaction } from '@electric-sql/pglite';
import type { QueryResult } from './db.js';

export interface PgliteThreadOptions { dir: string }

/** A statement for the database thread; `tx` names the transaction it belongs to, if any. */
type Request =
  | { id: number; op: 'query'; tx?: number; sql: string; params?: unknown[] }
  | { id: number; op: 'exec'; tx?: number; sql: string }
  | { id: number; op: 'copy'; tx?: number; target: string; data: string }
  | { id: number; op: 'begin'; tx: number }
  | { id: number; op: 'end'; tx: number; commit: boolean }
  | { id: number; op: 'close' };
/** A request before it is numbered. */
type Unsent = Request extends infer R ? (R extends unknown ? Omit<R, 'id'> : never) : never;

/** What a database error carries besides its message (PostgreSQL's error fields). */
const ERROR_FIELDS = ['code', 'detail', 'hint', 'position', 'severity', 'schema', 'table', 'column', 'constraint', 'where'] as const;
type ErrorData = { message: string } & Partial<Record<(typeof ERROR_FIELDS)[number], unknown>>;

type Answer =
  | { id: number; ok: true; rows?: unknown[]; affectedRows?: number; bytea?: string[] }
  | { id: number; ok: false; error: ErrorData };

const BYTEA = 17;

export interface PgliteThread {
  query<T>(sql: string, params: unknown[] | undefined, tx?: number): Promise<QueryResult<T>>;
  exec(sql: string, tx?: number): Promise<void>;
  copyFrom(target: string, data: string, tx?: number): Promise<number>;
  /** Opens a transaction on the database thread; its statements carry the number returned. */
  begin(): Promise<number>;
  end(tx: number, commit: boolean): Promise<void>;
  close(): Promise<void>;
}

/** Starts the database thread and opens the database in it. */
export async function startPgliteThread(opts: PgliteThreadOptions): Promise<PgliteThread> {
  const thread = new Worker(new URL(import.meta.url), { workerData: { madoguchiPglite: opts } });
  const pending = new Map<number, { resolve: (a: Answer & { ok: true }) => void; reject: (e: Error) => void }>();
  let next = 0;
  let nextTx = 1;
  let dead: Error | null = null;

  thread.on('message', (a: Answer) => {
    const p = pending.get(a.id);
    pending.delete(a.id);
    // Idle, the thread keeps nothing alive: a process that forgets to close exits as it did before.
    if (!pending.size) thread.unref();
    if (!p) return;
    if (a.ok) p.resolve(a); else p.reject(Object.assign(new Error(a.error.message), a.error));
  });
  const fail = (e: Error) => {
    dead ??= e;
    for (const p of pending.values()) p.reject(e);
    pending.clear();
  };
  thread.on('error', fail);
  thread.on('exit', (code) => fail(new Error(`the embedded database thread exited (${code})`)));

  const send = (req: Unsent): Promise<Answer & { ok: true }> => new Promise((resolve, reject) => {
    if (dead) { reject(dead); return; }
    const id = next++;
    pending.set(id, { resolve, reject });
    thread.ref();
    thread.postMessage({ ...req, id });
  });

  // Opening: the thread answers id 0 once PGlite is up (or with the error that stopped it).
  await new Promise<void>((resolve, reject) => {
    pending.set(next++, { resolve: () => resolve(), reject });
  });

  return {
    async query<T>(sql: string, params: unknown[] | undefined, tx?: number) {
      const a = await send({ op: 'query', sql, params, tx });
      const rows = a.rows as Record<string, unknown>[];
      // bytea values cross the thread boundary as Uint8Array; the desk reads them as Buffer.
      if (a.bytea) {
        for (const row of rows) {
          for (const k of a.bytea) {
            const v = row[k];
            if (v instanceof Uint8Array) row[k] = Buffer.from(v.buffer, v.byteOffset, v.byteLength);
          }
        }
      }
      return { rows: rows as T[], affectedRows: a.affectedRows };
    },
    async exec(sql: string, tx?: number) { await send({ op: 'exec', sql, tx }); },
    async copyFrom(target: string, data: string, tx?: number) { return (await send({ op: 'copy', target, data, tx })).affectedRows ?? 0; },
    async begin() {
      const tx = nextTx++;
      await send({ op: 'begin', tx });
      return tx;
    },
    async end(tx: number, commit: boolean) { await send({ op: 'end', tx, commit }); },
    async close() {
      if (dead) return;
      await send({ op: 'close' });
      await thread.terminate();
    },
  };
}

function errorData(e: unknown): ErrorData {
  const err = e as Record<string, unknown>;
  const out: ErrorData = { message: e instanceof Error ? e.message : String(e) };
  for (const k of ERROR_FIELDS) if (err && err[k] !== undefined) out[k] = err[k];
  return out;
}

/** Thrown inside a transaction on the database thread to make PGlite roll it back. */
class Rollback extends Error {}

async function serve(opts: PgliteThreadOptions): Promise<void> {
  const port = parentPort!;
  const answer = (a: Answer) => port.postMessage(a);
  let pg: PGlite;
  try {
    const { PGlite } = await import('@electric-sql/pglite');
    // bytea parameters (raw reports) go as they are, in binary format, instead of being written out
    // as hex digits one byte at a time by PGlite's default serializer; bytea results are decoded by
    // Buffer rather than by its parseInt per byte.
    pg = await PGlite.create(opts.dir, {
      serializers: { [BYTEA]: (v: Uint8Array) => v as unknown as string },
      parsers: { [BYTEA]: (hex: string) => Buffer.from(hex.slice(2), 'hex') },
    });
  } catch (e) {
    answer({ id: 0, ok: false, error: errorData(e) });
    return;
  }
  answer({ id: 0, ok: true });

  /** Open transactions: the connection to use, and how to end each. */
  const txs = new Map<number, { conn: Transaction; end: (commit: boolean) => void }>();
  /** Per open transaction: how it settled (null, or the error of its BEGIN or COMMIT). */
  const ends = new Map<number, Promise<unknown>>();
  const conn = (tx?: number): PGlite | Transaction => {
    if (tx === undefined) return pg;
    const t = txs.get(tx);
    if (!t) throw new Error(`no open transaction ${tx}`);
    return t.conn;
  };

  const handle = async (req: Request): Promise<void> => {
    switch (req.op) {
      case 'query': {
        const r = await conn(req.tx).query(req.sql, req.params as never[]);
        const bytea = r.fields.filter((f) => f.dataTypeID === BYTEA).map((f) => f.name);
        answer({ id: req.id, ok: true, rows: r.rows, affectedRows: r.affectedRows, bytea: bytea.length ? bytea : undefined });
        return;
      }
      case 'exec':
        await conn(req.tx).exec(req.sql);
        answer({ id: req.id, ok: true });
        return;
      case 'copy': {
        // PGlite reads COPY input from the /dev/blob device, given with the query.
        const r = await conn(req.tx).query(`COPY ${req.target} FROM '/dev/blob'`, [], { blob: new Blob([req.data]) });
        answer({ id: req.id, ok: true, affectedRows: r.affectedRows ?? 0 });
        return;
      }
      case 'begin': {
        const { tx, id } = req;
        // The transaction stays open, holding the connection, until its 'end' arrives.
        let opened!: () => void;
        const isOpen = new Promise<void>((r) => { opened = r; });
        const done = pg.transaction((conn) => new Promise<void>((resolve, reject) => {
          txs.set(tx, { conn, end: (commit) => (commit ? resolve() : reject(new Rollback())) });
          opened();
        }));
        // A failure to begin, or at commit, answers whichever of 'begin' and 'end' is waiting.
        const settled = done.then(() => null, (e: unknown) => (e instanceof Rollback ? null : e));
        ends.set(tx, settled);
        await Promise.race([isOpen, settled.then((e) => { if (e) throw e; })]);
        answer({ id, ok: true });
        return;
      }
      case 'end': {
        const t = txs.get(req.tx);
        const settled = ends.get(req.tx);
        txs.delete(req.tx);
        ends.delete(req.tx);
        t?.end(req.commit);
        const e = await settled;
        if (e) throw e;
        answer({ id: req.id, ok: true });
        return;
      }
      case 'close':
        await pg.close();
        answer({ id: req.id, ok: true });
        return;
    }
  };
  port.on('message', (req: Request) => {
    handle(req).catch((e: unknown) => answer({ id: req.id, ok: false, error: errorData(e) }));
  });
}

if (!isMainThread && (workerData as { madoguchiPglite?: PgliteThreadOptions } | null)?.madoguchiPglite) {
  void serve((workerData as { madoguchiPglite: PgliteThreadOptions }).madoguchiPglite);
}
