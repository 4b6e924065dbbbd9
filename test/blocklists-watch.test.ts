import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { forEachStore } from './helpers/stores.js';
import { importInventory, rowsFromText } from '../src/inventory/import.js';
import { loadConfig } from '../src/config/config.js';
import { createLogger } from '../src/log.js';
import { blocklistSettings } from '../src/blocklists/settings.js';
import { syncLists, copyPath, type WatchDeps } from '../src/blocklists/watch.js';
import { listAlerts, listListings, getSource } from '../src/blocklists/store.js';
import { qualityReport } from '../src/blocklists/report.js';
import type { Event } from '../src/events/event.js';
import type { Db } from '../src/store/db.js';

const INVENTORY = `customer_id,customer_name,customer_email,language,brand,brand_name,service_id,service_type,plan,resource,valid_from,valid_to
c1002,Yamada Taro,taro@yamada-mail.example,ja,mh,Madoguchi Hosting,vps-1002,vps,VPS 2GB,198.51.100.64/28,2021-06-01,
c1002,Yamada Taro,taro@yamada-mail.example,ja,mh,Madoguchi Hosting,vps-1002,vps,VPS 2GB,2001:db8:100:2::/64,2021-06-01,
c1003,Northwind Traders KK,security@northwind.example,en,mh,Madoguchi Hosting,ded-1003,dedicated,Bare Metal L,203.0.113.0/26,2020-01-15,
c1006,Old Customer KK,legal@old-customer.example,ja,mh,Madoguchi Hosting,vps-0901,vps,VPS 1GB,192.0.2.0/28,2016-01-01,2022-12-31
c1007,Blue Ocean Inc.,noc@blue-ocean.example,en,mh,Madoguchi Hosting,vps-1007,vps,VPS 4GB,192.0.2.0/28,2023-01-10,
`;

async function seedInventory(db: Db): Promise<void> {
  const r = await importInventory(db, rowsFromText(INVENTORY, 'csv'), { timezone: 'UTC' });
  assert.equal(r.ok, true, JSON.stringify(r.errors));
}

const fireholHeader = (name: string, maintainer: string, category: string, date: string, entries?: number) => `#
# ${name}
#
# ipv4 hash:ip ipset
#
# Maintainer      : ${maintainer}
# Source File Date: ${date}
#
# Category        : ${category}
# Update Frequency: 1 day
${entries === undefined ? '' : `# Entries         : ${entries} unique IPs\n`}#
`;

/** A list server on 127.0.0.1: each path answers with what the test sets, honouring ETag. */
interface Served { body?: string; status?: number; etag?: string; lastModified?: string; cutShort?: boolean; chunked?: boolean; hang?: boolean }
class ListServer {
  readonly lists = new Map<string, Served>();
  readonly requests: { path: string; ifNoneMatch?: string; ifModifiedSince?: string }[] = [];
  private server!: Server;
  url = '';
  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const path = req.url ?? '/';
      this.requests.push({ path, ifNoneMatch: req.headers['if-none-match'] as string | undefined, ifModifiedSince: req.headers['if-modified-since'] });
      const s = this.lists.get(path);
      if (!s) { res.writeHead(404).end('not found'); return; }
      if (s.hang) return; // never answers: the client's timeout must end it
      if (s.status && s.status !== 200) { res.writeHead(s.status).end('<html>error</html>'); return; }
      if (s.etag && req.headers['if-none-match'] === s.etag) { res.writeHead(304).end(); return; }
      if (s.lastModified && req.headers['if-modified-since'] === s.lastModified) { res.writeHead(304).end(); return; }
      const body = Buffer.from(s.body ?? '');
      res.writeHead(200, {
        'content-type': 'text/plain',
        ...(s.chunked ? {} : { 'content-length': String(s.cutShort ? body.length + 1000 : body.length) }),
        ...(s.etag ? { etag: s.etag } : {}), ...(s.lastModified ? { 'last-modified': s.lastModified } : {}),
      });
      // Cut short: the headers and part of the body go out, then the connection drops.
      if (s.cutShort) { res.write(body, () => setTimeout(() => res.socket?.destroy(), 20)); return; }
      res.end(body);
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }
  async stop(): Promise<void> { this.server.closeAllConnections(); await new Promise((r) => this.server.close(r)); }
}

forEachStore('blocklist watch', (store) => {
  const http = new ListServer();
  let db: Db;
  let work: string;
  const delivered: { list: string; events: Event[] }[] = [];

  before(async () => {
    await http.start();
    db = await store().open();
    await seedInventory(db);
    work = mkdtempSync(join(tmpdir(), 'madoguchi-bl-'));
  });
  after(async () => { await http.stop(); await db?.close(); rmSync(work, { recursive: true, force: true }); });

  function deps(blocklists: Record<string, unknown>): WatchDeps {
    const config = loadConfig({ env: {}, overrides: { blocklists } });
    return {
      db, dataDir: store().dataDir, settings: blocklistSettings(config), log: createLogger('silent'),
      deliver: async (events, list) => { delivered.push({ list, events }); },
    };
  }

  test('a URL list: listings with their holders at the time, ETag on the next check, delisting when an entry goes', async () => {
    http.lists.set('/drop.netset', {
      etag: '"v1"',
      body: `${fireholHeader('drop', 'Spamhaus.org', 'reputation', 'Mon Nov  2 15:13:06 UTC 2015')}198.51.100.0/24 ; SBL1\n192.0.2.5\n203.0.113.9\n8.8.8.8\nnot-an-address\n2001:db8:100:2::99\n`,
    });
    const d = deps({ sources: [{ name: 'drop', url: `${http.url}/drop.netset`, playbook: 'act' }] });
    const t1 = new Date('2024-03-01T00:00:00Z');
    const [o1] = await syncLists(d, { now: t1 });
    assert.equal(o1.outcome, 'updated');
    assert.equal(o1.malformed, 1);
    const rows = await listListings(db, { list: 'drop' });
    assert.deepEqual(rows.map((r) => [r.entry, r.ip_count, r.customer_id, r.service_id, r.netblock]).sort(), [
      ['192.0.2.5', 1, 'c1007', 'vps-1007', '192.0.2.0/28'],
      ['198.51.100.0/24', 16, 'c1002', 'vps-1002', '198.51.100.64/28'],
      ['2001:db8:100:2::99', 1, 'c1002', 'vps-1002', '2001:db8:100:2::/64'],
      ['203.0.113.9', 1, 'c1003', 'ded-1003', '203.0.113.0/26'],
    ]);
    assert.ok(rows.every((r) => r.first_seen.getTime() === t1.getTime() && r.delisted_at === null && r.decision === 'act'));
    const src = await getSource(db, 'drop');
    assert.equal(src?.maintainer, 'Spamhaus.org');
    assert.equal(src?.malformed, 1);
    assert.deepEqual(src?.malformed_samples, [{ line: 16, text: 'not-an-address' }]);
    // Every listing the playbook acts on went to the desk once, as an event.
    const sent = delivered.filter((x) => x.list === 'drop').flatMap((x) => x.events);
    assert.equal(sent.length, 4);
    assert.ok(sent.every((e) => e['classification.type'] === 'blacklist' && e['feed.name'] === 'drop' && e['time.source'] === '2015-11-02T15:13:06.000Z'));

    // Unchanged: the server answers 304 to the ETag, and the listings are seen again.
    const t2 = new Date('2024-03-02T00:00:00Z');
    const [o2] = await syncLists(d, { now: t2 });
    assert.equal(o2.outcome, 'unchanged');
    assert.equal(http.requests.at(-1)?.ifNoneMatch, '"v1"');
    assert.ok((await listListings(db, { list: 'drop', active: true })).every((r) => r.last_seen.getTime() === t2.getTime()));
    assert.equal(delivered.flatMap((x) => x.events).length, 4, 'nothing sent twice');
    // Dated 2015 with a promise of daily updates: stale, and said once for that version.
    const stale = (await listAlerts(db, { list: 'drop' })).filter((a) => a.kind === 'stale');
    assert.equal(stale.length, 1);
    assert.match(stale[0].message, /promised updates missed/);

    // Not due yet: nothing fetched.
    const before = http.requests.length;
    const [o3] = await syncLists(d, { now: new Date('2024-03-02T00:10:00Z') });
    assert.equal(o3.outcome, 'not_due');
    assert.equal(http.requests.length, before);

    // 192.0.2.5 goes off the list: its listing ends, and the desk hears of it.
    http.lists.set('/drop.netset', { etag: '"v2"', body: '198.51.100.0/24\n203.0.113.9\n2001:db8:100:2::99\n' });
    const t4 = new Date('2024-03-03T00:00:00Z');
    const [o4] = await syncLists(d, { now: t4, force: true });
    assert.equal(o4.outcome, 'updated');
    assert.deepEqual(o4.listings, { added: 0, delisted: 1, kept: 3 });
    const ended = (await listListings(db, { list: 'drop', active: false }));
    assert.deepEqual(ended.map((r) => [r.entry, r.delisted_at?.toISOString()]), [['192.0.2.5', t4.toISOString()]]);
    const delisting = delivered.flatMap((x) => x.events).filter((e) => e['extra.blocklist.delisted'] === true);
    assert.deepEqual(delisting.map((e) => e['extra.blocklist.entry']), ['192.0.2.5']);
    const updates = await db.query<{ outcome: string; added: number; removed: number }>(`SELECT outcome, added, removed FROM blocklist_updates WHERE list = 'drop' ORDER BY id`);
    assert.deepEqual(updates.rows.map((u) => u.outcome), ['updated', 'unchanged', 'updated']);
    assert.equal(updates.rows[2].removed, 2); // 192.0.2.5 and 8.8.8.8
    assert.equal(updates.rows[2].added, 0);
  });

  test('history: the same address listed in 2022 belonged to the customer who held it then', async () => {
    http.lists.set('/old.ipset', { body: '192.0.2.7\n' });
    const d = deps({ sources: [{ name: 'old', url: `${http.url}/old.ipset` }] });
    await syncLists(d, { now: new Date('2022-06-01T00:00:00Z') });
    const [row] = await listListings(db, { list: 'old' });
    assert.equal(row.customer_id, 'c1006');
    assert.equal(row.decision, 'report', 'the default playbook only reports');
  });

  test('a failed, empty, cut-short or junk download keeps the previous version and raises an alert', async () => {
    http.lists.set('/flaky.ipset', { body: '203.0.113.1\n203.0.113.2\n' });
    const d = deps({ sources: [{ name: 'flaky', url: `${http.url}/flaky.ipset`, every: 60 }] });
    let now = Date.parse('2024-04-01T00:00:00Z');
    const step = async () => { now += 3600_000; return (await syncLists(d, { now: new Date(now), only: ['flaky'] }))[0]; };
    assert.equal((await step()).outcome, 'updated');
    const cases: [Served, string][] = [
      [{ status: 500 }, 'fetch_failed'],
      [{ body: '' }, 'empty'],
      [{ body: '<html><body>Service temporarily unavailable</body></html>\n' }, 'empty'],
      [{ body: '203.0.113.1\n', cutShort: true }, 'truncated'],
      [{ body: `${fireholHeader('flaky', 'X', 'abuse', 'Mon Nov  2 15:13:06 UTC 2015', 1000)}203.0.113.1\n` }, 'truncated'],
    ];
    for (const [served, kind] of cases) {
      http.lists.set('/flaky.ipset', served);
      const o = await step();
      assert.equal(o.outcome, 'kept_previous', kind);
      const [alert] = await listAlerts(db, { list: 'flaky', limit: 1 });
      assert.equal(alert.kind, kind);
      assert.match(alert.message, /previous version stays in force/);
      assert.equal((await listListings(db, { list: 'flaky', active: true })).length, 2, `listings untouched after ${kind}`);
    }
    http.lists.delete('/flaky.ipset');
    assert.equal((await step()).outcome, 'kept_previous');
    assert.equal((await listAlerts(db, { list: 'flaky', limit: 1 }))[0].kind, 'vanished');
    assert.equal((await getSource(db, 'flaky'))?.entries, 2, 'the last good version stays recorded');
  });

  test('an oversized list is refused, announced (Content-Length) or not (chunked, cut at the cap while streaming)', async () => {
    for (const chunked of [false, true]) {
      const name = chunked ? 'huge-chunked' : 'huge';
      http.lists.set(`/${name}.ipset`, { body: '203.0.113.1\n'.repeat(10000), chunked });
      const d = deps({ sources: [{ name, url: `${http.url}/${name}.ipset` }], max_bytes: 4096 });
      const [o] = await syncLists(d, { now: new Date('2024-05-01T00:00:00Z') });
      assert.equal(o.outcome, 'failed', name);
      assert.equal((await listAlerts(db, { list: name, limit: 1 }))[0].kind, 'over_cap');
      assert.equal(existsSync(copyPath(store().dataDir, name)), false);
    }
  });

  test('If-Modified-Since for servers without ETag; a server that never answers times out', { timeout: 30000 }, async () => {
    const lastModified = 'Mon, 01 Jan 2024 00:00:00 GMT';
    http.lists.set('/lm.ipset', { body: '198.51.100.70\n', lastModified });
    const d = deps({ sources: [{ name: 'lm', url: `${http.url}/lm.ipset` }], timeout: 1 });
    assert.equal((await syncLists(d, { now: new Date('2024-06-01T00:00:00Z') }))[0].outcome, 'updated');
    assert.equal((await syncLists(d, { now: new Date('2024-06-02T00:00:00Z') }))[0].outcome, 'unchanged');
    assert.equal(http.requests.at(-1)?.ifModifiedSince, lastModified);
    http.lists.set('/lm.ipset', { hang: true });
    const [o] = await syncLists(d, { now: new Date('2024-06-03T00:00:00Z') });
    assert.equal(o.outcome, 'kept_previous');
    assert.match(o.error!, /timed out/);
    assert.equal((await listListings(db, { list: 'lm', active: true })).length, 1);
  });

  test('a FireHOL checkout directory: one list per .ipset/.netset, a vanished file keeps its last version', async () => {
    const dir = join(work, 'blocklist-ipsets');
    mkdirSync(dir);
    writeFileSync(join(dir, 'README.md'), '# not a list\n');
    writeFileSync(join(dir, 'alpha.netset'), `${fireholHeader('alpha', 'Alpha Org', 'attacks', 'Tue Feb 27 10:00:00 UTC 2024', 2)}198.51.100.66\n203.0.113.32/30\n`);
    writeFileSync(join(dir, 'beta.ipset'), `${fireholHeader('beta', 'Beta Org', 'malware', 'Tue Feb 27 10:00:00 UTC 2024', 1)}198.51.100.66\n`);
    const d = deps({ sources: [{ path: dir, playbook: 'corroborate' }] });
    const out = await syncLists(d, { now: new Date('2024-03-01T00:00:00Z') });
    assert.deepEqual(out.map((o) => [o.list, o.outcome]), [['alpha', 'updated'], ['beta', 'updated']]);
    // No `every` configured: the list is due again after its own update frequency (1 day).
    assert.equal((await getSource(db, 'alpha'))?.next_due?.toISOString(), '2024-03-02T00:00:00.000Z');
    // 198.51.100.66 (vps-1002) is on both lists from two maintainers: acted on. 203.0.113.32/30
    // (ded-1003) waits: other lists name other addresses of that server, not these.
    const rows = await listListings(db, { active: true });
    const decision = (list: string, entry: string) => rows.find((r) => r.list === list && r.entry === entry)?.decision;
    assert.equal(decision('alpha', '198.51.100.66'), 'act');
    assert.equal(decision('beta', '198.51.100.66'), 'act');
    assert.equal(decision('alpha', '203.0.113.32/30'), 'wait');
    const beta = delivered.flatMap((x) => x.events).find((e) => e['feed.name'] === 'beta');
    assert.equal(beta?.['classification.type'], 'malware');
    rmSync(join(dir, 'beta.ipset'));
    const again = await syncLists(d, { now: new Date('2024-03-03T00:00:00Z') });
    assert.deepEqual(again.map((o) => [o.list, o.outcome]), [['alpha', 'unchanged']]);
    // beta is no longer in the directory listing; checked by name it is vanished.
    const gone = await syncLists(deps({ sources: [{ name: 'beta', path: join(dir, 'beta.ipset') }] }), { now: new Date('2024-03-04T00:00:00Z'), force: true });
    assert.equal(gone[0].outcome, 'kept_previous');
    assert.equal((await listAlerts(db, { list: 'beta', limit: 1 }))[0].kind, 'vanished');
  });

  test('the quality report: size, freshness, churn, overlap, listing time and precision against confirmed cases', async () => {
    // A case about vps-1002 in which the desk established a compromise confirms the listings of 198.51.100.66.
    await db.query(`INSERT INTO cases (number, year, seq, state, origin, category, abuse_type, playbook, misuse_kind, customer_id, service_id, opened_at, updated_at)
      VALUES ('2024-000001', 2024, 1, 'resolved', 'events', 'security_incident', 'brute-force', 'brute-force', 'compromised', 'c1002', 'vps-1002', '2024-03-05', '2024-03-05')`);
    const report = await qualityReport(db, { dataDir: store().dataDir, now: new Date('2024-03-05T00:00:00Z') });
    const q = (name: string) => report.find((r) => r.list === name)!;
    assert.equal(q('alpha').entries, 2);
    assert.equal(q('alpha').unique_ips, 5);
    assert.equal(q('alpha').freshness.update_every, 86400);
    assert.equal(q('alpha').freshness.lag_hours, 62); // 2024 has a 29 February
    assert.equal(q('alpha').freshness.missed_updates, 5); // 6.6 days old, 1 update a day
    assert.deepEqual(q('alpha').overlap.find((o) => o.list === 'beta'), { list: 'beta', common_ips: 1, share: 0.2 });
    assert.deepEqual(q('drop').churn.avg_removed, 2);
    assert.equal(q('drop').listings.delisted, 1);
    assert.equal(q('drop').listings.median_hours_to_delisting, 48);
    // alpha listed two netblocks (vps-1002, ded-1003); only vps-1002 was confirmed abuse.
    assert.deepEqual(q('alpha').precision, { listed_netblocks: 2, confirmed: 1, ratio: 0.5 });
    assert.deepEqual(q('beta').precision, { listed_netblocks: 1, confirmed: 1, ratio: 1 });
    assert.equal(q('flaky').alerts[0].kind, 'vanished');
    assert.equal(q('flaky').churn.failed_checks, 6);
  });
});
