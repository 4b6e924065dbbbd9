import { test } from 'node:test';
import assert from 'node:assert/strict';
import { forEachStore } from './helpers/stores.js';
import { execFileSync } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDb, DatabaseUnavailable, DataDirLocked } from '../src/store/db.js';
import { migrate } from '../src/store/migrate.js';

forEachStore('store', (store) => {
  test('migrations apply once and are recorded', async () => {
    const db = await store().open();
    try {
      const r = await db.query<{ version: string }>('SELECT version FROM schema_migrations ORDER BY version');
      assert.ok(r.rows.some((x) => x.version === '001_inventory'));
      assert.deepEqual(await migrate(db), []);
      const r2 = await db.query('SELECT count(*)::int AS n FROM schema_migrations');
      assert.equal((r2.rows[0] as { n: number }).n, r.rows.length);
    } finally { await db.close(); }
  });

  test('a failed transaction leaves nothing behind', async () => {
    const db = await store().open();
    try {
      await assert.rejects(db.transaction(async (tx) => {
        await tx.query(`INSERT INTO brands (id, name) VALUES ('b1', 'Brand one')`);
        throw new Error('boom');
      }), /boom/);
      const r = await db.query(`SELECT * FROM brands WHERE id = 'b1'`);
      assert.equal(r.rows.length, 0);
      await db.transaction(async (tx) => { await tx.query(`INSERT INTO brands (id, name) VALUES ('b2', 'Brand two')`); });
      assert.equal((await db.query(`SELECT * FROM brands WHERE id = 'b2'`)).rows.length, 1);
    } finally { await db.close(); }
  });

  test("database errors keep PostgreSQL's fields; bytea comes back as a Buffer", async () => {
    const db = await store().open();
    try {
      await db.query(`INSERT INTO brands (id, name) VALUES ('b4', 'Brand four')`);
      await assert.rejects(db.query(`INSERT INTO brands (id, name) VALUES ('b4', 'again')`),
        (e: Error & { code?: string; constraint?: string }) => e.code === '23505' && /duplicate key/.test(e.message) && typeof e.constraint === 'string');
      const bytes = Buffer.from([0, 1, 2, 254, 255]);
      const r = await db.query<{ b: Buffer }>('SELECT $1::bytea AS b', [bytes]);
      assert.ok(Buffer.isBuffer(r.rows[0].b));
      assert.deepEqual(r.rows[0].b, bytes);
      // A failed transaction is rolled back and the connection is usable again.
      await assert.rejects(db.transaction(async (tx) => { await tx.query('SELECT 1/0'); }), (e: Error & { code?: string }) => e.code === '22012');
      assert.equal((await db.query<{ n: number }>('SELECT 1 AS n')).rows[0].n, 1);
    } finally { await db.close(); }
  });
});

// The node:test timeout turns a hang into a failure; it is not a performance assertion.
test('a DATABASE_URL whose server never answers gives a clear error, not a hang', { timeout: 20000 }, async () => {
  const silent = createServer(() => { /* accepts and says nothing */ });
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  const port = (silent.address() as AddressInfo).port;
  try {
    await assert.rejects(openDb({ dataDir: '/tmp', databaseUrl: `postgres://u:secret@127.0.0.1:${port}/x`, connectTimeoutMs: 1500 }),
      (e: Error) => e instanceof DatabaseUnavailable && /cannot reach the database/.test(e.message) && !e.message.includes('secret'));
  } finally { silent.close(); }
});

test('a refused connection gives a clear error', { timeout: 20000 }, async () => {
  await assert.rejects(openDb({ dataDir: '/tmp', databaseUrl: 'postgres://u@127.0.0.1:9/x', connectTimeoutMs: 1500 }), DatabaseUnavailable);
});

// PGlite has one connection, on its own thread: a statement from outside an open transaction waits
// for it to end, as it did when PGlite ran on the desk's thread.
test('embedded: a statement from outside an open transaction waits for its commit', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'madoguchi-tx-'));
  const db = await openDb({ dataDir: dir });
  await migrate(db);
  try {
    let outside: Promise<unknown> | undefined;
    await db.transaction(async (tx) => {
      await tx.query(`INSERT INTO brands (id, name) VALUES ('b3', 'Brand three')`);
      outside = db.query(`SELECT count(*)::int AS n FROM brands WHERE id = 'b3'`);
      // Give the outside statement every chance to run before the commit.
      await new Promise((r) => setTimeout(r, 50));
      assert.equal((await tx.query<{ n: number }>(`SELECT count(*)::int AS n FROM brands WHERE id = 'b3'`)).rows[0].n, 1);
    });
    assert.equal(((await outside) as { rows: { n: number }[] }).rows[0].n, 1);
  } finally { await db.close(); rmSync(dir, { recursive: true, force: true }); }
});


// The embedded database runs on a thread of its own; a command that never closes it must still end.
test('a process that leaves the embedded database open still exits', { timeout: 60000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'madoguchi-exit-'));
  try {
    const script = `import { openDb } from ${JSON.stringify(new URL('../src/store/db.js', import.meta.url).href)};
      const db = await openDb({ dataDir: ${JSON.stringify(dir)} });
      const r = await db.query('SELECT 41 + 1 AS n');
      process.stdout.write(String(r.rows[0].n));`;
    writeFileSync(join(dir, 'forget.mjs'), script);
    const out = execFileSync(process.execPath, [join(dir, 'forget.mjs')], { encoding: 'utf8', timeout: 45000 });
    assert.equal(out, '42');
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('the embedded database refuses a second opener instead of corrupting', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'madoguchi-lock-'));
  const db = await openDb({ dataDir: dir });
  try {
    await assert.rejects(openDb({ dataDir: dir }), DataDirLocked);
  } finally { await db.close(); rmSync(dir, { recursive: true, force: true }); }
});
