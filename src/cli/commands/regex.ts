// `madoguchi regex`: fail2ban-regex's job. Runs a fail2ban filter over a log file and prints the
// failures (one JSON line each with --json) or a summary. No database, no config needed: it is
// run many times in a row by the conformance checker, so it only loads the detection engine.
import { existsSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { FilterError, loadFilter, type Failure, type FilterStats } from '../../detection/filter.js';
import { newReadStats, readLogLines, type ReadStats } from '../../detection/logfile.js';
import { localTime } from '../../detection/localtime.js';
import { MIN_PART, partCount, PartsCount } from '../../detection/parallel.js';
import { defaultTranslationCacheDir } from '../../detection/translationcache.js';
import { UsageError, type Command } from '../command.js';

export const regex: Command = {
  name: 'regex',
  summary: 'run a fail2ban filter over a log file, as fail2ban-regex does',
  usage: `[--json] [--now EPOCH] [--budget MS] [--threads N] [--part-mb N] [--no-cache] LOG FILTER

FILTER is a fail2ban filter file, optionally with options as fail2ban-regex takes them:
  /etc/fail2ban/filter.d/sshd.conf[mode=aggressive]
Lines are processed in order; as fail2ban-regex reads a file, empty lines and lines starting with #
are skipped (not counted) and a last line without a line end is not read. --now fixes "now" (epoch
seconds) for year-less dates and for logtype=journal, where lines carry no date. --budget is the
time one line may take (default 1000 ms); lines over it are abandoned and counted. Without --json
a large log is counted by up to --threads threads (default: the cores), each over a part of at
least --part-mb MiB (default 16), with the counts of one sequential run (each part is checked to
start from the state the lines before it leave; see detection/parallel.ts).
The filter's expressions, once translated to JavaScript, are kept for the next run in the
user's own directory under the system's temporary one (one file per filter definition, so a
changed filter is translated again; --no-cache: neither read nor written).
With --json, one line per failure:
  {"line": N, "epoch": S, "time": "YYYY-MM-DDTHH:MM:SS", "fid": ID, "host": RAW, "user": ..., "attempts": N, ...}
with every <F-*> capture under its fail2ban name; time is in the local zone (TZ).`,
  async run(ctx, argv) {
    const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: {
      json: { type: 'boolean', default: false }, now: { type: 'string' }, budget: { type: 'string' }, threads: { type: 'string' }, 'part-mb': { type: 'string' },
      'no-cache': { type: 'boolean', default: false },
    } });
    if (positionals.length !== 2) throw new UsageError('give a log file and a filter');
    const [log, spec] = positionals;
    // A batch run has one "now": given, or the time it started.
    const n = values.now === undefined ? Math.floor(Date.now() / 1000) : Number(values.now);
    if (!Number.isFinite(n)) throw new UsageError(`--now: not a number: ${values.now}`);
    const now = () => n;
    const budget = values.budget === undefined ? undefined : Number(values.budget);
    if (budget !== undefined && !(budget > 0)) throw new UsageError(`--budget: not a positive number: ${values.budget}`);
    const threads = values.threads === undefined ? availableParallelism() : Number(values.threads);
    if (!Number.isInteger(threads) || threads < 1) throw new UsageError(`--threads: not a positive integer: ${values.threads}`);
    const minPart = values['part-mb'] === undefined ? MIN_PART : Number(values['part-mb']) * (1 << 20);
    if (!(minPart > 0)) throw new UsageError(`--part-mb: not a positive number: ${values['part-mb']}`);
    if (!existsSync(log)) { ctx.stderr.write(`madoguchi regex: no such log file: ${log}\n`); return 1; }
    // A large log is counted in parts: the worker threads start now, while this one loads the filter.
    const parts = !values.json && partCount(statSync(log).size, threads, minPart) > 1 ? new PartsCount(log, spec, { now: n, lineBudgetMs: budget, threads, minPart }) : null;
    let filter;
    try {
      filter = loadFilter(spec, { now, lineBudgetMs: budget, skipComments: true, translationCache: values['no-cache'] ? undefined : defaultTranslationCacheDir() });
    } catch (e) {
      parts?.close();
      if (e instanceof FilterError) { ctx.stderr.write(`madoguchi regex: ${e.message}\n`); return 1; }
      throw e;
    }
    const started = performance.now();
    if (parts) {
      const r = await parts.count(filter);
      const how = `Counted in ${r.parts} parts by as many threads; ${r.recounted} recounted by the first (state check)\n`;
      await write(ctx.stdout, summary(log, spec, filter, r.stats, r.read, (performance.now() - started) / 1000) + how);
      filter.saveTranslations();
      return 0;
    }
    const local = localTime();
    const read = newReadStats();
    let out = '';
    for await (const batch of readLogLines(log, read, undefined, null, true, true)) {
      // Without --json only the summary is printed: failures are counted, not built.
      const found = filter.processLines(batch.lines, batch.firstLineNo, { ascii: batch.ascii, countOnly: !values.json, newline: true });
      if (!values.json) continue;
      for (const f of found) out += JSON.stringify(failureJson(f, local)) + '\n';
      if (out.length > 1 << 16) { await write(ctx.stdout, out); out = ''; }
    }
    if (out) await write(ctx.stdout, out);
    if (!values.json) await write(ctx.stdout, summary(log, spec, filter, filter.stats(), read, (performance.now() - started) / 1000));
    filter.saveTranslations();
    return 0;
  },
};

function write(stream: NodeJS.WriteStream, text: string): Promise<void> {
  return new Promise((resolve) => { if (stream.write(text)) resolve(); else stream.once('drain', resolve); });
}

/** The JSON form of a failure: fail2ban's names, the raw host, local time. */
export function failureJson(f: Failure, local = localTime()): Record<string, unknown> {
  const epoch = Number.isNaN(f.epoch) ? null : f.epoch;
  const o: Record<string, unknown> = { line: f.line, epoch, time: epoch === null ? null : local.format(epoch), fid: f.fid, host: f.host };
  for (const [k, v] of Object.entries(f.captures)) if (!(k in o)) o[k] = v;
  o.attempts = f.attempts;
  return o;
}

function summary(log: string, spec: string, filter: ReturnType<typeof loadFilter>, st: FilterStats, read: ReadStats, seconds: number): string {
  const def = filter.definition;
  const regexList = (title: string, list: string[], hits: number[]) => {
    let s = `${title}: ${hits.reduce((a, b) => a + b, 0)} total\n`;
    // As fail2ban-regex without -v: only the expressions that matched, numbered as in the filter.
    const matched = list.map((r, i) => `|  ${String(i + 1).padStart(2)}) [${hits[i]}] ${r}\n`).filter((_, i) => hits[i]);
    if (matched.length) s += `|-  #) [# of hits] regular expression\n${matched.join('')}\`-\n`;
    return s;
  };
  return `
Running tests
=============

Use   failregex filter file : ${def.name}, files: ${def.files.join(', ')}
Use      filter spec        : ${spec}
Use         log file        : ${log}
Use         logtype         : ${filter.logtype}

Results
=======

${regexList('Failregex', def.failregex, st.failregexHits)}
${regexList('Ignoreregex', def.ignoreregex, st.ignoreregexHits)}
Lines: ${st.lines} lines, ${st.ignored} ignored, ${st.matched} matched, ${st.lines - st.matched - st.ignored} missed
Failures: ${st.failures}
Lines without a date: ${st.noDate}
Lines over the time budget (abandoned): ${st.overBudget}; slowest line ${st.slowestLineMs.toFixed(1)} ms
Lines cut at the length limit: ${read.truncated}
Last line without a line end (not read, as fail2ban-regex): ${read.unfinished}
[processed in ${seconds.toFixed(2)} sec, ${Math.round(st.lines / Math.max(seconds, 1e-6))} lines/s]
`;
}
