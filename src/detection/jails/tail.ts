// Follows a log file by name as `tail -F` does: a file that appears later is read from its start;
// after rotation by rename the old file is drained (the writer may still append to it until it
// reopens) while the new one is read from its start; a truncated file (copytruncate) is read again
// from the start. Lines are cut at '\n' (any '\r' before it dropped); a partial last line waits for its end.
// Changes are noticed through fs.watch on the directory, with polling as the fallback.
import { open, stat, type FileHandle } from 'node:fs/promises';
import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import { defined } from './journal.js';
import { dropCRs } from '../logfile.js';

export interface FollowOptions {
  /** Read a file that exists at start from its beginning (default: from its end, like tail -n0). */
  fromStart?: boolean;
  pollMs?: number;
  /** How long a rotated-away file is still read after it stopped growing. */
  drainMs?: number;
  /** Longer lines are cut to this many bytes (and counted). */
  maxLineBytes?: number;
  /** Where an earlier run stopped: resumed if the file is still the same one. */
  resume?: FilePosition | null;
}

/** A place in a file, robust to rotation: the file's identity and the offset of the next line. */
export interface FilePosition { dev: number; ino: number; pos: number }

export interface FollowStats { lines: number; bytes: number; rotations: number; truncations: number; oversized: number; errors: number }

interface Reader { fh: FileHandle; ino: number; dev: number; pos: number; partial: Buffer[]; partialLen: number; skipping: boolean; idleSince: number }

const CHUNK = 65536;

export class FileFollower {
  readonly stats: FollowStats = { lines: 0, bytes: 0, rotations: 0, truncations: 0, oversized: 0, errors: 0 };
  private current: Reader | null = null;
  private retired: Reader[] = [];
  private timer: NodeJS.Timeout | null = null;
  private watcher: FSWatcher | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = false;
  private opts: Required<FollowOptions>;

  constructor(readonly path: string, private onLines: (lines: string[]) => void | Promise<void>, opts: FollowOptions = {}, private onError: (e: Error) => void = () => undefined) {
    this.opts = { fromStart: false, pollMs: 500, drainMs: 5000, maxLineBytes: 65536, resume: null, ...defined(opts) };
  }

  /** The offset after the last complete line handed over (a partial line is read again on resume). */
  position(): FilePosition | null {
    const c = this.current;
    return c ? { dev: c.dev, ino: c.ino, pos: c.pos - c.partialLen } : this.finalPosition;
  }

  private finalPosition: FilePosition | null = null;
  private lastOpenError: string | null = null;

  async start(): Promise<void> {
    await this.openCurrent(!this.opts.fromStart);
    const r = this.opts.resume, c = this.current;
    if (r && c) {
      const size = (await c.fh.stat()).size;
      // The same file: go on from there. Another file (rotated while we were away): from its start.
      c.pos = r.dev === c.dev && r.ino === c.ino && r.pos <= size ? r.pos : 0;
    }
    try {
      const name = basename(this.path);
      this.watcher = watch(dirname(this.path), (_ev, f) => { if (!f || f === name) this.poke(); });
      this.watcher.on('error', () => { this.watcher?.close(); this.watcher = null; });
    } catch { /* no inotify: polling alone */ }
    this.timer = setInterval(() => this.poke(), this.opts.pollMs);
    this.poke();
  }

  /** Reads whatever is new now; resolves when done (tests and shutdown use it). */
  poke(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.running) { this.again = true; return this.running; }
    this.running = (async () => {
      try {
        do { this.again = false; await this.step(); } while (this.again && !this.stopped);
      } catch (e) {
        this.stats.errors++;
        this.onError(e as Error);
      } finally { this.running = null; }
    })();
    return this.running;
  }

  async stop(): Promise<void> {
    await this.running;
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.watcher?.close();
    this.finalPosition = this.position();
    for (const r of [...this.retired, ...(this.current ? [this.current] : [])]) await r.fh.close().catch(() => undefined);
    this.retired = [];
    this.current = null;
  }

  private async openCurrent(atEnd: boolean): Promise<void> {
    let fh: FileHandle;
    try {
      fh = await open(this.path, 'r');
    } catch (e) {
      // Absent is normal (tail -F waits for it); anything else (permissions, a directory) is said once.
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== this.lastOpenError) this.onError(new Error(`cannot open ${this.path}: ${(e as Error).message}`));
      this.lastOpenError = code ?? null;
      return;
    }
    const st = await fh.stat();
    if (!st.isFile()) {
      await fh.close();
      if (this.lastOpenError !== 'NOTFILE') this.onError(new Error(`cannot follow ${this.path}: not a regular file`));
      this.lastOpenError = 'NOTFILE';
      return;
    }
    this.lastOpenError = null;
    this.current = { fh, ino: st.ino, dev: st.dev, pos: atEnd ? st.size : 0, partial: [], partialLen: 0, skipping: false, idleSince: Date.now() };
  }

  private async step(): Promise<void> {
    for (const r of [...this.retired]) {
      if (await this.drain(r)) r.idleSince = Date.now();
      else if (Date.now() - r.idleSince >= this.opts.drainMs) await this.retire(r);
    }
    const cur = this.current;
    if (cur) {
      const st = await cur.fh.stat();
      if (st.size < cur.pos) {
        // Truncated in place: what is there now was written after the truncation.
        this.stats.truncations++;
        cur.pos = 0; cur.partial = []; cur.partialLen = 0; cur.skipping = false;
      }
      await this.drain(cur);
    }
    let named;
    try { named = await stat(this.path); } catch { named = null; }
    if (named && (!cur || named.ino !== cur.ino || named.dev !== cur.dev)) {
      if (cur) {
        this.stats.rotations++;
        cur.idleSince = Date.now();
        this.retired.push(cur);
        this.current = null;
      }
      await this.openCurrent(false);
      if (this.current) await this.drain(this.current);
    }
  }

  private async retire(r: Reader): Promise<void> {
    this.retired.splice(this.retired.indexOf(r), 1);
    // The writer has moved on: a last line without its newline is still a line.
    if (r.partialLen) await this.emit([Buffer.concat(r.partial).toString('utf8')]);
    await r.fh.close().catch(() => undefined);
  }

  /** Reads r to its end; returns whether anything was read. */
  private async drain(r: Reader): Promise<boolean> {
    const buf = Buffer.allocUnsafe(CHUNK);
    let any = false;
    for (;;) {
      const { bytesRead } = await r.fh.read(buf, 0, CHUNK, r.pos);
      if (bytesRead === 0) return any;
      any = true;
      r.pos += bytesRead;
      this.stats.bytes += bytesRead;
      await this.emit(this.split(r, buf.subarray(0, bytesRead)));
      if (this.stopped) return any;
    }
  }

  private split(r: Reader, data: Buffer): string[] {
    const lines: string[] = [];
    const max = this.opts.maxLineBytes;
    let start = 0;
    for (;;) {
      const nl = data.indexOf(10, start);
      const end = nl < 0 ? data.length : nl;
      if (!r.skipping) {
        const room = max - r.partialLen;
        const piece = data.subarray(start, Math.min(end, start + room));
        if (piece.length) { r.partial.push(Buffer.from(piece)); r.partialLen += piece.length; }
        if (end - start > room) { r.skipping = true; this.stats.oversized++; }
      }
      if (nl < 0) break;
      lines.push(dropCRs(Buffer.concat(r.partial).toString('utf8')));
      r.partial = []; r.partialLen = 0; r.skipping = false;
      start = nl + 1;
    }
    return lines;
  }

  private async emit(lines: string[]): Promise<void> {
    if (!lines.length) return;
    this.stats.lines += lines.length;
    await this.onLines(lines);
  }
}
