import { parseArgs } from 'node:util';
import { openDesk } from '../../desk.js';
import { ingestPaths, type FileOutcome } from '../../intake/files.js';
import { intakeIdle } from '../../intake/ingest.js';
import { UsageError, type Command } from '../command.js';

export const ingest: Command = {
  name: 'ingest',
  summary: 'store and parse reports from files: .eml, mbox, maildir, CSV feeds',
  usage: `[--json] FILE|DIR...

Each message (an .eml or other single file, every message of an mbox, every message in a maildir's
new/ and cur/) becomes a report, stored raw before it is parsed; a CSV feed (*.csv) is streamed
into one report with one event per row. A directory that is not a maildir is walked. Messages the
desk already has are recognised and counted, not doubled. The files are not changed.
--json prints one line per report: {"file", "message", "id", "duplicate", "status", "events", "reason"}.
Exit status 1 when something could not be stored.`,
  async run(ctx, argv) {
    const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { json: { type: 'boolean', default: false } } });
    if (!positionals.length) throw new UsageError('give at least one file or directory');
    const desk = await openDesk(ctx.config, ctx.log, await ctx.openStore());
    const tally = { stored: 0, duplicate: 0, quarantined: 0, rejected: 0, failed: 0, events: 0 };
    try {
      for await (const o of ingestPaths(desk, positionals)) {
        count(tally, o);
        ctx.stdout.write(values.json ? JSON.stringify(line(o)) + '\n' : human(o));
      }
      await intakeIdle(desk);
    } finally { desk.attribution.close(); }
    ctx.stderr.write(`${tally.stored} report(s) stored (${tally.quarantined} quarantined, ${tally.rejected} not abuse reports), `
      + `${tally.duplicate} already known, ${tally.failed} not stored; ${tally.events} event(s)\n`);
    return tally.failed ? 1 : 0;
  },
};

function count(t: Record<string, number>, o: FileOutcome): void {
  const r = o.result;
  if (!r) { t.failed++; return; }
  if (r.duplicate) { t.duplicate++; return; }
  t.stored++;
  t.events += r.events;
  if (r.status === 'quarantined' || r.status === 'rejected') t[r.status]++;
}

function line(o: FileOutcome) {
  const r = o.result;
  return {
    file: o.file, message: o.message ?? null,
    ...(r ? { id: r.reportId, duplicate: r.duplicate, status: r.status, events: r.events, reason: r.reason, cases: r.cases } : { error: o.error }),
  };
}

function human(o: FileOutcome): string {
  const where = o.message ? `${o.file} #${o.message}` : o.file;
  const r = o.result;
  if (!r) return `${where}: not stored: ${o.error}\n`;
  if (r.duplicate) return `${where}: already report ${r.reportId}\n`;
  return `${where}: report ${r.reportId} ${r.status}${r.reason ? ` (${r.reason})` : ''}, ${r.events} event(s)${r.cases.length ? `, case ${r.cases.join(', ')}` : ''}\n`;
}
