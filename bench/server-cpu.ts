// CPU time of the PostgreSQL server processes serving a benchmark, found by the application_name
// its connections carry, read from /proc (the server runs on this machine).
import { readFileSync } from 'node:fs';
import type { Db } from '../src/store/db.js';

/** CPU seconds used so far by each backend with this application_name (none on the embedded database). */
export async function serverCpu(db: Db, app: string): Promise<Map<number, number>> {
  const out = new Map<number, number>();
  if (db.kind !== 'postgres') return out;
  for (const { pid } of (await db.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE application_name = $1', [app])).rows) {
    try {
      const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
      out.set(pid, (Number(f[11]) + Number(f[12])) / 100); // utime + stime, in ticks of 1/100 s
    } catch { /* the backend ended */ }
  }
  return out;
}

/**
 * CPU seconds between two readings: the pool closes idle connections, and a backend gone by the
 * second reading must not subtract what it had used before the first.
 */
export function cpuBetween(a: Map<number, number>, b: Map<number, number>): number {
  let s = 0;
  for (const [pid, t] of b) s += t - (a.get(pid) ?? 0);
  return s;
}
