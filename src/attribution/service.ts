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

/** Every assignment of the inventory, read lazily: `count` of them, each made when iterated. */
export interface Assignments extends Iterable<AssignmentInput> { count: number }

export async function loadAssignments(db: Db): Promise<Assignments> {
  // Loading is most of a command's start on a large inventory, and both drivers spend ~10 µs per
  // row building row objects: so each table comes back as ONE text value, JSON for services,
  // lines for assignments (ids and resources are validated on import and hold no tab or newline;
  // the resource goes last all the same). Times are float8 milliseconds. The assignments are
  // made one at a time as the index build takes them, so that millions of them never sit in
  // memory as objects beside the index.
  const services = await db.query<{ list: string | null }>(
    `SELECT json_agg(json_build_array(s.id, s.type, s.customer_id, c.brand_id))::text AS list
       FROM services s JOIN customers c ON c.id = s.customer_id`);
  const holders = new Map<string, AssignmentInput['holder']>();
  for (const [id, type, customer, brand] of JSON.parse(services.rows[0]?.list ?? '[]') as string[][]) {
    holders.set(id, { customer_id: customer, service_id: id, service_type: type, brand });
  }
  const r = await db.query<{ count: number; lines: string | null }>(
    `SELECT count(*)::int AS count, string_agg(concat_ws(E'\t', (extract(epoch FROM valid_from) * 1000)::float8,
              coalesce((extract(epoch FROM valid_to) * 1000)::float8::text, ''), service_id, resource), E'\n') AS lines
       FROM assignments`);
  const text = r.rows[0]?.lines ?? '';
  return { count: r.rows[0]?.count ?? 0, [Symbol.iterator]: () => readAssignments(text, holders) };
}

function* readAssignments(text: string, holders: Map<string, AssignmentInput['holder']>): Generator<AssignmentInput> {
  for (let start = 0; start < text.length;) {
    let nl = text.indexOf('\n', start);
    if (nl < 0) nl = text.length;
    const t1 = text.indexOf('\t', start), t2 = text.indexOf('\t', t1 + 1), t3 = text.indexOf('\t', t2 + 1);
    const holder = holders.get(text.slice(t2 + 1, t3));
    if (t1 < 0 || t3 < 0 || t3 > nl || !holder) throw new Error(`inventory: unreadable assignment ${JSON.stringify(text.slice(start, Math.min(nl, start + 200)))}`);
    yield {
      holder, resource: text.slice(t3 + 1, nl),
      validFrom: Number(text.slice(start, t1)), validTo: t2 === t1 + 1 ? Infinity : Number(text.slice(t1 + 1, t2)),
    };
    start = nl + 1;
  }
}

/** The attribution index of the inventory as the database has it now. */
export async function loadIndex(db: Db): Promise<AttributionIndex> {
  return AttributionIndex.build(await loadAssignments(db));
}

async function currentVersion(db: Db): Promise<number> {
  const r = await db.query<{ version: string }>('SELECT version FROM inventory_version WHERE id = 1');
  return Number(r.rows[0]?.version ?? 0);
}

export async function openAttribution(db: Db, opts: { pollMs?: number } = {}): Promise<AttributionService> {
  let version = await currentVersion(db);
  let index = await loadIndex(db);
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
          index = await loadIndex(db);
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
