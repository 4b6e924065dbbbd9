// A small realistic desk for a first look: two brands, shared hosting, VPS, dedicated, IaaS and a
// reseller, an address that changed hands, and a few reports of the usual kinds.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Desk } from './desk.js';
import { importInventory, readInventoryFile } from './inventory/import.js';
import { createApiKey } from './web/auth.js';
import { demoReportHooks } from './demo-reports.js';

const root = [join(dirname(fileURLToPath(import.meta.url)), '..', '..'), join(dirname(fileURLToPath(import.meta.url)), '..')]
  .find((d) => existsSync(join(d, 'demo', 'inventory.csv')))!;
export const demoDir = join(root, 'demo');

export async function loadDemo(desk: Desk, opts: { ifEmpty?: boolean; log: (s: string) => void }): Promise<boolean> {
  if (opts.ifEmpty) {
    const r = await desk.db.query<{ n: number }>('SELECT count(*)::int AS n FROM customers');
    if (r.rows[0].n > 0) { opts.log('demo: the database already has an inventory; left as it is'); return false; }
  }
  const inv = await importInventory(desk.db, readInventoryFile(join(demoDir, 'inventory.csv')), { timezone: desk.config.desk.timezone, source: 'demo' });
  if (!inv.ok) throw new Error(`demo inventory: ${JSON.stringify(inv.errors)}`);
  await desk.attribution.refresh();
  opts.log(`demo: inventory of ${inv.rows} resources loaded`);
  const reportsDir = join(demoDir, 'reports');
  const files = existsSync(reportsDir) ? readdirSync(reportsDir).filter((f) => !f.startsWith('.')).sort() : [];
  for (const hook of demoReportHooks) {
    for (const f of files) await hook(desk, readFileSync(join(reportsDir, f)), f);
  }
  if (files.length && demoReportHooks.length) opts.log(`demo: ${files.length} reports taken in`);
  const key = await createApiKey(desk.db, { name: 'demo operator', roles: ['operator', 'admin'] });
  opts.log(`demo: operator API key (shown once): ${key.key}`);
  return true;
}
