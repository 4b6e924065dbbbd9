// A large log counted by several threads, with the sequential result.
//
// The file is cut at line starts into parts: the calling thread counts the first with the
// filter it has loaded, a worker thread each of the others. A worker starts earlier (a few MiB of warm-up whose results are dropped), so that its filter has
// built the state a sequential run would have at its part's start: date template, <F-MLFID>
// merges pending, multi-line buffer. That is checked, not assumed: the previous part's final
// carry state must equal the state the worker had at its part's start, and its date detector
// must not have searched all templates inside the part (only then do the hit counts it could
// not know matter). A part that fails the check is counted again by the calling thread, which
// continues from the true state, and so are all parts after it. The counts are those of one
// sequential run over the file.
import { availableParallelism } from 'node:os';
import { statSync } from 'node:fs';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { once } from 'node:events';
import { loadFilter, type Filter, type FilterStats } from './filter.js';
import { addReadStats, lineStartAt, newReadStats, readLogLines, type ReadStats } from './logfile.js';
import { translationsMade, useTranslations, type Translated } from './pyregex.js';

/** Warm-up read before a part: enough lines for a busy log's state to settle. */
const WARM_UP = 2 << 20;
/**
 * Smallest part worth a thread: a worker costs ~0.2 s of CPU before its first line (Node, the
 * engine's modules, JIT warm-up, the warm-up read; the filter's translation it is handed), so a
 * part must take well over that.
 */
export const MIN_PART = 16 << 20;

export interface PartsOptions { now: number; lineBudgetMs?: number; threads?: number; minPart?: number }

export interface PartsResult {
  stats: FilterStats;
  read: ReadStats;
  /** Parts the file was cut into (1: counted by one thread). */
  parts: number;
  /** Parts that failed the state check and were counted again. */
  recounted: number;
}

interface Job { log: string; spec: string; now: number; lineBudgetMs?: number; warmFrom: number; from: number; to: number }
interface PartReport { startState: string | null; searched: boolean; stats: FilterStats; read: ReadStats; endState: string }

/** How many parts a file of this size is cut into for `threads` threads. */
export function partCount(size: number, threads = availableParallelism(), minPart = MIN_PART): number {
  return Math.max(1, Math.min(threads, Math.floor(size / minPart)));
}

/**
 * Counting a log as `madoguchi regex` does without --json, in parts when it is large: the worker
 * threads start at once, while the calling thread loads its filter; count() hands them its
 * translations, so that the filter is translated once.
 */
export class PartsCount {
  private readonly bounds = [0];
  private readonly workers: PartWorker[];
  constructor(private readonly log: string, spec: string, opts: PartsOptions) {
    const size = statSync(log).size;
    const n = partCount(size, opts.threads, opts.minPart);
    for (let k = 1; k < n; k++) {
      const b = lineStartAt(log, Math.floor((size * k) / n));
      if (b > this.bounds[this.bounds.length - 1] && b < size) this.bounds.push(b);
    }
    this.bounds.push(size);
    this.workers = this.bounds.slice(1, -1).map((from, k) => new PartWorker({
      log, spec, now: opts.now, lineBudgetMs: opts.lineBudgetMs, from, to: this.bounds[k + 2],
      warmFrom: lineStartAt(log, Math.max(0, from - WARM_UP)),
    }));
  }

  /** `filter` (loaded from the same spec with the same options, not used yet) counts the first part. */
  async count(filter: Filter): Promise<PartsResult> {
    try {
      const translations = translationsMade();
      for (const w of this.workers) w.start(translations);
      return await countParts(filter, this.log, this.bounds, this.workers);
    } finally {
      this.close();
    }
  }

  close(): void {
    for (const w of this.workers) w.close();
  }
}

/** Counts the first part here, adds each worker's part whose start state checks, counts the others again. */
async function countParts(filter: Filter, log: string, bounds: number[], workers: PartWorker[]): Promise<PartsResult> {
  const parts = bounds.length - 1;
  const first = await countRange(filter, log, bounds[0], bounds[1], null);
  const reports = [first, ...await Promise.all(workers.map((w) => w.report))];
  let stats = reports[0].stats, read = reports[0].read;
  let state = reports[0].endState;
  let recounted = 0;
  for (let k = 1; k < parts; k++) {
    const r = reports[k];
    if (recounted === 0 && r.startState === state && !r.searched) {
      stats = addStats(stats, r.stats);
      read = addReadStats(read, r.read);
      state = r.endState;
      continue;
    }
    // This thread's filter holds the true state at this part's start: it counts this part and the rest.
    const again = await countRange(filter, log, bounds[k], bounds[k + 1], null);
    stats = addStats(stats, again.stats);
    read = addReadStats(read, again.read);
    recounted++;
  }
  return { stats, read, parts, recounted };
}

function addStats(a: FilterStats, b: FilterStats): FilterStats {
  return {
    lines: a.lines + b.lines, matched: a.matched + b.matched, ignored: a.ignored + b.ignored,
    failures: a.failures + b.failures, noDate: a.noDate + b.noDate, overBudget: a.overBudget + b.overBudget,
    slowestLineMs: Math.max(a.slowestLineMs, b.slowestLineMs),
    failregexHits: a.failregexHits.map((x, i) => x + b.failregexHits[i]),
    ignoreregexHits: a.ignoreregexHits.map((x, i) => x + b.ignoreregexHits[i]),
  };
}

function subStats(a: FilterStats, b: FilterStats): FilterStats {
  return {
    lines: a.lines - b.lines, matched: a.matched - b.matched, ignored: a.ignored - b.ignored,
    failures: a.failures - b.failures, noDate: a.noDate - b.noDate, overBudget: a.overBudget - b.overBudget,
    slowestLineMs: a.slowestLineMs,
    failregexHits: a.failregexHits.map((x, i) => x - b.failregexHits[i]),
    ignoreregexHits: a.ignoreregexHits.map((x, i) => x - b.ignoreregexHits[i]),
  };
}

/** One worker thread counting one part. */
class PartWorker {
  private readonly worker: Worker;
  /** Its report (listened to from the start: it may come before anyone waits for it). */
  readonly report: Promise<PartReport>;
  constructor(job: Job) {
    this.worker = new Worker(new URL(import.meta.url), { workerData: { madoguchiPart: job } });
    this.report = new Promise((resolve, reject) => {
      this.worker.once('message', resolve);
      this.worker.once('error', reject);
      this.worker.once('exit', (code) => reject(new Error(`detection worker exited (${code}) before reporting`)));
    });
    this.report.catch(() => undefined); // awaited later; not an unhandled rejection meanwhile
  }
  /** Hands the worker the translations its filter needs; it waits for them. */
  start(translations: Array<[string, Translated]>): void {
    this.worker.postMessage(translations);
  }
  close(): void {
    this.worker.removeAllListeners('exit');
    void this.worker.terminate();
  }
}

async function count(filter: Filter, log: string, from: number, to: number): Promise<ReadStats> {
  const read = newReadStats();
  // Line numbers only label failures, which are not built here.
  for await (const b of readLogLines(log, read, 8192, { start: from, end: to }, true, true)) filter.processLines(b.lines, 1, { ascii: b.ascii, countOnly: true, newline: true });
  return read;
}

/** Counts [from, to) with a filter, continuing from its state; the counts of that range alone. */
async function countRange(filter: Filter, log: string, from: number, to: number, startState: string | null): Promise<PartReport> {
  const before = filter.stats();
  const searches = filter.dateSearches();
  const read = await count(filter, log, from, to);
  return { startState, searched: filter.dateSearches() !== searches, stats: subStats(filter.stats(), before), read, endState: filter.carryState() };
}

/** In a worker: warm up, count the part, report. */
async function runPart(job: Job): Promise<void> {
  const [translations] = await once(parentPort!, 'message') as [Array<[string, Translated]>];
  useTranslations(translations);
  const filter = loadFilter(job.spec, { now: () => job.now, lineBudgetMs: job.lineBudgetMs, skipComments: true });
  await count(filter, job.log, job.warmFrom, job.from);
  parentPort!.postMessage(await countRange(filter, job.log, job.from, job.to, filter.carryState()));
}

if (!isMainThread && (workerData as { madoguchiPart?: Job } | null)?.madoguchiPart) {
  await runPart((workerData as { madoguchiPart: Job }).madoguchiPart);
}
