// The jail runner: log sources -> the detection engine's filter -> jail decisions -> the desk.
// An offender that is one of our own addresses becomes an event in the desk (a customer's server
// attacking others is found before anyone complains); any other offender is banned: recorded,
// written to the exported ban lists, and optionally reported to its network's abuse contact.
import { readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { rename, writeFile } from 'node:fs/promises';
import type { Desk } from '../../desk.js';
import { classify, type Event } from '../../events/event.js';
import { ingestEvents } from '../../intake/ingest.js';
import { loadFilter, type Filter } from '../filter.js';
import type { JailConfig } from './config.js';
import { BanBook, Jail, type Ban, type JailStats } from './jail.js';
import { FileFollower, type FilePosition } from './tail.js';
import { JournalFollower } from './journal.js';
import { activeBans, liftedSince, loadBanBook, loadPositions, recordBan, savePosition } from './banstore.js';
import { toIpset, toNftables } from './export.js';

/** Told about every ban of an outside offender after it is recorded (outbound reports). */
export type BanListener = (ban: Ban, banId: number, jail: JailConfig) => void | Promise<void>;

export interface RunnerOptions {
  fail2banDir?: string;
  journalctl?: string;
  readFromStart?: boolean;
  nftablesFile?: string;
  ipsetFile?: string;
  setName?: string;
  onBan?: BanListener;
  /** Wall clock in epoch seconds (tests). */
  now?: () => number;
  pollMs?: number;
}

export interface JailStatus extends JailStats { name: string; sources: string[]; lines: number; tracked: number; filterOverBudget: number }

interface Source { name: string; stop(): Promise<void>; state(): unknown; lines: number }

const STATE_SAVE_MS = 10_000;

/** fail2ban's logpath may hold globs ("/var/log/nginx/*error.log"); expanded at start, as fail2ban does. */
export function expandLogpath(pattern: string): string[] {
  if (!/[*?[]/.test(basename(pattern))) return [pattern];
  const dir = dirname(pattern);
  const re = new RegExp(`^${basename(pattern).replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
  try { return readdirSync(dir).filter((f) => re.test(f)).sort().map((f) => join(dir, f)); } catch { return []; }
}

export class JailRunner {
  readonly book = new BanBook();
  private running: { jail: Jail; sources: Source[]; filters: Filter[] }[] = [];
  private chain: Promise<void> = Promise.resolve();
  private exportTimer: NodeJS.Timeout | null = null;
  private saveTimer: NodeJS.Timeout | null = null;
  private now: () => number;
  private liftsSeen = 0;

  constructor(private desk: Desk, private jails: JailConfig[], private opts: RunnerOptions = {}) {
    this.now = opts.now ?? (() => Date.now() / 1000);
  }

  async start(): Promise<void> {
    const enabled = this.jails.filter((j) => j.enabled);
    const purge = Math.max(0, ...enabled.map((j) => j.dbpurgeage));
    this.liftsSeen = this.now();
    await loadBanBook(this.desk.db, this.book, this.now() - purge);
    try {
      await this.startJails(enabled);
    } catch (e) {
      // A bad filter in the third jail must not leave the first two reading.
      for (const { sources } of this.running) for (const s of sources) await s.stop();
      this.running = [];
      throw e;
    }
    this.saveTimer = setInterval(() => { this.savePositions().catch((e) => this.desk.log.error({ err: e }, 'saving jail positions failed')); }, STATE_SAVE_MS);
    this.saveTimer.unref();
    await this.writeExports();
  }

  private async startJails(enabled: JailConfig[]): Promise<void> {
    for (const cfg of enabled) {
      const jail = new Jail(cfg, this.book);
      for (const p of await jail.ignore.resolveNames()) this.desk.log.warn({ jail: cfg.name }, p);
      for (const p of jail.ignore.errors) this.desk.log.warn({ jail: cfg.name }, p);
      const entry = { jail, sources: [] as Source[], filters: [] as Filter[] };
      this.running.push(entry);
      const positions = await loadPositions(this.desk.db, cfg.name);
      if (cfg.backend === 'systemd') entry.sources.push(this.journalSource(entry, positions.get('journal') as string | undefined));
      else {
        for (const path of cfg.logpath.flatMap(expandLogpath)) entry.sources.push(await this.fileSource(entry, path, positions.get(path) as FilePosition | undefined));
      }
      this.desk.log.info({ jail: cfg.name, sources: entry.sources.map((s) => s.name) }, 'jail started');
    }
  }

  /** Filter per source: multi-line buffers of one file must not mix with another's. */
  private makeFilter(entry: { jail: Jail; filters: Filter[] }, clock: () => number): Filter {
    const cfg = entry.jail.config;
    // fail2ban's jail reader gives a systemd jail's filter logtype=journal.
    const spec = cfg.backend === 'systemd'
      ? (cfg.filter.endsWith(']') ? `${cfg.filter.slice(0, -1)}, logtype=journal]` : `${cfg.filter}[logtype=journal]`)
      : cfg.filter;
    const f = loadFilter(spec, { now: clock, checkAll: false, basedir: this.opts.fail2banDir });
    entry.filters.push(f);
    return f;
  }

  private async fileSource(entry: { jail: Jail; filters: Filter[] }, path: string, resume: FilePosition | undefined): Promise<Source> {
    const filter = this.makeFilter(entry, this.now);
    let lineNo = 0;
    const follower = new FileFollower(path, (lines) => this.lines(entry.jail, filter, lines, (lineNo += lines.length) - lines.length + 1, this.now()),
      { fromStart: this.opts.readFromStart, resume: resume ?? null, pollMs: this.opts.pollMs },
      (e) => this.desk.log.error({ jail: entry.jail.config.name, path, err: e.message }, 'reading log failed'));
    await follower.start();
    return { name: path, stop: () => follower.stop(), state: () => follower.position(), get lines() { return lineNo; } };
  }

  private journalSource(entry: { jail: Jail; filters: Filter[] }, cursor: string | undefined): Source {
    const cfg = entry.jail.config;
    // A journal line carries no date: its time is the entry's, handed to the filter as "now".
    let entryTime = this.now();
    const filter = this.makeFilter(entry, () => entryTime);
    const matches = cfg.journalmatch.length ? cfg.journalmatch : (filter.definition.journalmatch ?? []).flatMap((m) => m.split(/\s+/)).filter(Boolean);
    let lineNo = 0;
    const follower = new JournalFollower(async (entries) => {
      for (const e of entries) {
        entryTime = e.time;
        await this.lines(entry.jail, filter, [e.line], ++lineNo, this.now());
      }
    }, { journalctl: this.opts.journalctl, matches, files: cfg.journalfiles, fromStart: this.opts.readFromStart, afterCursor: cursor },
    (e) => this.desk.log.error({ jail: cfg.name, err: e.message }, 'reading the journal failed'));
    follower.start();
    return { name: 'journal', stop: () => follower.stop(), state: () => follower.lastCursor, get lines() { return lineNo; } };
  }

  /** Runs lines through the filter and the jail; bans are acted on in order, one at a time. */
  private lines(jail: Jail, filter: Filter, lines: string[], firstLineNo: number, now: number): Promise<void> {
    const bans: Ban[] = [];
    for (const f of filter.processLines(lines, firstLineNo)) {
      const ban = jail.handle(f, now);
      if (ban) bans.push(ban);
    }
    if (!bans.length) return this.chain;
    this.chain = this.chain.then(async () => {
      for (const b of bans) {
        try { await this.act(jail, b); } catch (e) { this.desk.log.error({ jail: b.jail, ip: b.ip, err: (e as Error).message }, 'acting on a ban failed'); }
      }
    });
    // The reader waits for the actions: a flood of bans slows reading instead of queueing in memory.
    return this.chain;
  }

  private async act(jail: Jail, ban: Ban): Promise<void> {
    const own = this.desk.attribution.attribute(ban.ip, ban.time * 1000);
    if (own) {
      const [stored] = await ingestEvents(this.desk, [banEvent(jail.config, ban)], `detection:${ban.jail}`);
      await recordBan(this.desk.db, ban, { customerId: own.customer_id, serviceId: own.service_id, eventId: stored?.id ?? null });
      this.desk.log.warn({ jail: ban.jail, ip: ban.ip, customer: own.customer_id, event: stored?.id }, 'own address attacking: event raised');
      return;
    }
    const id = await recordBan(this.desk.db, ban, null);
    this.desk.log.info({ jail: ban.jail, ip: ban.ip, bantime: ban.bantime, count: ban.banCount }, 'banned');
    this.scheduleExport();
    if (this.opts.onBan && jail.config.report) await this.opts.onBan(ban, id, jail.config);
  }

  private scheduleExport(): void {
    if (this.exportTimer || (!this.opts.nftablesFile && !this.opts.ipsetFile)) return;
    this.exportTimer = setTimeout(() => {
      this.exportTimer = null;
      this.writeExports().catch((e) => this.desk.log.error({ err: (e as Error).message }, 'writing the ban lists failed'));
    }, 1000);
  }

  /** Rewrites the ban list files (atomically: a firewall reload never sees half a file). */
  async writeExports(): Promise<void> {
    if (!this.opts.nftablesFile && !this.opts.ipsetFile) return;
    const bans = await activeBans(this.desk.db);
    const write = async (path: string, text: string) => { await writeFile(`${path}.tmp`, text); await rename(`${path}.tmp`, path); };
    if (this.opts.nftablesFile) await write(this.opts.nftablesFile, toNftables(bans, { set: this.opts.setName }));
    if (this.opts.ipsetFile) await write(this.opts.ipsetFile, toIpset(bans, { set: this.opts.setName }));
  }

  /** Resolves when every line read so far has been handled and its bans acted on. */
  async settled(): Promise<void> {
    let c;
    do { c = this.chain; await c; } while (c !== this.chain);
  }

  status(): JailStatus[] {
    return this.running.map(({ jail, sources, filters }) => ({
      name: jail.config.name, ...jail.stats, sources: sources.map((s) => s.name),
      lines: sources.reduce((n, s) => n + s.lines, 0), tracked: jail.tracker.size,
      filterOverBudget: filters.reduce((n, f) => n + f.stats().overBudget, 0),
    }));
  }

  /** Forgets bans lifted by an operator since the last look, so that their addresses count again. */
  async syncLifts(): Promise<void> {
    const since = this.liftsSeen;
    this.liftsSeen = this.now();
    for (const l of await liftedSince(this.desk.db, since - 1)) this.book.lift(l.ip, l.jail);
  }

  private async savePositions(): Promise<void> {
    await this.syncLifts();
    for (const { jail, sources } of this.running) {
      for (const s of sources) { const st = s.state(); if (st) await savePosition(this.desk.db, jail.config.name, s.name, st); }
    }
    this.book.purge(this.now() - Math.max(0, ...this.running.map((r) => r.jail.config.dbpurgeage)));
  }

  async stop(): Promise<void> {
    if (this.saveTimer) clearInterval(this.saveTimer);
    for (const { sources } of this.running) for (const s of sources) await s.stop();
    await this.settled();
    if (this.exportTimer) { clearTimeout(this.exportTimer); this.exportTimer = null; await this.writeExports(); }
    await this.savePositions();
  }
}

/** The desk event for an own address caught by a jail. */
export function banEvent(cfg: JailConfig, ban: Ban): Event {
  const e: Event = {
    'source.ip': ban.ip,
    'time.source': new Date(ban.time * 1000).toISOString(),
    'feed.name': `jail:${ban.jail}`,
    'feed.provider': 'madoguchi',
    'event_description.text': `${ban.failures} failures in jail ${ban.jail} within ${cfg.findtime} s (maxretry ${cfg.maxretry})`,
    'raw': ban.lines.join('\n'),
    'extra.jail': ban.jail,
    'extra.failures': ban.failures,
    'extra.ban_count': ban.banCount,
  };
  if (ban.user) e['extra.user'] = ban.user;
  if (cfg.service) e['protocol.application'] = cfg.service;
  if (/^\d{1,5}$/.test(cfg.port)) e['destination.port'] = Number(cfg.port);
  return classify(e, cfg.classification, `fail2ban:${basename(cfg.filter.replace(/\[.*$/s, '')).replace(/\.(conf|local)$/, '')}`);
}
