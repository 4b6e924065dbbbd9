// Versioned migrations: src/store/migrations/NNN_name.sql, applied in order, each in its own
// transaction, recorded in schema_migrations. Number ranges per area keep parallel work apart:
// 001-009 foundation/inventory, 010-019 intake, 020-029 blocklists, 030-039 cases/notices,
// 040-049 detection.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Db } from './db.js';

// SQL files stay in src/ (tsc does not copy them); dist/src/store -> ../../../src/store/migrations.
const here = dirname(fileURLToPath(import.meta.url));
export const migrationsDir = [join(here, 'migrations'), join(here, '../../../src/store/migrations')]
  .find((d) => { try { return readdirSync(d).some((f) => f.endsWith('.sql')); } catch { return false; } })!;

export async function migrate(db: Db): Promise<string[]> {
  await db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`);
  const done = new Set((await db.query<{ version: string }>('SELECT version FROM schema_migrations')).rows.map((r) => r.version));
  const files = readdirSync(migrationsDir).filter((f) => /^\d{3}_.+\.sql$/.test(f)).sort();
  const applied: string[] = [];
  for (const f of files) {
    const version = f.replace(/\.sql$/, '');
    if (done.has(version)) continue;
    const sql = readFileSync(join(migrationsDir, f), 'utf8');
    await db.transaction(async (tx) => {
      // Two processes starting at once must not apply the same migration twice.
      await tx.query('SELECT pg_advisory_xact_lock(7242)');
      const again = await tx.query('SELECT 1 FROM schema_migrations WHERE version = $1', [version]);
      if (again.rows.length) return;
      await tx.exec(sql);
      await tx.query('INSERT INTO schema_migrations (version) VALUES ($1)', [version]);
    });
    applied.push(version);
  }
  return applied;
}
