import { test } from 'node:test';
import assert from 'node:assert/strict';
import { forEachStore } from './helpers/stores.js';
import { createServer, type AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
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

test('the embedded database refuses a second opener instead of corrupting', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'madoguchi-lock-'));
  const db = await openDb({ dataDir: dir });
  try {
    await assert.rejects(openDb({ dataDir: dir }), DataDirLocked);
  } finally { await db.close(); rmSync(dir, { recursive: true, force: true }); }
});
