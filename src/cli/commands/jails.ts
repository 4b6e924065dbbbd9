// Jail commands: list the configured jails, run them in the foreground (without the rest of the
// desk), export the ban list for a firewall, lift a ban.
import { writeFile, rename } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { openDesk } from '../../desk.js';
import { parseRange } from '../../attribution/ip.js';
import { configuredJails, startRunner } from '../../detection/jails/service.js';
import { JailConfigError } from '../../detection/jails/config.js';
import { activeBans, liftBans } from '../../detection/jails/banstore.js';
import { EXPORT_FORMATS, formatBans, type ExportFormat } from '../../detection/jails/export.js';
import { UsageError, type Command, type CliContext } from '../command.js';

function jailsOrExit(ctx: CliContext) {
  try {
    return configuredJails(ctx.config.detection);
  } catch (e) {
    if (e instanceof JailConfigError) { ctx.stderr.write(`madoguchi: ${e.message}\n`); return null; }
    throw e;
  }
}

export const jailsList: Command = {
  name: 'jails list',
  summary: 'show the configured jails (madoguchi.yaml detection.jails and fail2ban jail files)',
  usage: `[--json] [--all]

Without --all only enabled jails are shown. Times are in seconds, after fail2ban's rescaling.`,
  async run(ctx, argv) {
    const { values } = parseArgs({ args: argv, options: { json: { type: 'boolean', default: false }, all: { type: 'boolean', default: false } } });
    const jails = jailsOrExit(ctx);
    if (!jails) return 1;
    for (const j of jails.filter((x) => values.all || x.enabled)) {
      if (values.json) ctx.stdout.write(JSON.stringify(j) + '\n');
      else {
        const src = j.backend === 'systemd' ? `journal ${j.journalmatch.join(' ')}` : j.logpath.join(', ');
        ctx.stdout.write(`${j.enabled ? ' ' : '-'} ${j.name}: ${j.filter} on ${src}; maxretry ${j.maxretry} in ${j.findtime} s, ban ${j.ban.bantime} s${j.ban.increment ? ' (increment)' : ''}\n`);
      }
    }
    return 0;
  },
};

export const jailsRun: Command = {
  name: 'jails run',
  summary: 'run the enabled jails in the foreground until SIGINT/SIGTERM',
  usage: `[--from-start]

Follows each jail's logs (or the journal), bans outside offenders (ban list files and
GET /api/v1/bans) and raises events for the desk's own addresses. --from-start reads log files that
have no saved position from their beginning. \`madoguchi serve\` runs the jails too when
detection.enabled is true; use one or the other.`,
  async run(ctx, argv) {
    const { values } = parseArgs({ args: argv, options: { 'from-start': { type: 'boolean', default: false } } });
    const jails = jailsOrExit(ctx);
    if (!jails) return 1;
    if (!jails.some((j) => j.enabled)) { ctx.stderr.write('madoguchi: no enabled jail (detection.jails or detection.jail_files)\n'); return 1; }
    const desk = await openDesk(ctx.config, ctx.log, await ctx.openStore());
    const { runner, outbound } = startRunner(desk, jails, { readFromStart: values['from-start'] || undefined });
    await runner.start();
    ctx.stderr.write(`madoguchi: ${jails.filter((j) => j.enabled).length} jails running\n`);
    await new Promise<void>((resolve) => { process.once('SIGINT', resolve); process.once('SIGTERM', resolve); });
    await runner.stop();
    await outbound?.idle();
    for (const s of runner.status()) ctx.stderr.write(`${s.name}: ${s.lines} lines, ${s.failures} failures, ${s.bans} bans, ${s.ignored} ignored\n`);
    desk.attribution.close();
    return 0;
  },
};

export const bansExport: Command = {
  name: 'bans export',
  summary: 'write the active ban list as an nftables script, an ipset restore file, plain addresses or JSON',
  usage: `--format nftables|ipset|plain|json [--output FILE] [--jail NAME] [--set NAME]

nftables: load with \`nft -f FILE\` (sets NAME4/NAME6 in table inet madoguchi, replaced whole);
ipset: load with \`ipset restore -exist < FILE\` (filled and swapped in). Entries carry their
remaining ban time. Without --output the list goes to stdout.`,
  async run(ctx, argv) {
    const { values } = parseArgs({ args: argv, options: {
      format: { type: 'string' }, output: { type: 'string' }, jail: { type: 'string' }, set: { type: 'string' },
    } });
    const format = values.format as ExportFormat;
    if (!EXPORT_FORMATS.includes(format)) throw new UsageError(`--format must be one of ${EXPORT_FORMATS.join(', ')}`);
    const db = await ctx.openStore();
    let text: string;
    try {
      text = formatBans(await activeBans(db, values.jail), format, values.set ?? ctx.config.detection.set_name);
    } catch (e) { throw new UsageError((e as Error).message); }
    if (values.output) {
      await writeFile(`${values.output}.tmp`, text);
      await rename(`${values.output}.tmp`, values.output);
    } else ctx.stdout.write(text);
    return 0;
  },
};

export const bansLift: Command = {
  name: 'bans lift',
  summary: 'lift the active bans of an address',
  usage: `IP [--jail NAME]

The ban records stay, marked lifted by the operator. Re-export (or let the jails rewrite) the ban list files afterwards.`,
  async run(ctx, argv) {
    const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { jail: { type: 'string' } } });
    const ip = positionals[0];
    const r = ip ? parseRange(ip) : 'missing';
    if (!ip || positionals.length !== 1 || typeof r === 'string' || r.first.some((w, i) => w !== r.last[i])) throw new UsageError('give one IP address');
    const n = await liftBans(await ctx.openStore(), ip, `cli:${process.env.USER ?? 'unknown'}`, values.jail);
    ctx.stderr.write(`${n} ban${n === 1 ? '' : 's'} lifted\n`);
    return n ? 0 : 1;
  },
};

export const jailCommands: Command[] = [jailsList, jailsRun, bansExport, bansLift];
