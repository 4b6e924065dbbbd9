import { parseArgs } from 'node:util';
import { verifyAudit } from '../../cases/audit.js';
import type { Command } from '../command.js';

export const auditVerify: Command = {
  name: 'audit verify',
  summary: 'check the hash chain of the audit trail; names every changed or missing entry',
  usage: `[--json]

Exit code 0 when the chain is intact, 1 when an entry was changed or removed. The last line gives
the head hash: keep it elsewhere (a ticket, a signed mail) to detect a trail cut short later.`,
  async run(ctx, argv) {
    const { values } = parseArgs({ args: argv, options: { json: { type: 'boolean', default: false } } });
    const db = await ctx.openStore();
    const r = await verifyAudit(db);
    if (values.json) {
      ctx.stdout.write(`${JSON.stringify({ ok: r.problems.length === 0, ...r })}\n`);
    } else {
      for (const p of r.problems) ctx.stdout.write(`entry ${p.seq}: ${p.problem}\n`);
      ctx.stdout.write(`${r.problems.length ? 'TAMPERED' : 'ok'}: ${r.entries} entries, head ${r.head}\n`);
    }
    return r.problems.length ? 1 : 0;
  },
};
