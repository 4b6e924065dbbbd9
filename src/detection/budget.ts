// Bounding the time regular expressions may take on a line.
//
// A backtracking engine can take exponential time on some pattern/line pairs, and V8 cannot
// be interrupted from inside the same thread... except through the termination that `vm`'s
// `timeout` uses, which does stop a running RegExp. A `vm` call costs ~0.2 ms, too much per line,
// so lines run in chunks inside one guarded call: when the guard fires, the line in progress is
// the one that ran past the budget; it is counted and skipped, and the chunk resumes after it.
//
// In addition V8 switches to its linear-time engine after a number of backtracks
// (../regexp-fallback.ts), which covers patterns without lookaround or backreferences.
import vm from 'node:vm';

const context = vm.createContext(Object.create(null));
const runScript = new vm.Script('__task()');

/** Runs task under a wall-clock limit; false when the limit stopped it. */
export function runGuarded(task: () => void, ms: number): boolean {
  (context as Record<string, unknown>).__task = task;
  try {
    runScript.runInContext(context, { timeout: Math.max(1, Math.ceil(ms)) });
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ERR_SCRIPT_EXECUTION_TIMEOUT') return false;
    throw e;
  } finally {
    (context as Record<string, unknown>).__task = undefined;
  }
}

/** Per-line time accounting: the slowest line and how many lines exceeded the budget. */
export class LineBudget {
  over = 0;
  slowest = 0;
  constructor(readonly ms: number) {}
  /** A line took `d` ms. */
  record(d: number): void {
    if (d > this.slowest) this.slowest = d;
  }
}
