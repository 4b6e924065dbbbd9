// One jail's decisions, as fail2ban's filter, FailManager, observer and ban manager make them:
// a failure is dated (odd dates become "now", as fail2ban does in operation), checked against
// ignoreip, counted, and at maxretry within findtime becomes a ban whose length depends on the
// address's earlier bans (bantime.increment). No I/O here: the runner feeds lines and acts on bans.
import type { JailConfig } from './config.js';
import { FailureTracker } from './failures.js';
import { banTimeFunction } from './bantime.js';
import { IgnoreList } from './ignore.js';

/** The part of the detection engine's Failure the jail needs (src/detection/filter.ts). */
export interface FailureLike {
  epoch: number;
  fid: string;
  ip: string | null;
  captures: Record<string, string | string[]>;
  lines: string[];
}

export interface Ban {
  jail: string;
  ip: string;
  fid: string;
  /** Seconds since the epoch: the time of the failure that completed the ban. */
  time: number;
  /** Seconds; negative for a permanent ban. */
  bantime: number;
  /** 1 for the first ban of this address (in this jail, or in all with overalljails). */
  banCount: number;
  failures: number;
  /** The log lines that led to the ban (at most the last 20). */
  lines: string[];
  user: string | null;
}

interface BookEntry { count: number; at: number; bantime: number; lifted: boolean }

/**
 * Past bans per address and jail, shared by the jails of one runner (overalljails looks across
 * them). The runner loads it from the bans table at start and records every new ban in both.
 */
export class BanBook {
  private byIp = new Map<string, Map<string, BookEntry>>();

  record(ip: string, jail: string, at: number, bantime: number, count: number, lifted = false): void {
    let m = this.byIp.get(ip);
    if (!m) this.byIp.set(ip, (m = new Map()));
    const prev = m.get(jail);
    if (!prev || prev.at <= at) m.set(jail, { count, at, bantime, lifted });
  }

  /** Like fail2ban's Fail2BanDb.getBan: the latest ban (count, time) in a jail, or summed over all jails. */
  previous(ip: string, jail: string, overall: boolean, since: number): { count: number; at: number } | null {
    const m = this.byIp.get(ip);
    if (!m) return null;
    let count = 0, at = -Infinity;
    for (const [j, e] of m) {
      if ((overall || j === jail) && e.at > since) { count += e.count; if (e.at > at) at = e.at; }
    }
    return at === -Infinity ? null : { count, at };
  }

  /** An operator lifted the ban (it still counts for bantime.increment). */
  lift(ip: string, jail: string): void {
    const e = this.byIp.get(ip)?.get(jail);
    if (e) e.lifted = true;
  }

  isBanned(ip: string, jail: string, at: number): boolean {
    const e = this.byIp.get(ip)?.get(jail);
    return !!e && !e.lifted && (e.bantime < 0 || e.at + e.bantime > at);
  }

  /** Forgets entries older than `before` that no longer ban (bounded memory over months of running). */
  purge(before: number): void {
    for (const [ip, m] of this.byIp) {
      for (const [j, e] of m) if (e.at < before && (e.lifted || (e.bantime >= 0 && e.at + e.bantime < before))) m.delete(j);
      if (!m.size) this.byIp.delete(ip);
    }
  }
}

export interface JailStats { failures: number; ignored: number; noAddress: number; alreadyBanned: number; bans: number }

export class Jail {
  readonly tracker: FailureTracker;
  readonly ignore: IgnoreList;
  readonly stats: JailStats = { failures: 0, ignored: 0, noAddress: 0, alreadyBanned: 0, bans: 0 };
  private banTime: (previousBans: number) => number;

  constructor(readonly config: JailConfig, private book: BanBook, random: () => number = Math.random) {
    this.tracker = new FailureTracker(config.findtime);
    this.ignore = new IgnoreList(config.ignoreip, config.ignoreself);
    this.banTime = banTimeFunction(config.ban, random);
  }

  /** Handles one failure found by the filter at wall-clock `now` (seconds); returns a ban or null. */
  handle(f: FailureLike, now: number): Ban | null {
    const c = this.config;
    this.stats.failures++;
    const ip = f.ip;
    if (!ip) { this.stats.noAddress++; return null; }
    // fail2ban in operation treats a date more than a minute off as a clock or zone problem.
    const time = Math.abs(f.epoch - now) > 60 ? now : f.epoch;
    if (this.ignore.has(ip)) { this.stats.ignored++; return null; }
    if (this.book.isBanned(ip, c.name, time)) { this.stats.alreadyBanned++; return null; }

    const prev = this.book.previous(ip, c.name, c.ban.increment?.overalljails ?? false, now - c.dbpurgeage);
    let weight = 1;
    if (c.ban.increment && prev && time > prev.at) {
      // fail2ban's observer: a known bad address counts more (2, 3, 5, 9, ... up to maxretry).
      weight = Math.min(2 ** Math.min(prev.count, 20) / 2 + 1, c.maxretry);
    }
    const fid = f.fid || ip;
    if (this.tracker.add(fid, time, f.lines, weight) < c.maxretry) return null;

    const ticket = this.tracker.take(fid)!;
    const previousBans = prev && c.ban.increment ? prev.count : 0;
    const bantime = this.banTime(previousBans);
    const banCount = previousBans + 1;
    this.book.record(ip, c.name, time, bantime, banCount);
    this.stats.bans++;
    const user = f.captures.user ?? f.captures.users ?? null;
    return {
      jail: c.name, ip, fid, time, bantime, banCount, failures: ticket.failures, lines: ticket.lines,
      user: Array.isArray(user) ? user.join(',') : user,
    };
  }
}
