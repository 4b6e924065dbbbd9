// One round of the blocklist watch: check every list that is due (fetch or read, accept or keep
// the previous copy), match it against the inventory as it stands, record listings and
// delistings, decide per playbook which listings go to the desk, and hand those over as events.
import { mkdirSync, readdirSync, renameSync, existsSync, statSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { compareWords, parseRange } from '../attribution/ip.js';
import type { Logger } from '../log.js';
import type { Db } from '../store/db.js';
import type { Event } from '../events/event.js';
import { DnsblChecker, expandAddresses, type DnsblResult } from './dnsbl.js';
import { listingEvents, type ListMeta } from './events.js';
import { fetchList } from './fetch.js';
import { groupBy } from './group.js';
import { ListParser, parseListFile, type ListHeader, type ParsedList } from './format.js';
import { loadInventory, type Inventory } from './inventory.js';
import { matchList } from './match.js';
import { addressCount, commonCount, merged } from './ranges.js';
import { playbookFor, type BlocklistSettings, type Playbook, type SourceSpec } from './settings.js';
import {
  alertIfStale, ensureSource, listListings, listSources, markSent, pendingForDesk, recordAccepted, recordListings, recordProblem, recordUnchanged, setDecision,
  type Hit, type ListingRow,
} from './store.js';

/** Hands events to the desk; resolves once they are stored. */
export type Deliver = (events: Event[], list: string) => Promise<void>;

export interface WatchDeps {
  db: Db;
  dataDir: string;
  settings: BlocklistSettings;
  log: Logger;
  /** The desk's event path (intake). */
  deliver: Deliver;
}

/** One list to check: a configured source, or one file of a configured directory. */
export interface ListTarget { name: string; url?: string; path?: string; spec: SourceSpec }

const LIST_FILE = /^([\w.-]+)\.(ipset|netset)$/;

/** The lists the configuration names; a directory (a FireHOL checkout) gives one list per file. */
export function listTargets(settings: BlocklistSettings): ListTarget[] {
  const out: ListTarget[] = [];
  for (const spec of settings.sources) {
    if (spec.url) { out.push({ name: spec.name, url: spec.url, spec }); continue; }
    const path = spec.path!;
    let isDir = false;
    try { isDir = statSync(path).isDirectory(); } catch { /* a vanished file is checked (and alerted) as a file */ }
    if (!isDir) { out.push({ name: spec.name || basename(path).replace(/\.[^.]*$/, ''), path, spec }); continue; }
    for (const f of listFilesIn(path)) out.push({ name: spec.name ? `${spec.name}:${f.name}` : f.name, path: f.path, spec });
  }
  return out;
}

/** The list files of a directory (a FireHOL checkout: *.ipset and *.netset), named by file name. */
export function listFilesIn(dir: string): { name: string; path: string }[] {
  return readdirSync(dir).sort().flatMap((f) => {
    const m = LIST_FILE.exec(f);
    return m ? [{ name: m[1], path: join(dir, f) }] : [];
  });
}

export function copyPath(dataDir: string, list: string): string {
  return join(dataDir, 'blocklists', `${list}.list`);
}

export interface ListOutcome {
  list: string;
  outcome: 'updated' | 'unchanged' | 'kept_previous' | 'failed' | 'not_due';
  error?: string;
  entries?: number;
  malformed?: number;
  listings?: { added: number; delisted: number; kept: number };
}

/** Checks one list now and brings its listings up to date. */
export async function checkList(deps: WatchDeps, t: ListTarget, inv: Inventory, now: Date): Promise<ListOutcome> {
  const { db, dataDir, settings } = deps;
  mkdirSync(join(dataDir, 'blocklists'), { recursive: true });
  const copy = copyPath(dataDir, t.name), tmp = `${copy}.tmp`;
  const state = await ensureSource(db, { name: t.name, location: t.url ?? t.path!, category: t.spec.category, maintainer: t.spec.maintainer });
  const haveCopy = existsSync(copy);
  // Each list on its own schedule: as configured, else as often as its maintainer updates it.
  const nextDue = (header: ListHeader) => new Date(now.getTime() + (t.spec.every ?? header.updateEvery ?? settings.every) * 1000);
  // Without the copy on disk (a new data directory), what the database remembers of it is moot.
  const known = haveCopy ? { etag: state.etag, lastModified: state.last_modified, fileStamp: state.file_stamp, sha256: state.sha256 } : {};
  const got = await fetchList(t, known,
    { tmpPath: tmp, timeoutMs: settings.timeoutMs, maxBytes: settings.maxBytes, haveCopy });
  let current: ParsedList;
  let outcome: ListOutcome['outcome'];
  if (got.outcome === 'problem') {
    rmSync(tmp, { force: true });
    await recordProblem(db, t.name, now, nextDue(state.header), got.kind, got.error, haveCopy);
    deps.log.warn({ list: t.name, kind: got.kind, error: got.error }, haveCopy ? 'blocklist check failed; previous version kept' : 'blocklist check failed');
    // The listings stay as they are: a broken download says nothing about who is listed.
    return { list: t.name, outcome: haveCopy ? 'kept_previous' : 'failed', error: got.error };
  }
  if (got.outcome === 'unchanged') {
    rmSync(tmp, { force: true });
    current = await parseListFile(copy);
    await recordUnchanged(db, t.name, now, nextDue(current.header), got);
    outcome = 'unchanged';
  } else {
    current = got.parsed;
    const before = haveCopy ? await parseListFile(copy) : null;
    const churn = before ? changeBetween(before, current) : { added: uniqueAddresses(current), removed: 0 };
    renameSync(tmp, copy);
    await recordAccepted(db, t.name, now, nextDue(current.header), {
      header: current.header, entries: current.entries, uniqueIps: uniqueAddresses(current), malformed: current.malformed,
      malformedSamples: current.malformedSamples, sha256: got.sha256, etag: got.etag, lastModified: got.lastModified, fileStamp: got.fileStamp,
      ...churn, category: t.spec.category, maintainer: t.spec.maintainer,
    });
    outcome = 'updated';
  }
  await alertIfStale(db, t.name, current.header, now);
  const listings = await recordListings(db, t.name, matchList(current, inv), now);
  return { list: t.name, outcome, entries: current.entries, malformed: current.malformed, listings };
}

function uniqueAddresses(p: ParsedList): number {
  return addressCount(merged(p.v4)) + addressCount(merged(p.v6));
}

/** Addresses added and removed between two versions of a list. */
export function changeBetween(before: ParsedList, after: ParsedList): { added: number; removed: number } {
  let added = 0, removed = 0;
  for (const fam of ['v4', 'v6'] as const) {
    const a = merged(before[fam]), b = merged(after[fam]);
    const common = commonCount(a, b);
    added += addressCount(b) - common;
    removed += addressCount(a) - common;
  }
  return { added, removed };
}

export interface SyncOptions { now?: Date; force?: boolean; only?: string[] }

/** Checks every due list (all with `force`), the DNSBLs when due, then decides and delivers. */
export async function syncLists(deps: WatchDeps, opts: SyncOptions = {}): Promise<ListOutcome[]> {
  const now = opts.now ?? new Date();
  const inv = await loadInventory(deps.db, now);
  const due = new Map((await listSources(deps.db)).map((s) => [s.name, s.next_due]));
  const out: ListOutcome[] = [];
  for (const t of listTargets(deps.settings)) {
    if (opts.only && !opts.only.includes(t.name)) continue;
    const next = due.get(t.name);
    if (!opts.force && next && next.getTime() > now.getTime()) { out.push({ list: t.name, outcome: 'not_due' }); continue; }
    try {
      out.push(await checkList(deps, t, inv, now));
    } catch (e) {
      // One list's trouble (a full disk, a database hiccup) must not stop the others.
      deps.log.error({ err: e, list: t.name }, 'blocklist check crashed');
      out.push({ list: t.name, outcome: 'failed', error: (e as Error).message });
    }
  }
  await decideAndDeliver(deps, now);
  return out;
}

/** Checks the configured addresses on every configured DNSBL zone and records the listings. */
export async function checkDnsbl(deps: WatchDeps, now = new Date()): Promise<DnsblResult[]> {
  const d = deps.settings.dnsbl;
  if (!d.zones.length || !d.addresses.length) return [];
  const { ips, refused } = expandAddresses(d.addresses);
  if (refused.length) deps.log.warn({ refused }, 'dnsbl: addresses refused (not an address, or a CIDR wider than 256 addresses)');
  const checker = new DnsblChecker({ resolvers: d.resolvers, rate: d.rate, timeoutMs: d.timeoutMs });
  const results = await checker.checkAll(ips, d.zones);
  const inv = await loadInventory(deps.db, now);
  for (const zone of d.zones) {
    await ensureSource(deps.db, { name: zone.name, location: `dnsbl:${zone.zone}`, category: 'dnsbl', maintainer: zone.zone });
    const mine = results.filter((r) => r.zone === zone.zone);
    const listed = mine.filter((r) => r.status === 'listed');
    const unknown = new Set(mine.filter((r) => r.status === 'error').map((r) => r.ip));
    if (unknown.size) {
      await recordProblem(deps.db, zone.name, now, new Date(now.getTime() + d.every * 1000), 'fetch_failed',
        `${unknown.size} of ${mine.length} queries got no usable answer (${mine.find((r) => r.status === 'error')?.error})`, true);
    }
    const hits = dnsblHits(listed, inv);
    await recordListings(deps.db, zone.name, hits, now, unknown);
  }
  await decideAndDeliver(deps, now);
  return results;
}

/** A DNSBL hit belongs to whoever holds the address; the provider's own servers may hold none. */
function dnsblHits(listed: DnsblResult[], inv: Inventory): Hit[] {
  const p = new ListParser();
  p.push(listed.map((r) => r.ip).join('\n'));
  const owned = groupBy(matchList(p.end(), inv), (h) => h.entry);
  return listed.flatMap((r) => {
    const detail = { codes: r.codes, meanings: r.meanings };
    const holders = owned.get(r.ip) ?? [];
    if (!holders.length) return [{ entry: r.ip, ipCount: 1, assignmentId: null, customerId: null, serviceId: null, netblock: null, detail }];
    return holders.map((h) => ({ ...h, detail }));
  });
}

function entriesOverlap(a: string, b: string): boolean {
  const x = parseRange(a), y = parseRange(b);
  if (typeof x === 'string' || typeof y === 'string' || x.family !== y.family) return false;
  return compareWords(x.first, y.last) <= 0 && compareWords(y.first, x.last) <= 0;
}

/** Playbook decisions for active listings, then events for what is to be acted on. */
export async function decideAndDeliver(deps: WatchDeps, now: Date): Promise<{ listed: number; delisted: number }> {
  const { db, settings } = deps;
  const sources = new Map((await listSources(db)).map((s) => [s.name, s]));
  const targets = new Map(listTargets(settings).map((t) => [t.name, t.spec]));
  const zones = new Map(settings.dnsbl.zones.map((z) => [z.name, z]));
  const playbookOf = (list: string): { playbook: Playbook; type?: string } => {
    const own = targets.get(list)?.playbook ?? zones.get(list)?.playbook;
    const p = playbookFor(settings, list, sources.get(list)?.category ?? undefined, own);
    return { playbook: p.playbook, type: targets.get(list)?.type ?? zones.get(list)?.type ?? p.type };
  };
  const maintainerOf = (list: string) => sources.get(list)?.maintainer ?? list;
  const active = await listListings(db, { active: true, limit: 1_000_000 });
  const byAssignment = groupBy(active.filter((l) => l.assignment_id), (l) => l.assignment_id!);
  // Corroborated: another list, from another maintainer, lists some of the same addresses.
  const corroborated = (l: ListingRow) => (byAssignment.get(l.assignment_id ?? '') ?? [])
    .some((o) => maintainerOf(o.list) !== maintainerOf(l.list) && entriesOverlap(o.entry, l.entry));
  const changes = new Map<ListingRow['decision'], string[]>();
  for (const l of active) {
    const { playbook } = playbookOf(l.list);
    const decision = playbook === 'act' ? 'act' : playbook === 'report' ? 'report' : corroborated(l) ? 'act' : 'wait';
    if (decision === l.decision) continue;
    const ids = changes.get(decision);
    if (ids) ids.push(l.id); else changes.set(decision, [l.id]);
  }
  for (const [decision, ids] of changes) await setDecision(db, ids, decision);
  const meta = (list: string): ListMeta => {
    const s = sources.get(list);
    return { category: s?.category, maintainer: s?.maintainer, url: targets.get(list)?.url ?? null, type: playbookOf(list).type, sourceDate: s?.source_date?.toISOString() ?? null };
  };
  const pending = await pendingForDesk(db);
  for (const kind of ['listed', 'delisted'] as const) {
    for (const [list, group] of groupBy(pending[kind], (r) => r.list)) {
      await deps.deliver(listingEvents(group, meta, kind), list);
      await markSent(db, group.map((r) => r.id), kind, now);
    }
  }
  return { listed: pending.listed.length, delisted: pending.delisted.length };
}
