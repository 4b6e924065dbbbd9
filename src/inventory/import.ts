// Inventory import: CSV (streamed), JSON Lines (streamed) or a JSON document. One row per
// resource. The whole import is one transaction: rows are validated and staged as they stream in,
// and only a file without a single bad row is merged. Re-importing the same file changes nothing.
import { createReadStream, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { parse as parseCsv } from 'csv-parse';
import type { Db } from '../store/db.js';
import { formatRange, parseRange } from '../attribution/ip.js';
import { normalizeName, type IndexConflict } from '../attribution/index.js';
import { loadIndex } from '../attribution/service.js';
import { parseInventoryDate } from './time.js';

export const SERVICE_TYPES = ['shared', 'vps', 'dedicated', 'iaas', 'reseller', 'other'] as const;
export const LANGUAGES = ['ja', 'en'] as const;
export const REQUIRED_COLUMNS = ['customer_id', 'customer_name', 'customer_email', 'language', 'brand', 'service_id', 'service_type', 'resource', 'valid_from', 'valid_to'];

/** A row as the file gives it; `plan` and `brand_name` are optional columns. */
export type InventoryRow = Record<string, unknown>;

export interface RowError { line: number; reason: string }

export interface ImportResult {
  ok: boolean;
  rows: number;
  /** Rows of customers, services, brands and assignments written or closed; 0 for a re-import. */
  changed: number;
  errors: RowError[];
  /** Errors beyond those listed. */
  moreErrors: number;
  conflicts: IndexConflict[];
  conflictCount: number;
  closed: number;
}

export interface ImportOptions {
  timezone: string;
  /** Close (valid_to = now) current assignments that the file no longer lists. */
  sync?: boolean;
  source?: string;
  maxErrors?: number;
}

interface Staged {
  line: number; customer_id: string; customer_name: string; emails: string[]; language: string; brand: string;
  brand_name: string | null; service_id: string; service_type: string; plan: string | null; kind: 'ip' | 'name';
  resource: string; first_ip: string | null; last_ip: string | null; name: string | null; valid_from: string; valid_to: string | null;
}

const BATCH = 2000;
const EMAIL = /^[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+$/;
const ID = /^[A-Za-z0-9][A-Za-z0-9._:@/-]{0,127}$/;

/** Checks one row; returns the staged form or the reason it is refused. */
export function validateRow(raw: InventoryRow, line: number, tz: string): Staged | string {
  const str = (k: string) => (raw[k] == null ? '' : String(raw[k]).trim());
  for (const k of ['customer_id', 'customer_name', 'language', 'brand', 'service_id', 'service_type', 'resource']) {
    if (!str(k)) return `${k} is empty`;
  }
  for (const k of ['customer_id', 'service_id', 'brand']) if (!ID.test(str(k))) return `${k} '${str(k)}' is not a valid identifier`;
  const language = str('language').toLowerCase();
  if (!(LANGUAGES as readonly string[]).includes(language)) return `language '${str('language')}' is not one of ${LANGUAGES.join(', ')}`;
  const type = str('service_type').toLowerCase();
  if (!(SERVICE_TYPES as readonly string[]).includes(type)) return `service_type '${str('service_type')}' is not one of ${SERVICE_TYPES.join(', ')}`;
  const emailField = raw.customer_email ?? raw.customer_emails;
  const emails = (Array.isArray(emailField) ? emailField.map(String) : String(emailField ?? '').split(/[;,\s]+/)).map((e) => e.trim()).filter(Boolean);
  for (const e of emails) if (!EMAIL.test(e)) return `customer_email '${e}' is not an e-mail address`;
  const from = str('valid_from') ? parseInventoryDate(str('valid_from'), tz) : 0;
  if (typeof from === 'string') return `valid_from: ${from}`;
  const to = str('valid_to') ? parseInventoryDate(str('valid_to'), tz, true) : null;
  if (typeof to === 'string') return `valid_to: ${to}`;
  if (to !== null && to <= from) return `valid_to (${str('valid_to')}) is not after valid_from (${str('valid_from')})`;

  const res = str('resource');
  let kind: 'ip' | 'name', resource: string, first: string | null = null, last: string | null = null, name: string | null = null;
  const looksLikeAddress = /^[0-9a-f:.]+(\/\d+)?(\s*-\s*[0-9a-f:.]+)?$/i.test(res) && /[:.]/.test(res) && !/[g-z]/i.test(res);
  const range = parseRange(res);
  if (typeof range !== 'string') {
    kind = 'ip';
    resource = formatRange(range);
    const one = (w: Uint32Array) => formatRange({ family: range.family, first: w, last: w });
    first = one(range.first); last = one(range.last);
  } else if (looksLikeAddress || /^\d+(\.\d+){1,3}(\/\d+)?$/.test(res)) {
    return range;
  } else {
    name = normalizeName(res);
    if (!name || !name.includes('.')) return `resource '${res}' is neither an address, a CIDR, a range nor a domain name`;
    kind = 'name'; resource = name;
  }
  return {
    line, customer_id: str('customer_id'), customer_name: str('customer_name'), emails, language, brand: str('brand'),
    brand_name: str('brand_name') || null, service_id: str('service_id'), service_type: type, plan: str('plan') || null,
    kind, resource, first_ip: first, last_ip: last, name,
    valid_from: new Date(from).toISOString(), valid_to: to === null ? null : new Date(to).toISOString(),
  };
}

/** Rows of a file, streamed: CSV by default, JSON Lines for .jsonl/.ndjson, JSON for .json. */
export async function* readInventoryFile(path: string, maxJsonBytes = 256 * 1024 * 1024): AsyncGenerator<{ line: number; row: InventoryRow } | { line: number; error: string }> {
  if (/\.(jsonl|ndjson)$/i.test(path)) {
    const rl = createInterface({ input: createReadStream(path), crlfDelay: Infinity });
    let line = 0;
    for await (const text of rl) {
      line++;
      if (!text.trim()) continue;
      try { yield { line, row: JSON.parse(text) as InventoryRow }; } catch (e) { yield { line, error: `not JSON: ${(e as Error).message}` }; }
    }
    return;
  }
  if (/\.json$/i.test(path)) {
    if (statSync(path).size > maxJsonBytes) {
      yield { line: 0, error: `a JSON document over ${maxJsonBytes} bytes is not loaded whole: use CSV or JSON Lines (.jsonl) for large inventories` };
      return;
    }
    const chunks: Buffer[] = [];
    for await (const c of createReadStream(path)) chunks.push(c as Buffer);
    yield* jsonDocumentRows(Buffer.concat(chunks).toString('utf8'));
    return;
  }
  yield* csvRows(createReadStream(path));
}

export async function* csvRows(input: Readable): AsyncGenerator<{ line: number; row: InventoryRow } | { line: number; error: string }> {
  const parser = input.pipe(parseCsv({ columns: (h: string[]) => h.map((c) => c.trim().replace(/^\uFEFF/, '').toLowerCase()), bom: true, info: true, skip_empty_lines: true, relax_column_count: false, trim: false }));
  let checked = false;
  try {
    for await (const rec of parser as AsyncIterable<{ record: InventoryRow; info: { lines: number } }>) {
      if (!checked) {
        checked = true;
        const missing = REQUIRED_COLUMNS.filter((c) => !(c in rec.record));
        if (missing.length) { yield { line: 1, error: `the header lacks column(s): ${missing.join(', ')}` }; return; }
      }
      yield { line: rec.info.lines, row: rec.record };
    }
  } catch (e) {
    const err = e as Error & { lines?: number };
    yield { line: err.lines ?? 0, error: `CSV: ${err.message}` };
  }
}

/**
 * A JSON document: an array of rows, or the nested form
 * {"customers": [{"id", "name", "language", "emails", "brand", "services": [{"id", "type", "plan",
 * "resources": [{"resource", "valid_from", "valid_to"}]}]}]}.
 */
export function* jsonDocumentRows(text: string): Generator<{ line: number; row: InventoryRow } | { line: number; error: string }> {
  let doc: unknown;
  try { doc = JSON.parse(text); } catch (e) { yield { line: 0, error: `not JSON: ${(e as Error).message}` }; return; }
  if (Array.isArray(doc)) {
    let n = 0;
    for (const row of doc) yield { line: ++n, row: row as InventoryRow };
    return;
  }
  const customers = (doc as { customers?: unknown }).customers;
  if (!Array.isArray(customers)) { yield { line: 0, error: 'a JSON inventory is an array of rows or an object with "customers"' }; return; }
  let n = 0;
  for (const c of customers as Record<string, unknown>[]) {
    for (const s of (Array.isArray(c.services) ? c.services : []) as Record<string, unknown>[]) {
      for (const r of (Array.isArray(s.resources) ? s.resources : []) as (Record<string, unknown> | string)[]) {
        const res = typeof r === 'string' ? { resource: r } : r;
        yield {
          line: ++n,
          row: {
            customer_id: c.id, customer_name: c.name, customer_email: c.emails ?? c.email, language: c.language, brand: c.brand,
            brand_name: c.brand_name, service_id: s.id, service_type: s.type, plan: s.plan, resource: res.resource,
            valid_from: res.valid_from, valid_to: res.valid_to,
          },
        };
      }
    }
  }
}

export async function importInventory(db: Db, rows: AsyncIterable<{ line: number; row: InventoryRow } | { line: number; error: string }>, opts: ImportOptions): Promise<ImportResult> {
  const maxErrors = opts.maxErrors ?? 100;
  const errors: RowError[] = [];
  let moreErrors = 0, count = 0;
  const fail = (line: number, reason: string) => { if (errors.length < maxErrors) errors.push({ line, reason }); else moreErrors++; };
  const hash = createHash('sha256');
  const rollback = new Error('rollback');
  let result: ImportResult | null = null;
  try {
    await db.transaction(async (tx) => {
      await tx.exec(`CREATE TEMP TABLE inventory_stage (
        line int, customer_id text, customer_name text, emails text[], language text, brand text, brand_name text,
        service_id text, service_type text, plan text, kind text, resource text, first_ip inet, last_ip inet, name text,
        valid_from timestamptz, valid_to timestamptz) ON COMMIT DROP`);
      let batch: Staged[] = [];
      const flush = async () => {
        if (!batch.length) return;
        const col = <K extends keyof Staged>(k: K) => batch.map((b) => b[k]);
        // One statement per batch: arrays in, rows out (emails travel as JSON, unnest flattens text[][]).
        await tx.query(`INSERT INTO inventory_stage
            SELECT line, customer_id, customer_name, ARRAY(SELECT json_array_elements_text(emails_json::json)), language, brand, brand_name,
                   service_id, service_type, plan, kind, resource, first_ip, last_ip, name, valid_from, valid_to
              FROM unnest($1::int[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[],
                          $10::text[], $11::text[], $12::text[], $13::inet[], $14::inet[], $15::text[], $16::timestamptz[], $17::timestamptz[])
                AS t(line, customer_id, customer_name, emails_json, language, brand, brand_name, service_id, service_type, plan, kind,
                     resource, first_ip, last_ip, name, valid_from, valid_to)`,
        [col('line'), col('customer_id'), col('customer_name'), batch.map((b) => JSON.stringify(b.emails)), col('language'), col('brand'), col('brand_name'),
          col('service_id'), col('service_type'), col('plan'), col('kind'), col('resource'), col('first_ip'), col('last_ip'), col('name'), col('valid_from'), col('valid_to')]);
        batch = [];
      };
      for await (const item of rows) {
        if ('error' in item) { fail(item.line, item.error); continue; }
        count++;
        hash.update(JSON.stringify(item.row));
        const v = validateRow(item.row, item.line, opts.timezone);
        if (typeof v === 'string') { fail(item.line, v); continue; }
        if (errors.length) continue; // keep validating to report every bad row, but stop staging
        batch.push(v);
        if (batch.length >= BATCH) await flush();
      }
      await flush();
      if (count === 0 && !errors.length) fail(0, 'the file has no rows');
      if (!errors.length) await checkConsistency(tx, fail);
      if (errors.length) throw rollback;

      const changed = await merge(tx);
      const closed = opts.sync ? await closeMissing(tx) : 0;
      const all = await loadIndex(tx);
      if (changed + closed > 0) await tx.query('UPDATE inventory_version SET version = version + 1, changed_at = now() WHERE id = 1');
      await tx.query('INSERT INTO inventory_imports (source, sha256, rows, changed, conflicts) VALUES ($1, $2, $3, $4, $5)',
        [opts.source ?? 'api', hash.digest('hex'), count, changed + closed, JSON.stringify(all.conflicts.slice(0, 100))]);
      result = { ok: true, rows: count, changed, closed, errors: [], moreErrors: 0, conflicts: all.conflicts, conflictCount: all.conflictCount };
    });
  } catch (e) {
    if (e !== rollback) throw e;
  }
  return result ?? { ok: false, rows: count, changed: 0, closed: 0, errors, moreErrors, conflicts: [], conflictCount: 0 };
}

/** The same customer or service described two ways in one file, or a service moved to another customer. */
async function checkConsistency(tx: Db, fail: (line: number, reason: string) => void): Promise<void> {
  const customers = await tx.query<{ customer_id: string; lines: number[] }>(`
    SELECT customer_id, array_agg(line ORDER BY line) AS lines FROM inventory_stage GROUP BY customer_id
    HAVING count(DISTINCT (customer_name, language, brand, emails::text)) > 1 LIMIT 50`);
  for (const c of customers.rows) fail(c.lines[1] ?? c.lines[0], `customer ${c.customer_id} has other name, language, brand or e-mail than on line ${c.lines[0]}`);
  const services = await tx.query<{ service_id: string; lines: number[] }>(`
    SELECT service_id, array_agg(line ORDER BY line) AS lines FROM inventory_stage GROUP BY service_id
    HAVING count(DISTINCT (customer_id, service_type, coalesce(plan, ''))) > 1 LIMIT 50`);
  for (const s of services.rows) fail(s.lines[1] ?? s.lines[0], `service ${s.service_id} has other customer, type or plan than on line ${s.lines[0]}`);
  const moved = await tx.query<{ line: number; service_id: string; customer_id: string; existing: string }>(`
    SELECT min(st.line) AS line, st.service_id, st.customer_id, s.customer_id AS existing FROM inventory_stage st
      JOIN services s ON s.id = st.service_id WHERE s.customer_id <> st.customer_id GROUP BY st.service_id, st.customer_id, s.customer_id LIMIT 50`);
  for (const m of moved.rows) fail(m.line, `service ${m.service_id} belongs to customer ${m.existing}, not ${m.customer_id}`);
  const dup = await tx.query<{ lines: number[]; resource: string }>(`
    SELECT array_agg(line ORDER BY line) AS lines, resource FROM inventory_stage GROUP BY service_id, resource, valid_from HAVING count(*) > 1 LIMIT 50`);
  for (const d of dup.rows) {
    const differ = await tx.query('SELECT count(DISTINCT valid_to) AS n FROM inventory_stage WHERE line = ANY($1::int[])', [d.lines]);
    if (Number((differ.rows[0] as { n: string }).n) > 1) fail(d.lines[1], `${d.resource} is listed again (line ${d.lines[0]}) with another valid_to`);
  }
}

async function merge(tx: Db): Promise<number> {
  let changed = 0;
  const n = async (sql: string) => { changed += (await tx.query(sql)).affectedRows ?? 0; };
  await n(`INSERT INTO brands (id, name) SELECT DISTINCT ON (brand) brand, coalesce(brand_name, brand) FROM inventory_stage ORDER BY brand, brand_name
           ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name WHERE brands.name IS DISTINCT FROM EXCLUDED.name AND EXCLUDED.name <> EXCLUDED.id`);
  await n(`INSERT INTO customers (id, name, language, emails, brand_id) SELECT DISTINCT ON (customer_id) customer_id, customer_name, language, emails, brand FROM inventory_stage ORDER BY customer_id, line
           ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, language = EXCLUDED.language, emails = EXCLUDED.emails, brand_id = EXCLUDED.brand_id, updated_at = now()
           WHERE (customers.name, customers.language, customers.emails, customers.brand_id) IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.language, EXCLUDED.emails, EXCLUDED.brand_id)`);
  await n(`INSERT INTO services (id, customer_id, type, plan) SELECT DISTINCT ON (service_id) service_id, customer_id, service_type, plan FROM inventory_stage ORDER BY service_id, line
           ON CONFLICT (id) DO UPDATE SET type = EXCLUDED.type, plan = EXCLUDED.plan, updated_at = now()
           WHERE (services.type, services.plan) IS DISTINCT FROM (EXCLUDED.type, EXCLUDED.plan)`);
  await n(`INSERT INTO assignments (service_id, kind, resource, first_ip, last_ip, name, valid_from, valid_to)
           SELECT DISTINCT ON (service_id, resource, valid_from) service_id, kind, resource, first_ip, last_ip, name, valid_from, valid_to FROM inventory_stage ORDER BY service_id, resource, valid_from, line
           ON CONFLICT (service_id, resource, valid_from) DO UPDATE SET valid_to = EXCLUDED.valid_to
           WHERE assignments.valid_to IS DISTINCT FROM EXCLUDED.valid_to`);
  return changed;
}

async function closeMissing(tx: Db): Promise<number> {
  const r = await tx.query(`UPDATE assignments a SET valid_to = now()
     WHERE (a.valid_to IS NULL OR a.valid_to > now()) AND a.valid_from < now()
       AND NOT EXISTS (SELECT 1 FROM inventory_stage s WHERE s.service_id = a.service_id AND s.resource = a.resource AND s.valid_from = a.valid_from)`);
  return r.affectedRows ?? 0;
}

export function rowsFromText(text: string, format: 'csv' | 'json' | 'jsonl'): AsyncIterable<{ line: number; row: InventoryRow } | { line: number; error: string }> {
  if (format === 'csv') return csvRows(Readable.from([text]));
  if (format === 'json') return (async function* () { yield* jsonDocumentRows(text); })();
  return (async function* () {
    let line = 0;
    for (const t of text.split('\n')) {
      line++;
      if (!t.trim()) continue;
      try { yield { line, row: JSON.parse(t) as InventoryRow }; } catch (e) { yield { line, error: `not JSON: ${(e as Error).message}` }; }
    }
  })();
}
