import { parseArgs } from 'node:util';
import { existsSync } from 'node:fs';
import { importInventory, readInventoryFile, type ImportResult } from '../../inventory/import.js';
import { UsageError, type Command } from '../command.js';

export const inventoryImport: Command = {
  name: 'inventory import',
  summary: 'import or sync customers, services and their resources from CSV or JSON',
  usage: `[--sync] [--json] FILE

FILE is CSV with the header customer_id,customer_name,customer_email,language,brand,service_id,
service_type,resource,valid_from,valid_to (optional: plan, brand_name), one row per resource; or
JSON Lines (.jsonl) of the same rows; or a JSON document (.json). The import is all-or-nothing:
any bad row is reported with its line number and nothing is written. --sync also closes current
assignments that the file no longer lists (their history is kept).`,
  async run(ctx, argv) {
    const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: {
      sync: { type: 'boolean', default: false }, json: { type: 'boolean', default: false },
    } });
    if (positionals.length !== 1) throw new UsageError('give one file');
    const file = positionals[0];
    if (!existsSync(file)) throw new UsageError(`no such file: ${file}`);
    const db = await ctx.openStore();
    const r = await importInventory(db, readInventoryFile(file), { timezone: ctx.config.desk.timezone, sync: values.sync, source: file });
    if (values.json) ctx.stdout.write(JSON.stringify(r) + '\n');
    else ctx.stdout.write(describeImport(file, r));
    return r.ok ? 0 : 1;
  },
};

export function describeImport(file: string, r: ImportResult): string {
  if (!r.ok) {
    const lines = r.errors.map((e) => `${file}:${e.line}: ${e.reason}\n`);
    if (r.moreErrors) lines.push(`... and ${r.moreErrors} more\n`);
    return lines.join('') + `nothing imported (${r.errors.length + r.moreErrors} bad row(s) of ${r.rows})\n`;
  }
  const out = [`${r.rows} row(s) read, ${r.changed} change(s)${r.closed ? `, ${r.closed} assignment(s) closed` : ''}\n`];
  if (r.conflictCount) {
    out.push(`${r.conflictCount} overlapping assignment(s) held by different services (the more specific one wins at lookup):\n`);
    for (const c of r.conflicts.slice(0, 20)) out.push(`  ${c.kind}: ${c.resource} (${c.holder}) with ${c.other} (${c.otherHolder})\n`);
  }
  return out.join('');
}
