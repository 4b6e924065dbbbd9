// Hostile input, timed (issue 3: a report never holds the desk): the parser samples mutated the
// way strangers' mail is broken (bytes flipped, cut short, pieces repeated, line ends changed,
// long runs of blanks, of one character or of a token with no end: '<', '@', '(', '=?', ...),
// each through parseReport, and the worst time per input. Inputs over --slow-ms are written to
// --out for a profile (`node --cpu-prof`); a parse that throws is a bug and is counted.
// Run: node dist/bench/parse-hostile.js [--inputs N] [--seed S] [--slow-ms MS] [--out DIR]
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DEFAULT_LIMITS, parseReport, type ParseContext } from '../src/parsers/index.js';

const { values } = parseArgs({ options: {
  inputs: { type: 'string', default: '1500' }, seed: { type: 'string', default: '7' },
  'slow-ms': { type: 'string', default: '500' }, out: { type: 'string', default: '/tmp/madoguchi-hostile' },
} });

const root = fileURLToPath(new URL('../../src/parsers/', import.meta.url));
const samples: string[] = [];
for (const format of readdirSync(root)) {
  let files: string[] = [];
  try { files = readdirSync(join(root, format, 'samples')); } catch { continue; }
  for (const f of files) if (!f.endsWith('.expected.json')) samples.push(join(root, format, 'samples', f));
}

let seed = Number(values.seed);
const rnd = (n: number) => { seed = (seed * 1103515245 + 12345) >>> 0; return Math.floor((seed / 4294967296) * n); };
const TOKENS = ['<', '@', '(', '[', ':', '.', '0', 'a', '=?', 'http://', '-', '/', '%', '&#', '"', "'", '=', ';', ',', '>', '\\', '*', '_', '|', '#', '+', 'xn--', 'www.', '%2e', '\u3000', '．', '１', 'hxxp://', '[.]', '(dot)', '\x1b$B', '=\r\n', '--', 'Content-Type: multipart/mixed; boundary=', '[:]'];

/** One way a stranger's mail is broken, applied to `b`. */
function mutate(b: Buffer): Buffer {
  const s = b.toString('latin1');
  const at = rnd(s.length + 1);
  const splice = (piece: string) => Buffer.from(s.slice(0, at) + piece + s.slice(at), 'latin1');
  switch (rnd(8)) {
    case 0: { const c = Buffer.from(b); for (let i = 0; i < 1 + rnd(20); i++) c[rnd(c.length)] = rnd(256); return c; }
    case 1: return b.subarray(0, rnd(b.length));
    case 2: return splice(s.slice(at, at + rnd(2000)).repeat(1 + rnd(200)));
    case 3: return Buffer.from(s.replace(/\r?\n/g, () => ['\n', '\r\n', '\r', ''][rnd(4)]), 'latin1');
    case 4: return splice([' ', '\t', 'x', '1.'][rnd(4)].repeat(100_000 + rnd(400_000)));
    case 5: { const lines = s.split('\n'); for (let i = 0; i < 30; i++) { const x = rnd(lines.length), y = rnd(lines.length); [lines[x], lines[y]] = [lines[y], lines[x]]; } return Buffer.from(lines.join('\n'), 'latin1'); }
    default: {
      // A token repeated with or without a separator: what an expression waiting for an end sees.
      const piece = (TOKENS[rnd(TOKENS.length)] + [' ', '', '\n', 'a', '.'][rnd(5)]).repeat(20_000 + rnd(80_000));
      return Buffer.concat([b.subarray(0, at), Buffer.from(piece, 'utf8'), b.subarray(at)]);
    }
  }
}

const ctx: ParseContext = { isOurs: (r) => r.startsWith('203.0.113.'), limits: DEFAULT_LIMITS };
const n = Number(values.inputs);
const slowMs = Number(values['slow-ms']);
const times: number[] = [];
let thrown = 0;
let slow = 0;
let bytes = 0;
for (let i = 0; i < n; i++) {
  const file = samples[rnd(samples.length)];
  let input: Buffer = readFileSync(file);
  for (let k = 1 + rnd(3); k > 0; k--) input = mutate(input);
  bytes += input.length;
  // Half the inputs name their file, so that CSV, zip and JSON samples take their own paths too.
  const hint = rnd(2) ? { filename: basename(file) } : {};
  const t = performance.now();
  try {
    const r = await parseReport(input, ctx, hint);
    if (typeof r.rejected !== 'boolean') throw new Error('no outcome');
  } catch (e) {
    thrown++;
    process.stdout.write(`threw: ${(e as Error).message} (${basename(file)}, input ${i})\n`);
  }
  const ms = performance.now() - t;
  times.push(ms);
  if (ms > slowMs) {
    slow++;
    mkdirSync(values.out, { recursive: true });
    const saved = join(values.out, `slow-${values.seed}-${i}.eml`);
    writeFileSync(saved, input);
    process.stdout.write(`slow: ${ms.toFixed(0)} ms for ${input.length} bytes from ${basename(file)} -> ${saved}\n`);
  }
}
times.sort((a, b) => a - b);
const q = (p: number) => times[Math.min(times.length - 1, Math.floor(p * times.length))].toFixed(1);
process.stdout.write(`${n} mutated inputs from ${samples.length} samples (seed ${values.seed}), ${(bytes / n / 1024).toFixed(0)} KB average: ` +
  `p50 ${q(0.5)} ms, p99 ${q(0.99)} ms, worst ${times[times.length - 1].toFixed(1)} ms; over ${slowMs} ms: ${slow}; threw: ${thrown}; ` +
  `peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB\n`);
process.exitCode = thrown ? 1 : 0;
