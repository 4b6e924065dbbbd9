import { parseArgs } from 'node:util';
import { openDesk } from '../../desk.js';
import { processReport, type ReportStatus } from '../../intake/ingest.js';
import type { Db } from '../../store/db.js';
import { UsageError, type Command } from '../command.js';

const STATUSES = ['received', 'parsed', 'rejected', 'quarantined'];

export const reparse: Command = {
  name: 'reparse',
  summary: 'run the parsers again over stored reports (after an upgrade or a parser fix)',
  usage: `[--json] (--all | --status STATUS... | ID...)

Reads each report's raw bytes back from the store and parses them again; the report's events are
replaced (the sinks are told it is a reparse). --status takes received, parsed, rejected or
quarantined and may be repeated: --status quarantined retries the quarantine.`,
  async run(ctx, argv) {
    const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: {
      all: { type: 'boolean', default: false }, status: { type: 'string', multiple: true, default: [] }, json: { type: 'boolean', default: false },
    } });
    const ids = positionals.map((p) => {
      if (!/^\d+$/.test(p)) throw new UsageError(`not a report id: ${p}`);
      return Number(p);
    });
    const statuses = values.status;
    for (const s of statuses) if (!STATUSES.includes(s)) throw new UsageError(`unknown status '${s}' (${STATUSES.join(', ')})`);
    if ([values.all, statuses.length > 0, ids.length > 0].filter(Boolean).length !== 1) throw new UsageError('give --all, --status or report ids (one of them)');
    const desk = await openDesk(ctx.config, ctx.log, await ctx.openStore());
    const moved: Record<string, number> = {};
    let done = 0, failed = 0;
    try {
      for await (const id of selected(desk.db, values.all ? STATUSES : statuses, ids)) {
        try {
          const r = await processReport(desk, id);
          done++;
          moved[r.status] = (moved[r.status] ?? 0) + 1;
          if (values.json) ctx.stdout.write(JSON.stringify({ id, status: r.status, parser: r.parser, events: r.events, reason: r.reason }) + '\n');
        } catch (e) {
          failed++;
          ctx.stderr.write(`report ${id}: ${(e as Error).message}\n`);
        }
      }
    } finally { desk.attribution.close(); }
    ctx.stderr.write(`${done} report(s) parsed again: ${Object.entries(moved).map(([s, n]) => `${n} ${s}`).join(', ') || 'none'}${failed ? `; ${failed} failed` : ''}\n`);
    return failed ? 1 : 0;
  },
};

/** Report ids in order, a page at a time, so that a store of millions is walked in bounded memory. */
async function* selected(db: Db, statuses: string[], ids: number[]): AsyncGenerator<number> {
  if (ids.length) { yield* ids; return; }
  let after = 0;
  for (;;) {
    const r = await db.query<{ id: string }>('SELECT id FROM reports WHERE status = ANY($1::text[]) AND id > $2 ORDER BY id LIMIT 500', [statuses as ReportStatus[], after]);
    if (!r.rows.length) return;
    for (const row of r.rows) yield (after = Number(row.id));
  }
}
