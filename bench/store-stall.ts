// How long one long statement on the embedded database holds the desk's thread (the one that
// answers HTTP and SMTP): the longest gap between 5 ms timer ticks while a ~0.5-1 s query runs.
// PGlite runs on a thread of its own (src/store/pglite-thread.ts); before, the gap was the query.
// Run: node dist/bench/store-stall.js [--rows N]
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openDb } from '../src/store/db.js';

const { values } = parseArgs({ options: { rows: { type: 'string', default: '3000000' } } });
const dir = mkdtempSync(join(tmpdir(), 'madoguchi-stall-'));
const db = await openDb({ dataDir: dir });
try {
  for (let run = 1; run <= 3; run++) {
    let worst = 0, last = performance.now();
    const tick = setInterval(() => { const t = performance.now(); worst = Math.max(worst, t - last); last = t; }, 5);
    const t0 = performance.now();
    await db.query(`SELECT count(*) FROM generate_series(1, ${Number(values.rows)}) g, LATERAL (SELECT md5(g::text)) m`);
    const took = performance.now() - t0;
    await new Promise((r) => setTimeout(r, 20));
    clearInterval(tick);
    console.log(`run ${run}: query ${took.toFixed(0)} ms; longest stall of the desk's thread ${worst.toFixed(0)} ms; load ${loadavg()[0].toFixed(1)}`);
  }
} finally {
  await db.close();
  rmSync(dir, { recursive: true, force: true });
}
