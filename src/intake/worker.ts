// The intake worker: parses reports behind their acknowledgement. A channel that answers at the raw
// commit (HTTP) hands the stored report over with its bytes; the worker parses it, commits its
// events (group commit: one transaction for the reports parsed together) and runs the sinks. At
// the start of the desk it is fed from the store: reports still 'received', and reports whose events
// are stored but whose sinks had not finished (sinks_pending) when the last run stopped.
import type { Desk } from '../desk.js';
import type { DeskService } from '../services.js';
import { runSinksBatch, type SinkPart } from './sinks.js';
import {
  commitOutcomes, intakeIdle, parseOutcome, parseStoredReport, processReport, receivedReports, reportResult, resumeSinks, settleSinks,
  type Channel, type IngestResult, type IntakeMeta, type ReportToParse,
} from './ingest.js';

export interface StoredReport { reportId: number; raw: Buffer; channel: Channel; meta: IntakeMeta }

/** Reports parsed together: their outcomes share one events commit. */
const BATCH = 64;
/**
 * Under load, how long the worker waits for a short queue to fill up to a batch: a batch's commits
 * cost much the same whatever its size (the worker took 0.53-0.65 ms CPU per report in batches of
 * 16, 0.28-0.31 ms in batches of 64, sinks off), and the embedded database's time is the answers' too.
 */
const GATHER_MS = 25;
/** Raw bytes held for queued reports; past this, queued reports are read back from the store. */
const MAX_HELD = 64 << 20;
/** A report whose processing keeps failing (the database away) is left for the next start. */
const MAX_ATTEMPTS = 5;
/** Reports read from the store per page while recovering. */
const SCAN_PAGE = 1000;

interface Queued { report?: StoredReport; attempts: number }

export class IntakeWorker {
  private readonly queue = new Map<number, Queued>();
  private readonly waiters = new Map<number, Set<(r: IngestResult | null) => void>>();
  private held = 0;
  private running: Promise<void> | null = null;
  private stopped = false;
  private pause: { timer: NodeJS.Timeout; resolve: () => void } | null = null;
  /** Set while the worker waits for a batch to fill up: a full queue ends the wait. */
  private gathering: (() => void) | null = null;
  /** While recovering: the report id after which the next page of unfinished reports starts. */
  private scanAfter: number | null = null;
  private recovered = 0;

  constructor(private readonly desk: Desk) {}

  /** A report just committed, with its bytes in hand (so that they need not be read back). */
  add(report: StoredReport): void {
    if (this.stopped || this.queue.has(report.reportId)) return;
    const hold = this.held + report.raw.length <= MAX_HELD;
    if (hold) this.held += report.raw.length;
    this.queue.set(report.reportId, { report: hold ? report : undefined, attempts: 0 });
    if (this.queue.size >= BATCH) this.gathering?.();
    this.kick();
  }

  /** Takes up every report the store has unfinished, a page at a time. */
  recover(): void {
    this.scanAfter = 0;
    this.kick();
  }

  /** The report's outcome once the worker has finished it, or null if that takes longer than `ms`. */
  result(reportId: number, ms: number): Promise<IngestResult | null> {
    return new Promise((resolve) => {
      let set = this.waiters.get(reportId);
      if (!set) this.waiters.set(reportId, set = new Set());
      const done = (r: IngestResult | null) => { clearTimeout(timer); set!.delete(done); if (!set!.size) this.waiters.delete(reportId); resolve(r); };
      const timer = setTimeout(() => done(null), ms);
      set.add(done);
    });
  }

  /** Resolves when the worker has nothing left to do (or has stopped). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  /** Stops after the reports in hand; what is queued stays unfinished in the store for the next start. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.pause) { clearTimeout(this.pause.timer); this.pause.resolve(); }
    this.gathering?.();
    await this.idle();
    for (const [, set] of this.waiters) for (const w of [...set]) w(null);
  }

  private kick(): void {
    if (this.running || this.stopped) return;
    this.running = this.run()
      .catch((e) => this.desk.log.error({ err: e }, 'intake worker failed'))
      .finally(() => {
        this.running = null;
        if (this.queue.size || this.scanAfter !== null) this.kick();
      });
  }

  private async run(): Promise<void> {
    let failedRounds = 0;
    while (!this.stopped) {
      if (!this.queue.size && this.scanAfter !== null) await this.scan();
      if (!this.queue.size) break;
      const batch: [number, Queued][] = [];
      for (const entry of this.queue) {
        batch.push(entry);
        this.queue.delete(entry[0]);
        if (entry[1].report) this.held -= entry[1].report.raw.length;
        if (batch.length === BATCH) break;
      }
      // Parsed together, so that their outcomes share one commit, and handed to the sinks together.
      const outcomes = await this.process(batch);
      let failed = 0;
      const parts: SinkPart[] = [];
      const sunk: IngestResult[] = [];
      const finished: IngestResult[] = [];
      for (const [i, o] of outcomes.entries()) {
        const [id, q] = batch[i];
        if (o.status === 'fulfilled') {
          finished.push(o.value.result);
          if (o.value.part) { parts.push(o.value.part); sunk.push(o.value.result); }
          continue;
        }
        failed++;
        if (++q.attempts < MAX_ATTEMPTS && !this.queue.has(id)) this.queue.set(id, { attempts: q.attempts });
        this.desk.log.error({ err: o.reason, report: id, attempts: q.attempts },
          q.attempts < MAX_ATTEMPTS ? 'intake worker could not process a report; retrying' : 'intake worker gave up on a report until the next start');
      }
      // The embedded database answers in microtasks: a turn of the event loop lets the requests
      // that arrived meanwhile (and their raw commits) in before the sink work.
      await new Promise((r) => setImmediate(r));
      // The batch's sinks are recorded done together; a stop before this runs them again at the next start.
      try {
        const cases = await runSinksBatch(this.desk, parts);
        sunk.forEach((r, i) => { r.cases = cases[i]; });
        await settleSinks(this.desk, sunk);
      } catch (e) {
        this.desk.log.error({ err: e, reports: sunk.length }, 'could not record the sinks done; the next start runs them again');
      }
      for (const r of finished) this.settle(r.reportId, r);
      // Everything failing is the database, not the reports: back off instead of spinning.
      if (failed === batch.length) await this.sleep(Math.min(30_000, 100 * 2 ** ++failedRounds));
      else {
        failedRounds = 0;
        // Reports came in while this batch was worked on: let a full batch gather before the next.
        if (this.queue.size && this.queue.size < BATCH) await this.gather();
        else await new Promise((r) => setImmediate(r));
      }
    }
  }

  /**
   * Parses the batch's reports, then commits their outcomes together (one transaction). Reports
   * whose bytes are not in hand (past MAX_HELD, or left by the last run) are read back and parsed
   * with the rest; a feed, a report over the size limit or one whose sinks are pending is finished
   * on its own.
   */
  private async process(batch: [number, Queued][]): Promise<PromiseSettledResult<{ result: IngestResult; part?: SinkPart }>[]> {
    // Should this fail, each report is tried on its own below, its failure counted.
    const stored = await receivedReports(this.desk, batch.flatMap(([id, q]) => (q.report ? [] : [id]))).catch(() => new Map<number, ReportToParse>());
    const parsed = await Promise.allSettled(batch.map(([reportId, { report }]) => {
      if (report) return parseOutcome(this.desk, { reportId, channel: report.channel, replace: false, reparse: false }, report.raw, report.meta);
      const s = stored.get(reportId);
      return s ? parseStoredReport(this.desk, s) : null;
    }));
    const commits = commitOutcomes(this.desk, parsed.flatMap((p) => (p.status === 'fulfilled' && p.value ? [p.value] : [])));
    let at = 0;
    return Promise.allSettled(parsed.map(async (p, i) => {
      if (p.status === 'rejected') throw p.reason;
      return p.value ? commits[at++] : { result: await this.processStored(batch[i][0]) };
    }));
  }

  private async processStored(id: number): Promise<IngestResult> {
    const r = await this.desk.db.query<{ status: string; sinks_pending: boolean }>('SELECT status, sinks_pending FROM reports WHERE id = $1', [id]);
    const row = r.rows[0];
    if (!row) throw new Error(`no report ${id}`);
    if (row.status === 'received') return processReport(this.desk, id);
    if (row.sinks_pending) return resumeSinks(this.desk, id);
    return reportResult(this.desk, id);
  }

  private settle(id: number, r: IngestResult): void {
    for (const w of [...this.waiters.get(id) ?? []]) w(r);
  }

  private async scan(): Promise<void> {
    const r = await this.desk.db.query<{ id: string }>(
      `SELECT id FROM reports WHERE (status = 'received' OR sinks_pending) AND id > $1 ORDER BY id LIMIT ${SCAN_PAGE}`, [this.scanAfter]);
    for (const { id } of r.rows) if (!this.queue.has(Number(id))) this.queue.set(Number(id), { attempts: 0 });
    this.recovered += r.rows.length;
    if (r.rows.length < SCAN_PAGE) {
      this.scanAfter = null;
      if (this.recovered) this.desk.log.info({ reports: this.recovered }, 'finishing reports the last run left unparsed or without their sinks');
    } else this.scanAfter = Number(r.rows.at(-1)!.id);
  }

  private gather(): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.gathering?.(), GATHER_MS);
      this.gathering = () => { clearTimeout(timer); this.gathering = null; resolve(); };
    });
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => { this.pause = null; resolve(); }, ms);
      this.pause = { timer, resolve };
    });
  }
}

const workers = new WeakMap<Desk, IntakeWorker>();

/** The desk's intake worker, made on first use. */
export function intakeWorker(desk: Desk): IntakeWorker {
  let w = workers.get(desk);
  if (!w) workers.set(desk, w = new IntakeWorker(desk));
  return w;
}

/** Stops the worker (if one runs) after the reports in hand and waits for the commits in flight. */
export async function stopIntake(desk: Desk): Promise<void> {
  await workers.get(desk)?.stop();
  await intakeIdle(desk);
}

/**
 * At start, finishes what the last run left (reports stored but not parsed, or parsed without their
 * sinks done); at stop, lets the reports in hand finish. What is left waits for the next start.
 */
export const intakeWorkerService: DeskService = {
  name: 'intake-worker',
  async start(desk) {
    intakeWorker(desk).recover();
    return { stop: () => stopIntake(desk) };
  },
};
