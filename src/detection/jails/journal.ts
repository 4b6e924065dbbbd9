// Follows the systemd journal through `journalctl -f -o json`, one JSON object per line. Each entry
// becomes the line fail2ban's systemd backend builds (formatJournalEntry: "HOST IDENT[PID]: MESSAGE",
// newlines as "\n") with the entry's own time. If journalctl dies it is started again after the
// last cursor seen, so that nothing is read twice or skipped.
import { spawn, type ChildProcess } from 'node:child_process';

export interface JournalEntry { line: string; time: number; cursor: string | null }

export interface JournalOptions {
  journalctl?: string;
  /** Match arguments as journalctl takes them ("_SYSTEMD_UNIT=sshd.service", "+", ...). */
  matches?: string[];
  /** Journal files to read (journalctl --file) instead of the system journal. */
  files?: string[];
  /** Start with the existing entries (default: only new ones, like `-n 0`). */
  fromStart?: boolean;
  /** Resume after this cursor. */
  afterCursor?: string;
  /** JSON lines longer than this are dropped (and counted). */
  maxLineBytes?: number;
  restartMs?: number;
}

export interface JournalStats { entries: number; malformed: number; oversized: number; restarts: number }

type Json = Record<string, unknown>;

/** A journal field as text: journalctl prints non-UTF-8 or binary values as arrays of bytes. */
function fieldText(v: unknown): string | null {
  if (v == null) return null;
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return String(v);
  if (Array.isArray(v)) {
    if (v.every((b) => typeof b === 'number' && b >= 0 && b <= 255)) return Buffer.from(v as number[]).toString('utf8');
    // A field present several times: journalctl lists the values.
    return v.map(fieldText).filter((s) => s != null).join(' ');
  }
  return null;
}

/** fail2ban's FilterSystemd.formatJournalEntry, on journalctl's JSON form of an entry. */
export function formatJournalEntry(e: Json): JournalEntry | null {
  const usec = fieldText(e.__REALTIME_TIMESTAMP);
  if (!usec || !/^\d{1,20}$/.test(usec)) return null;
  const parts: string[] = [];
  const host = fieldText(e._HOSTNAME);
  if (host) parts.push(host);
  const ident = fieldText(e.SYSLOG_IDENTIFIER) || fieldText(e._COMM);
  if (ident) {
    const pid = fieldText(e.SYSLOG_PID) || fieldText(e._PID);
    let tag = ident;
    if (pid) tag += /^\s*(0x[0-9a-f]+|\d+)\s*$/i.test(pid) ? `[${Number.parseInt(pid.trim(), pid.trim().toLowerCase().startsWith('0x') ? 16 : 10)}]` : `[${pid}]`;
    tag += ':';
    parts.push(tag);
    if (tag === 'kernel:') {
      const mono = fieldText(e._SOURCE_MONOTONIC_TIMESTAMP) ?? fieldText(e.__MONOTONIC_TIMESTAMP);
      if (mono && /^\d+$/.test(mono)) parts.push(`[${(Number(mono) / 1e6).toFixed(6).padStart(12)}]`);
    }
  }
  parts.push(fieldText(e.MESSAGE) ?? '');
  return {
    line: parts.join(' ').replace(/\n/g, '\\n'),
    time: Number(usec) / 1e6,
    cursor: typeof e.__CURSOR === 'string' ? e.__CURSOR : null,
  };
}

/** The options actually given: an undefined value must not override a default. */
export function defined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export class JournalFollower {
  readonly stats: JournalStats = { entries: 0, malformed: 0, oversized: 0, restarts: 0 };
  private child: ChildProcess | null = null;
  private cursor: string | null;
  private stopped = false;
  private restartTimer: NodeJS.Timeout | null = null;
  private queue: Promise<void> = Promise.resolve();
  private opts: Required<Omit<JournalOptions, 'afterCursor'>>;

  constructor(private onEntries: (entries: JournalEntry[]) => void | Promise<void>, opts: JournalOptions = {}, private onError: (e: Error) => void = () => undefined) {
    this.cursor = opts.afterCursor ?? null;
    this.opts = { journalctl: 'journalctl', matches: [], files: [], fromStart: false, maxLineBytes: 1 << 20, restartMs: 2000, ...defined(opts) };
  }

  get lastCursor(): string | null { return this.cursor; }
  /** The running journalctl's process id. */
  get pid(): number | null { return this.child?.pid ?? null; }

  args(): string[] {
    const a = ['-f', '-o', 'json', '--all', '--no-pager'];
    for (const f of this.opts.files) a.push(`--file=${f}`);
    if (this.cursor) a.push(`--after-cursor=${this.cursor}`);
    else a.push(this.opts.fromStart ? '--no-tail' : '--lines=0');
    return [...a, ...this.opts.matches];
  }

  start(): void {
    if (this.stopped) return;
    const child = spawn(this.opts.journalctl, this.args(), { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    let pending: Buffer[] = [], pendingLen = 0, skipping = false;
    let errText = '';
    child.stderr!.on('data', (d: Buffer) => { if (errText.length < 4096) errText += d.toString('utf8'); });
    child.stdout!.on('data', (data: Buffer) => {
      const lines: string[] = [];
      let start = 0;
      for (;;) {
        const nl = data.indexOf(10, start);
        const end = nl < 0 ? data.length : nl;
        if (!skipping) {
          if (pendingLen + end - start > this.opts.maxLineBytes) { skipping = true; this.stats.oversized++; pending = []; pendingLen = 0; }
          else { pending.push(data.subarray(start, end)); pendingLen += end - start; }
        }
        if (nl < 0) break;
        if (!skipping) lines.push(Buffer.concat(pending).toString('utf8'));
        pending = []; pendingLen = 0; skipping = false;
        start = nl + 1;
      }
      if (lines.length) this.deliver(lines);
    });
    child.on('error', (e) => this.onError(new Error(`cannot run ${this.opts.journalctl}: ${e.message}`)));
    child.on('close', (code, signal) => {
      this.child = null;
      if (this.stopped) return;
      this.onError(new Error(`journalctl exited (${signal ?? code})${errText ? `: ${errText.trim().slice(0, 500)}` : ''}; restarting`));
      this.stats.restarts++;
      this.restartTimer = setTimeout(() => this.start(), this.opts.restartMs);
    });
  }

  private deliver(lines: string[]): void {
    const entries: JournalEntry[] = [];
    for (const l of lines) {
      if (!l.trim()) continue;
      let obj: unknown;
      try { obj = JSON.parse(l); } catch { this.stats.malformed++; continue; }
      const e = obj && typeof obj === 'object' && !Array.isArray(obj) ? formatJournalEntry(obj as Json) : null;
      if (!e) { this.stats.malformed++; continue; }
      entries.push(e);
    }
    if (!entries.length) return;
    this.stats.entries += entries.length;
    // Entries are handed over in order, one batch at a time; the cursor moves once a batch is done.
    this.queue = this.queue.then(async () => {
      try {
        await this.onEntries(entries);
      } catch (e) { this.onError(e as Error); }
      const last = entries[entries.length - 1].cursor;
      if (last) this.cursor = last;
    });
  }

  /** Resolves once every entry received so far has been handled. */
  settled(): Promise<void> { return this.queue; }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    const c = this.child;
    if (c && c.exitCode === null && c.signalCode === null) {
      const closed = new Promise((r) => c.once('close', r));
      c.kill('SIGTERM');
      await closed;
    }
    await this.queue;
  }
}
