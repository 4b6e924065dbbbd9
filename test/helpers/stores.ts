// Runs a suite against both storage back ends: embedded PGlite in a temporary directory and the
// PostgreSQL server (TEST_DATABASE_URL), each in a schema of its own so that suites do not meet.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { after, before, describe } from 'node:test';
import { openDb, type Db } from '../../src/store/db.js';
import { migrate } from '../../src/store/migrate.js';

export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface TestStore {
  kind: 'pglite' | 'postgres';
  /** Opens (another connection to) the same database and schema, migrated. */
  open(): Promise<Db>;
  /** Options to pass to openDb / loadConfig for a child process to reach the same store. */
  dataDir: string;
  databaseUrl?: string;
  schema?: string;
  /** Arguments and environment that make a `madoguchi` child process use this store. */
  cli(): { args: string[]; env: NodeJS.ProcessEnv };
  cleanup(): Promise<void>;
}

/** A DATABASE_URL that puts a client straight into `schema`. */
export function urlWithSchema(url: string, schema: string): string {
  return `${url}${url.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${schema}`)}`;
}

export async function makeStore(kind: 'pglite' | 'postgres'): Promise<TestStore> {
  const dataDir = mkdtempSync(join(tmpdir(), 'madoguchi-test-'));
  if (kind === 'pglite') {
    return {
      kind, dataDir,
      async open() { const db = await openDb({ dataDir }); await migrate(db); return db; },
      cli() { const env = { ...process.env }; delete env.DATABASE_URL; return { args: ['--data-dir', dataDir], env }; },
      async cleanup() { rmSync(dataDir, { recursive: true, force: true }); },
    };
  }
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const databaseUrl = TEST_DATABASE_URL;
  // Created now so that child processes given cli() find it.
  const admin = await openDb({ dataDir, databaseUrl, schema });
  await admin.close();
  return {
    kind, dataDir, databaseUrl, schema,
    async open() { const db = await openDb({ dataDir, databaseUrl, schema }); await migrate(db); return db; },
    cli() { return { args: ['--data-dir', dataDir], env: { ...process.env, DATABASE_URL: urlWithSchema(databaseUrl, schema) } }; },
    async cleanup() {
      const db = await openDb({ dataDir, databaseUrl });
      await db.exec(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await db.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** describe(`${name} [pglite]`) and describe(`${name} [postgres]`), each given its own store. */
export function forEachStore(name: string, body: (store: () => TestStore) => void): void {
  for (const kind of ['pglite', 'postgres'] as const) {
    describe(`${name} [${kind}]`, () => {
      let store: TestStore;
      before(async () => { store = await makeStore(kind); });
      after(async () => { await store?.cleanup(); });
      body(() => store);
    });
  }
}
