// `madoguchi parse`: runs the report parsers over files without storing anything, the way to
// try a new sample. With an inventory in the data dir (or --inventory CSV) the reported
// resources are told apart from everything else a report mentions by what the desk hosts.
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openAttribution } from '../../attribution/service.js';
import { DataDirLocked } from '../../store/db.js';
import type { Config } from '../../config/config.js';
import type { Event } from '../../events/event.js';
import { csvEvents, limitsFromConfig, parseReport, type ParseContext, type ParsedReport } from '../../parsers/index.js';
import { ownedFromCsv, ownedMatcher } from '../../parsers/ours.js';
import { UsageError, type CliContext, type Command } from '../command.js';

export const parse: Command = {
  name: 'parse',
  summary: 'parse report files (mail, X-ARF JSON, CSV, zip) and print their events, storing nothing',
  usage: `[--json] [--inventory CSV] FILE...   (FILE - reads standard input)

Prints each file's parser, events, reporter and whether it was rejected (bounces, auto-replies,
empty mails, input over the parsing limits). With --json, one line per file:
  {"file": PATH, "rejected": false, "parser": NAME, "events": [{flat event}, ...], ...}
The inventory imported into the data dir (or DATABASE_URL) tells the reported resources apart
from the reporter's own addresses, relays and victims; --inventory uses an inventory CSV
(columns resource, valid_from, valid_to) instead. CSV files and zips of them are streamed,
whatever their size.`,
  async run(ctx, argv) {
    const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: {
      json: { type: 'boolean', default: false }, inventory: { type: 'string' },
    } });
    if (positionals.length === 0) throw new UsageError('give one or more files');
    const pctx: ParseContext = { isOurs: await inventory(ctx, values.inventory), limits: parseLimits(ctx.config) };
    let failed = 0;
    for (const file of positionals) {
      const ok = await parseOne(ctx, pctx, file, values.json);
      if (!ok) failed++;
    }
    return failed ? 1 : 0;
  },
};

function parseLimits(config: Config) {
  const { intake, smtp } = config;
  return limitsFromConfig({ ...intake.limits, max_message_bytes: Math.max(intake.max_report_size, smtp.max_size), max_events: intake.max_events_per_report });
}

/** isOurs from --inventory, else from the desk's inventory when the data dir or DATABASE_URL has one. */
async function inventory(ctx: CliContext, csv: string | undefined): Promise<ParseContext['isOurs']> {
  if (csv) {
    let text: string;
    try { text = readFileSync(csv, 'utf8'); } catch (e) { throw new UsageError(`--inventory: ${(e as Error).message}`); }
    return ownedMatcher(ownedFromCsv(text));
  }
  const { config } = ctx;
  // Opening an embedded store that does not exist would create one: not for a dry run.
  if (!config.database_url && !existsSync(join(config.data_dir, 'pg', 'PG_VERSION'))) return () => false;
  let db;
  try {
    db = await ctx.openStore();
  } catch (e) {
    // A running desk holds the embedded store: parse anyway, and say the inventory was not used.
    if (!(e instanceof DataDirLocked)) throw e;
    ctx.stderr.write(`madoguchi parse: ${e.message}; parsing without the inventory\n`);
    return () => false;
  }
  const svc = await openAttribution(db);
  return (resource, at) => svc.attribute(resource, at) !== null;
}

async function parseOne(ctx: CliContext, pctx: ParseContext, file: string, json: boolean): Promise<boolean> {
  const out = ctx.stdout;
  if (file !== '-' && /\.(?:csv|zip)$/i.test(file) && isFile(file)) return streamCsv(ctx, file, json);
  let raw: Buffer;
  try {
    raw = file === '-' ? await readStdin() : readFileSync(file);
  } catch (e) {
    write(out, json ? JSON.stringify({ file, rejected: true, error: `cannot read: ${(e as Error).message}`, parser: 'none', events: [] }) + '\n' : `${file}: cannot read: ${(e as Error).message}\n`);
    return false;
  }
  const r = await parseReport(raw, pctx, { filename: file === '-' ? undefined : file });
  write(out, json ? jsonLine(file, r) : textReport(file, r));
  return true;
}

function jsonLine(file: string, r: ParsedReport): string {
  return JSON.stringify({
    file, rejected: r.rejected, error: r.error, reason: r.reason, parser: r.parser, events: r.events,
    reporter: r.reporter, message_id: r.messageId, subject: r.subject, date: r.date,
    forward_consent: r.forwardConsent, language: r.language, warnings: r.warnings.length ? r.warnings : undefined,
  }) + '\n';
}

function textReport(file: string, r: ParsedReport): string {
  if (r.rejected) return `${file}: rejected (${r.reason}): ${r.error}\n`;
  const head = `${file}: ${r.parser}, ${r.eventCount} event${r.eventCount === 1 ? '' : 's'}` +
    (r.reporter?.email ? `, from ${r.reporter.email}` : '') + (r.forwardConsent != null ? `, forward consent ${r.forwardConsent ? 'yes' : 'no'}` : '') + '\n';
  return head + r.events.map(eventLine).join('') + r.warnings.map((w) => `  warning: ${w}\n`).join('');
}

function eventLine(e: Event): string {
  const what = [e['source.ip'], e['source.url'] ?? e['source.fqdn'], e['source.network'], e['source.port'] ? `port ${e['source.port']}` : undefined].filter(Boolean).join(' ');
  return `  ${e['classification.type']}${e['classification.identifier'] ? ` (${e['classification.identifier']})` : ''}: ${what}${e['time.source'] ? ` at ${e['time.source']}` : ''}\n`;
}

/** A CSV feed (or a zip of them) of any size: events are written as they are read. */
async function streamCsv(ctx: CliContext, file: string, json: boolean): Promise<boolean> {
  const out = ctx.stdout;
  let n = 0;
  if (json) await write(out, `{"file":${JSON.stringify(file)},"rejected":false,"parser":"shadowserver","events":[`);
  else await write(out, `${file}: CSV feed\n`);
  try {
    for await (const batch of csvEvents(createReadStream(file), { filename: file, limits: parseLimits(ctx.config) })) {
      const text = json ? batch.map((e) => (n++ ? ',' : '') + JSON.stringify(e)).join('') : batch.map((e) => { n++; return eventLine(e); }).join('');
      await write(out, text);
    }
  } catch (e) {
    if (json) await write(out, `],"error":${JSON.stringify((e as Error).message)}}\n`);
    else await write(out, `  error after ${n} events: ${(e as Error).message}\n`);
    return false;
  }
  await write(out, json ? ']}\n' : `  ${n} events\n`);
  return true;
}

function isFile(p: string): boolean {
  try { return statSync(p).isFile(); } catch { return false; }
}

async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** Writes with backpressure, so a million-row feed does not pile up in the stdout buffer. */
function write(out: NodeJS.WriteStream, s: string): Promise<void> | void {
  if (!out.write(s)) return new Promise((resolve) => out.once('drain', () => resolve()));
}
