// `madoguchi blocklists ...`: check list files against the inventory, run the watch once, check
// DNSBLs, show listings, and the list quality report.
import { statSync } from 'node:fs';
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import { DnsblChecker, expandAddresses } from '../../blocklists/dnsbl.js';
import { parseListFile } from '../../blocklists/format.js';
import { loadInventory } from '../../blocklists/inventory.js';
import { matchList } from '../../blocklists/match.js';
import { qualityReport, type ListQuality } from '../../blocklists/report.js';
import { watchDeps } from '../../blocklists/service.js';
import { blocklistSettings } from '../../blocklists/settings.js';
import { openDesk } from '../../desk.js';
import { listListings } from '../../blocklists/store.js';
import { checkDnsbl, listFilesIn, syncLists } from '../../blocklists/watch.js';
import { UsageError, type CliContext, type Command } from '../command.js';

function parseTime(v: string | undefined, what: string): Date {
  if (v === undefined) return new Date();
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw new UsageError(`${what}: not an ISO time: ${v}`);
  return new Date(t);
}

/** Writes lines, waiting when the pipe is full (output to `head` must not pile up in memory). */
async function writeLine(ctx: CliContext, line: string): Promise<void> {
  if (!ctx.stdout.write(line + '\n')) await new Promise((r) => ctx.stdout.once('drain', r));
}

export const blocklistsCheck: Command = {
  name: 'blocklists check',
  summary: 'which inventory addresses the given list files list',
  usage: `[--json] [--at ISO-TIME] FILE|DIR...

Matches each list (FireHOL .ipset/.netset or a plain address/CIDR list; a directory means every
*.ipset and *.netset in it) against the IP assignments valid at --at (default now) in the
configured database. Prints one line per listed inventory address or range: list, entry,
addresses covered, customer, service (with --json: {"list","entry","ip_count","customer_id",
"service_id","netblock"}). Malformed lines are counted per list on stderr; they are never fatal.`,
  async run(ctx, argv) {
    const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: {
      json: { type: 'boolean', default: false }, at: { type: 'string' },
    } });
    if (!positionals.length) throw new UsageError('give list files or directories');
    const at = parseTime(values.at, '--at');
    const files: { name: string; path: string }[] = [];
    for (const p of positionals) {
      let isDir: boolean;
      try { isDir = statSync(p).isDirectory(); } catch { throw new UsageError(`cannot read ${p}`); }
      if (isDir) files.push(...listFilesIn(p));
      else files.push({ name: basename(p).replace(/\.(ipset|netset|txt|list)$/, ''), path: p });
    }
    const db = await ctx.openStore();
    const inv = await loadInventory(db, at);
    let listed = 0;
    for (const f of files) {
      const list = await parseListFile(f.path, { maxBytes: ctx.config.blocklists.max_bytes });
      if (list.malformed || list.overCap) {
        ctx.stderr.write(`${f.name}: ${list.malformed} malformed line(s)${list.malformedSamples[0] ? `, first at line ${list.malformedSamples[0].line}: ${JSON.stringify(list.malformedSamples[0].text)}` : ''}${list.overCap ? `; cut at ${ctx.config.blocklists.max_bytes} bytes` : ''}\n`);
      }
      for (const h of matchList(list, inv)) {
        listed++;
        await writeLine(ctx, values.json
          ? JSON.stringify({ list: f.name, entry: h.entry, ip_count: h.ipCount, customer_id: h.customerId, service_id: h.serviceId, netblock: h.netblock })
          : [f.name, h.entry, h.ipCount, h.customerId, h.serviceId, h.netblock].join('\t'));
      }
    }
    ctx.log.info({ lists: files.length, listed, netblocks: inv.holders.length }, 'blocklists checked');
    return 0;
  },
};

export const blocklistsSync: Command = {
  name: 'blocklists sync',
  summary: 'check the configured lists and DNSBLs now and record listings',
  usage: `[--json] [--all] [--list NAME]...

Checks every configured list that is due (--all: every list), keeps the previous copy of a list
whose download fails or comes back empty or cut short, records listings and delistings, and runs
the DNSBL checks. Listings the playbooks act on (and their delistings) go to the desk as events
through intake, as \`madoguchi serve\` does on its schedule.`,
  async run(ctx, argv) {
    const { values } = parseArgs({ args: argv, options: {
      json: { type: 'boolean', default: false }, all: { type: 'boolean', default: false }, list: { type: 'string', multiple: true },
    } });
    blocklistSettings(ctx.config); // a configuration mistake shows before the database is opened
    const desk = await openDesk(ctx.config, ctx.log, await ctx.openStore());
    const deps = watchDeps(desk);
    const outcomes = await syncLists(deps, { force: values.all, only: values.list });
    const dnsbl = values.list ? [] : await checkDnsbl(deps);
    for (const o of outcomes) {
      await writeLine(ctx, values.json ? JSON.stringify(o)
        : `${o.list}\t${o.outcome}${o.listings ? `\tlisted +${o.listings.added} -${o.listings.delisted} =${o.listings.kept}` : ''}${o.malformed ? `\tmalformed ${o.malformed}` : ''}${o.error ? `\t${o.error}` : ''}`);
    }
    for (const r of dnsbl) {
      if (r.status !== 'clear') await writeLine(ctx, values.json ? JSON.stringify(r) : `${r.list}\t${r.ip}\t${r.status}\t${r.meanings.join('; ') || r.error || ''}`);
    }
    desk.attribution.close();
    return outcomes.some((o) => o.outcome === 'failed') ? 1 : 0;
  },
};

export const blocklistsDnsbl: Command = {
  name: 'blocklists dnsbl',
  summary: 'look addresses up on the configured DNSBL zones (without recording)',
  usage: `[--json] ADDRESS|CIDR...

Queries each address (CIDRs up to 256 addresses) on every configured zone through the configured
resolvers, at the configured rate. Error answers (127.255.255.0/24) are shown as errors, never as
listings. Prints address, zone, status and the zone's meaning of the code.`,
  async run(ctx, argv) {
    const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { json: { type: 'boolean', default: false } } });
    const d = blocklistSettings(ctx.config).dnsbl;
    if (!d.zones.length) throw new UsageError('no DNSBL zones configured (blocklists.dnsbl.zones)');
    const { ips, refused } = expandAddresses(positionals.length ? positionals : d.addresses);
    if (refused.length) throw new UsageError(`not an address, or a CIDR over 256 addresses: ${refused.join(', ')}`);
    const checker = new DnsblChecker({ resolvers: d.resolvers, rate: d.rate, timeoutMs: d.timeoutMs });
    for (const r of await checker.checkAll(ips, d.zones)) {
      await writeLine(ctx, values.json ? JSON.stringify(r) : `${r.ip}\t${r.zone}\t${r.status}\t${r.meanings.join('; ') || r.error || ''}`);
    }
    return 0;
  },
};

export const blocklistsListings: Command = {
  name: 'blocklists listings',
  summary: 'recorded listings of inventory addresses (active ones unless --all)',
  usage: `[--json] [--all] [--list NAME] [--customer ID] [--limit N]`,
  async run(ctx, argv) {
    const { values } = parseArgs({ args: argv, options: {
      json: { type: 'boolean', default: false }, all: { type: 'boolean', default: false }, list: { type: 'string' },
      customer: { type: 'string' }, limit: { type: 'string', default: '1000' },
    } });
    const limit = Number(values.limit);
    if (!Number.isInteger(limit) || limit < 1) throw new UsageError('--limit must be a positive whole number');
    const db = await ctx.openStore();
    const rows = await listListings(db, { list: values.list, customerId: values.customer, active: values.all ? undefined : true, limit });
    for (const r of rows) {
      await writeLine(ctx, values.json ? JSON.stringify(r)
        : [r.list, r.entry, r.ip_count, r.customer_id ?? '-', r.service_id ?? '-', r.first_seen.toISOString(), r.last_seen.toISOString(), r.delisted_at?.toISOString() ?? '-', r.decision].join('\t'));
    }
    return 0;
  },
};

export const blocklistsReport: Command = {
  name: 'blocklists report',
  summary: 'which lists deserve trust: size, freshness, churn, overlap, listing time, precision',
  usage: `[--json] [--no-overlap]

One entry per watched list: entries and unique addresses, malformed lines, freshness (the
maintainer's date against our fetch, promised updates that did not come), churn per update,
the lists it overlaps most, how long our addresses stay listed, and precision against our own
cases (of the customer netblocks it listed, how many were confirmed abuse).`,
  async run(ctx, argv) {
    const { values } = parseArgs({ args: argv, options: { json: { type: 'boolean', default: false }, 'no-overlap': { type: 'boolean', default: false } } });
    const db = await ctx.openStore();
    const report = await qualityReport(db, { dataDir: ctx.config.data_dir, overlap: !values['no-overlap'] });
    if (values.json) { for (const q of report) await writeLine(ctx, JSON.stringify(q)); return 0; }
    for (const q of report) await writeLine(ctx, describeQuality(q));
    return 0;
  },
};

function describeQuality(q: ListQuality): string {
  const f = q.freshness, c = q.churn, l = q.listings;
  const lines = [
    `${q.list}  [${q.status}${q.error ? `: ${q.error}` : ''}]  ${q.category ?? '-'} / ${q.maintainer ?? '-'}`,
    `  entries ${q.entries}, unique addresses ${q.unique_ips}, malformed lines ${q.malformed}`,
    `  source date ${f.source_date ?? '-'}, fetched ${f.fetched_at ?? '-'} (lag ${f.lag_hours ?? '-'} h, age ${f.age_hours ?? '-'} h, missed updates ${f.missed_updates ?? '-'})`,
    `  updates ${c.updates} of ${c.checks} checks (${c.failed_checks} failed); per update +${c.avg_added ?? '-'} / -${c.avg_removed ?? '-'} addresses`,
    `  our listings: ${l.active} active (${l.customers} customers), ${l.delisted} delisted, median ${l.median_hours_to_delisting ?? '-'} h to delisting`,
    `  precision: ${q.precision ? `${q.precision.confirmed} of ${q.precision.listed_netblocks} listed netblocks confirmed abuse (${q.precision.ratio})` : '-'}`,
  ];
  if (q.overlap.length) lines.push(`  overlaps: ${q.overlap.map((o) => `${o.list} ${o.common_ips} (${Math.round(o.share * 100)}%)`).join(', ')}`);
  for (const a of q.alerts.slice(0, 3)) lines.push(`  alert ${a.created_at} ${a.kind}: ${a.message}`);
  return lines.join('\n');
}

export const blocklistCommands: Command[] = [blocklistsCheck, blocklistsSync, blocklistsDnsbl, blocklistsListings, blocklistsReport];
