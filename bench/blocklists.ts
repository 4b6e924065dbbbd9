// Blocklist matching benchmark, with Debian's `iprange` as the peer on the same files in the same
// run: 400 lists holding 10,000,000 entries in all (sizes skewed like real collections: a few
// big lists, many small ones), matched against 100,000 inventory netblocks.
//
//   node dist/bench/blocklists.js [--lists 400] [--entries 10000000] [--netblocks 100000] [--keep DIR]
//
// Madoguchi: read and parse every list file and the inventory file, and intersect each list with
// the inventory, in this one process. iprange: `iprange LIST --common INVENTORY` once per list
// (what an operator scripts with FireHOL's tools), run one after another. Both answers are
// compared address for address before any figure is printed.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { tmpdir, cpus } from 'node:os';
import { join } from 'node:path';
import { parseListFile, ListParser } from '../src/blocklists/format.js';
import { inventoryFromRanges } from '../src/blocklists/inventory.js';
import { matchList } from '../src/blocklists/match.js';
import { addressCount, merged, pairwiseOverlap } from '../src/blocklists/ranges.js';
import { formatIPv4 } from '../src/attribution/ip.js';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
}
const LISTS = arg('lists', 400), ENTRIES = arg('entries', 10_000_000), NETBLOCKS = arg('netblocks', 100_000);
const keepAt = process.argv.indexOf('--keep');
const dir = process.argv[2]?.startsWith('--measure') ? process.argv[3]
  : keepAt > 0 ? process.argv[keepAt + 1] : mkdtempSync(join(tmpdir(), 'madoguchi-bench-bl-'));
mkdirSync(dir, { recursive: true });

// A fixed seed: every run measures the same files.
let seed = 20240601;
function rnd(): number { seed = (seed * 1664525 + 1013904223) >>> 0; return seed; }

/** Inventory: distinct random /24s, each holding one netblock (/24, /28, /29 or a single address). */
function makeInventory(): { path: string; blocks: Uint32Array } {
  const bases = new Set<number>();
  while (bases.size < NETBLOCKS) bases.add((rnd() >>> 8) % (223 << 16) + (1 << 16)); // 0.1.0.0 .. 223.255.255.0, as /24 numbers
  const blocks = new Uint32Array(NETBLOCKS * 2);
  const lines: string[] = [];
  let i = 0;
  for (const b of bases) {
    const r = rnd() % 10, base = b * 256;
    const plen = r < 4 ? 32 : r < 7 ? 29 : r < 9 ? 28 : 24;
    const size = 2 ** (32 - plen);
    const first = base + (plen === 24 ? 0 : (rnd() % (256 / size)) * size);
    blocks[2 * i] = first; blocks[2 * i + 1] = first + size - 1; i++;
    lines.push(`${formatIPv4(first)}/${plen}`);
  }
  const path = join(dir, 'inventory.netset');
  writeFileSync(path, lines.join('\n') + '\n');
  return { path, blocks };
}

/** Lists: sizes by a Zipf-like law summing to ENTRIES; 90% single addresses, 10% CIDRs; a few percent inside the inventory. */
function makeLists(blocks: Uint32Array): string[] {
  const weights = Array.from({ length: LISTS }, (_, i) => 1 / (i + 1) ** 0.8);
  const total = weights.reduce((a, b) => a + b, 0);
  const sizes = weights.map((w) => Math.max(1, Math.round((w / total) * ENTRIES)));
  const paths: string[] = [];
  for (let l = 0; l < LISTS; l++) {
    const path = join(dir, `list_${String(l).padStart(3, '0')}.${l % 2 ? 'ipset' : 'netset'}`);
    const out: string[] = [
      '#', `# list_${l}`, '#', '# ipv4 hash:ip ipset', '#', '# Maintainer      : Bench', `# Category        : ${l % 3 ? 'attacks' : 'reputation'}`,
      '# Update Frequency: 1 hour', '#',
    ];
    const hitRate = 1 + (rnd() % 5); // percent of entries inside the inventory
    for (let e = 0; e < sizes[l]; e++) {
      if (rnd() % 100 < hitRate) {
        const b = rnd() % NETBLOCKS;
        out.push(formatIPv4(blocks[2 * b] + (rnd() % (blocks[2 * b + 1] - blocks[2 * b] + 1))));
      } else if (rnd() % 10 === 0) {
        const plen = 24 + (rnd() % 7);
        const a = (rnd() >>> (32 - plen)) * 2 ** (32 - plen);
        out.push(`${formatIPv4(a)}/${plen}`);
      } else out.push(formatIPv4(rnd()));
      if (out.length >= 100_000) { writeFileSync(path, out.join('\n') + '\n', { flag: e < 100_000 ? 'w' : 'a' }); out.length = 0; }
    }
    writeFileSync(path, out.join('\n') + (out.length ? '\n' : ''), { flag: sizes[l] <= 100_000 ? 'w' : 'a' });
    paths.push(path);
  }
  return paths;
}


async function madoguchi(listPaths: string[], invPath: string): Promise<{ ms: number; common: number[] }> {
  const t0 = process.hrtime.bigint();
  const invList = await parseListFile(invPath);
  const inv = inventoryFromRanges(invList.v4, invList.v6, (_f, i) => ({ assignment_id: String(i), customer_id: `c${i}`, service_id: `s${i}`, netblock: '' }));
  const common: number[] = [];
  for (const p of listPaths) {
    const list = await parseListFile(p);
    let n = 0;
    for (const h of matchList(list, inv)) n += h.ipCount;
    common.push(n);
  }
  return { ms: Number(process.hrtime.bigint() - t0) / 1e6, common };
}

function iprange(listPaths: string[], invPath: string): { ms: number; outputs: Buffer[] } {
  const outputs: Buffer[] = [];
  const t0 = process.hrtime.bigint();
  for (const p of listPaths) {
    const r = spawnSync('iprange', [p, '--common', invPath], { maxBuffer: 1 << 30 });
    if (r.status !== 0) throw new Error(`iprange failed on ${p}: ${r.stderr}`);
    outputs.push(r.stdout);
  }
  return { ms: Number(process.hrtime.bigint() - t0) / 1e6, outputs };
}

function addressesIn(text: Buffer): number {
  const p = new ListParser();
  p.push(text.toString('latin1'));
  return addressCount(merged(p.end().v4));
}

/** Runs a measurement in a child process of its own, so that its peak RSS is its own. */
function child<T>(mode: string): T & { wallMs: number; peakRssMiB: number } {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), mode, dir], { maxBuffer: 1 << 26 });
  const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`measurement failed: ${r.stderr}`);
  return { ...JSON.parse(r.stdout.toString()), wallMs };
}

const listFiles = () => readdirSync(dir).filter((f) => f.startsWith('list_')).sort().map((f) => join(dir, f));
const report = (r: object) => process.stdout.write(JSON.stringify({ ...r, peakRssMiB: process.resourceUsage().maxRSS / 1024 }));

async function measure(): Promise<void> {
  report(await madoguchi(listFiles(), join(dir, 'inventory.netset')));
}

/** The quality report's overlap of every list with every other. */
async function measureOverlap(): Promise<void> {
  const t0 = process.hrtime.bigint();
  const sets = [];
  for (const p of listFiles()) sets.push(merged((await parseListFile(p)).v4));
  const t1 = process.hrtime.bigint();
  pairwiseOverlap(sets);
  report({ parseMs: Number(t1 - t0) / 1e6, overlapMs: Number(process.hrtime.bigint() - t1) / 1e6 });
}

async function main(): Promise<void> {
  const version = spawnSync('iprange', ['--version']);
  if (version.error) { process.stderr.write('iprange is not installed (apt-get install -y iprange)\n'); process.exit(2); }
  process.stdout.write(`generating ${LISTS} lists, ${ENTRIES} entries, ${NETBLOCKS} netblocks in ${dir}\n`);
  const inv = makeInventory();
  const lists = makeLists(inv.blocks);
  const du = spawnSync('du', ['-sh', dir]).stdout.toString().split('\t')[0];
  const ours = child<{ ms: number; common: number[] }>('--measure');
  const theirs = iprange(lists, inv.path);
  let mismatches = 0, listed = 0;
  theirs.outputs.forEach((o, i) => {
    const n = addressesIn(o);
    listed += n;
    if (n !== ours.common[i]) { mismatches++; process.stderr.write(`mismatch on ${lists[i]}: madoguchi ${ours.common[i]}, iprange ${n}\n`); }
  });
  const firstLine = version.stdout.toString().split('\n')[0];
  process.stdout.write([
    `files: ${LISTS} lists + inventory, ${du} on disk; ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'})`,
    `answers agree on all ${LISTS} lists: ${mismatches === 0 ? 'yes' : `NO (${mismatches} differ)`}; inventory addresses listed (sum over lists): ${listed}`,
    `madoguchi, load + match in one process: ${(ours.ms / 1000).toFixed(2)} s (${(ours.wallMs / 1000).toFixed(2)} s with Node start-up); peak RSS ${ours.peakRssMiB.toFixed(0)} MiB`,
    `iprange LIST --common INVENTORY, once per list (${firstLine}): ${(theirs.ms / 1000).toFixed(2)} s`,
    `ratio iprange / madoguchi: ${(theirs.ms / ours.ms).toFixed(2)}x (with Node start-up: ${(theirs.ms / ours.wallMs).toFixed(2)}x)`,
  ].join('\n') + '\n');
  const ov = child<{ parseMs: number; overlapMs: number }>('--measure-overlap');
  process.stdout.write(`report overlap, all ${LISTS} lists pairwise: ${(ov.overlapMs / 1000).toFixed(2)} s after ${(ov.parseMs / 1000).toFixed(2)} s parsing; peak RSS ${ov.peakRssMiB.toFixed(0)} MiB\n`);
  if (keepAt < 0) rmSync(dir, { recursive: true, force: true });
  if (mismatches) process.exitCode = 1;
}

if (process.argv[2] === '--measure') await measure();
else if (process.argv[2] === '--measure-overlap') await measureOverlap();
else await main();
