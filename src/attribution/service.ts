// The attribution index kept in step with the database: loaded at start, reloaded when the
// inventory version moves (after an import in this process at once, from another process within
// the poll interval).
import type { Db } from '../store/db.js';
import { AttributionIndex, type Attribution, type AssignmentInput } from './index.js';

export type { Attribution };

export interface AttributionService {
  attribute(resource: string, at?: Date | number): Attribution | null;
  /** Reloads the index if the inventory changed since it was built. */
  refresh(): Promise<boolean>;
  readonly index: AttributionIndex;
  readonly version: number;
  close(): void;
}

export async function loadAssignments(db: Db): Promise<AssignmentInput[]> {
  // Two plain queries instead of one join, and times as float8 milliseconds (numeric would come
  // back as text): loading is most of a command's start on a large inventory.
  const services = await db.query<{ id: string; type: string; customer_id: string; brand_id: string }>(
    'SELECT s.id, s.type, s.customer_id, c.brand_id FROM services s JOIN customers c ON c.id = s.customer_id');
  const holders = new Map<string, AssignmentInput['holder']>();
  for (const row of services.rows) {
    holders.set(row.id, { customer_id: row.customer_id, service_id: row.id, service_type: row.type, brand: row.brand_id });
  }
  const r = await db.query<{ resource: string; service_id: string; valid_from: number; valid_to: number | null }>(
    `SELECT resource, service_id, (extract(epoch FROM valid_from) * 1000)::float8 AS valid_from,
            (extract(epoch FROM valid_to) * 1000)::float8 AS valid_to FROM assignments`);
  return r.rows.map((row) => ({
    holder: holders.get(row.service_id)!, resource: row.resource,
    validFrom: Number(row.valid_from), validTo: row.valid_to == null ? Infinity : Number(row.valid_to),
  }));
}

async function currentVersion(db: Db): Promise<number> {
  const r = await db.query<{ version: string }>('SELECT version FROM inventory_version WHERE id = 1');
  return Number(r.rows[0]?.version ?? 0);
}

export async function openAttribution(db: Db, opts: { pollMs?: number } = {}): Promise<AttributionService> {
  let version = await currentVersion(db);
  let index = AttributionIndex.build(await loadAssignments(db));
  let loading: Promise<boolean> | null = null;
  const svc: AttributionService = {
    attribute(resource, at) {
      return index.attribute(resource, at === undefined ? Date.now() : typeof at === 'number' ? at : at.getTime());
    },
    refresh() {
      loading ??= (async () => {
        try {
          const v = await currentVersion(db);
          if (v === version) return false;
          // Read the version first: a change during the load shows as a newer version next time.
          index = AttributionIndex.build(await loadAssignments(db));
          version = v;
          return true;
        } finally { loading = null; }
      })();
      return loading;
    },
    get index() { return index; },
    get version() { return version; },
    close() { if (timer) clearInterval(timer); },
  };
  const timer = opts.pollMs ? setInterval(() => { svc.refresh().catch(() => undefined); }, opts.pollMs) : null;
  timer?.unref();
  return svc;
}
