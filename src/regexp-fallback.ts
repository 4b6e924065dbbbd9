// Every report and log line is a stranger's text, and a backtracking regular-expression engine can
// take quadratic or exponential time on some text (a Date: header of 150,000 blanks took 15 s, a
// From: header 5 minutes, before this was on). V8 can switch an expression to its linear-time
// engine once one search has backtracked this many times; that covers every pattern without
// lookaround or backreferences, and gives the same matches. It applies to expressions compiled
// (first run) after it is set, so the CLI sets it first thing and the parsers and the detection
// engine set it when loaded.
import v8 from 'node:v8';

let set = false;

export function enableBacktrackFallback(backtracks = 50_000): void {
  if (set) return;
  v8.setFlagsFromString('--enable-experimental-regexp-engine-on-excessive-backtracks');
  v8.setFlagsFromString(`--regexp-backtracks-before-fallback=${backtracks}`);
  set = true;
}
