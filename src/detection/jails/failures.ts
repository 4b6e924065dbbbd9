// Failure counting per offender as fail2ban's FailManager does it. A ticket counts failures; when a
// new failure comes more than `findtime` after the ticket's first one, the count is not reset but
// rescaled to the rate seen so far over one findtime window (FailTicket.adjustTime), so a slow but
// steady attacker still reaches maxretry. Tickets whose last failure is older than findtime go.
import { pyRound } from './expr.js';

interface Ticket { first: number; last: number; retry: number; failures: number; lines: string[] }

export interface FailureCount {
  /** The weighted, rescaled count compared with maxretry. */
  retry: number;
  /** Failures actually seen (fail2ban's `failures` tag). */
  failures: number;
  first: number;
  last: number;
  lines: string[];
}

export class FailureTracker {
  private tickets = new Map<string, Ticket>();
  private lastCleanup = -Infinity;

  constructor(private findtime: number, private maxLines = 20, private maxTickets = 100_000) {}

  /**
   * Adds `count` failures for an offender at `time` (seconds) and returns its current count.
   * count > 1 is fail2ban's observer adding weight for a known bad address.
   */
  add(fid: string, time: number, lines: string[], count = 1): number {
    this.cleanup(time);
    let t = this.tickets.get(fid);
    // Idle for findtime: fail2ban's periodic cleanup would have dropped it in between.
    if (t && t.last <= time - this.findtime) { this.tickets.delete(fid); t = undefined; }
    if (!t) {
      if (this.tickets.size >= this.maxTickets) this.evictOldest();
      t = { first: time, last: time, retry: count, failures: 1, lines: lines.slice(-this.maxLines) };
      this.tickets.set(fid, t);
      return t.retry;
    }
    if (time > t.last) {
      if (t.first < time - this.findtime) {
        t.retry = pyRound(t.retry / (time - t.first) * this.findtime);
        t.first = time - this.findtime;
      }
      t.last = time;
    }
    // Keep the map in order of last activity, so that the idle-longest ticket is the first key.
    this.tickets.delete(fid);
    this.tickets.set(fid, t);
    t.retry += count;
    t.failures++;
    t.lines.push(...lines);
    if (t.lines.length > this.maxLines) t.lines.splice(0, t.lines.length - this.maxLines);
    return t.retry;
  }

  /** Takes the offender's ticket out (it became a ban). */
  take(fid: string): FailureCount | null {
    const t = this.tickets.get(fid);
    if (!t) return null;
    this.tickets.delete(fid);
    return { ...t };
  }

  get size(): number { return this.tickets.size; }

  /**
   * Drops tickets whose last failure is findtime or more before `now` (at most every 5 s, as
   * fail2ban). The map is in order of last activity, so the sweep stops at the first live ticket.
   */
  cleanup(now: number): void {
    if (now - this.lastCleanup < 5 && now >= this.lastCleanup) return;
    this.lastCleanup = now;
    const limit = now - this.findtime;
    for (const [fid, t] of this.tickets) {
      if (t.last > limit) break;
      this.tickets.delete(fid);
    }
  }

  // Under a flood of distinct addresses memory stays bounded: the ticket idle longest goes first.
  private evictOldest(): void {
    const oldest = this.tickets.keys().next();
    if (!oldest.done) this.tickets.delete(oldest.value);
  }
}
