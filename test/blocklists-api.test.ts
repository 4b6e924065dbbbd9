import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { forEachStore } from './helpers/stores.js';
import { makeDesk, type TestDesk } from './helpers/desk.js';
import { importInventory, rowsFromText } from '../src/inventory/import.js';
import { blocklistService, watchDeps } from '../src/blocklists/service.js';
import { syncLists } from '../src/blocklists/watch.js';
import { listListings } from '../src/blocklists/store.js';

const INVENTORY = `customer_id,customer_name,customer_email,language,brand,service_id,service_type,resource,valid_from,valid_to
c1,First KK,ops@first.example,ja,mh,vps-1,vps,192.0.2.0/28,2020-01-01,
c2,Second Ltd,ops@second.example,en,mh,ded-2,dedicated,203.0.113.0/26,2020-01-01,
`;

forEachStore('blocklist watch in the running desk', (store) => {
  let t: TestDesk;
  let work: string;
  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'madoguchi-bl-api-'));
    writeFileSync(join(work, 'attackers.ipset'), '# Maintainer      : Test Org\n# Category        : attacks\n192.0.2.3\n203.0.113.40\n8.8.8.8\n');
    t = await makeDesk(store(), (c) => {
      c.blocklists.sources = [{ name: 'attackers', path: join(work, 'attackers.ipset'), every: 3600, playbook: 'act' }];
    });
    assert.equal((await importInventory(t.desk.db, rowsFromText(INVENTORY, 'csv'), { timezone: 'UTC' })).ok, true);
    await t.desk.attribution.refresh();
  });
  after(async () => { await t?.close(); rmSync(work, { recursive: true, force: true }); });

  test('the service checks the list, and each listing goes into intake as an attributed event', { timeout: 30000 }, async () => {
    const running = await blocklistService.start(t.desk);
    assert.ok(running, 'enabled by a configured source');
    try {
      type Row = { source: string; customer_id: string | null; service_id: string | null; classification_type: string; source_ip: string };
      let rows: Row[] = [];
      // Waits for the first round to land (the node:test timeout turns a hang into a failure).
      while (rows.length < 2) {
        await sleep(50);
        rows = (await t.desk.db.query<Row>(`SELECT source, customer_id, service_id, classification_type, host(source_ip) AS source_ip
          FROM events WHERE source LIKE 'blocklist:%' ORDER BY source_ip`)).rows;
      }
      assert.deepEqual(rows, [
        { source: 'blocklist:attackers', customer_id: 'c1', service_id: 'vps-1', classification_type: 'blacklist', source_ip: '192.0.2.3' },
        { source: 'blocklist:attackers', customer_id: 'c2', service_id: 'ded-2', classification_type: 'blacklist', source_ip: '203.0.113.40' },
      ]);
    } finally { await running.stop(); }
    const listings = await listListings(t.desk.db, { list: 'attackers' });
    assert.ok(listings.every((l) => l.event_sent_at !== null));
  });

  test('a delisting reaches the case that the listing opened', { timeout: 30000 }, async () => {
    writeFileSync(join(work, 'attackers.ipset'), '# Maintainer      : Test Org\n# Category        : attacks\n203.0.113.40\n8.8.8.8\n');
    await syncLists(watchDeps(t.desk), { force: true });
    const r = await t.desk.db.query<{ number: string; delisted: boolean | null; customer_id: string }>(
      `SELECT c.number, (e.event->>'extra.blocklist.delisted')::boolean AS delisted, c.customer_id
         FROM case_evidence e JOIN cases c ON c.id = e.case_id
        WHERE e.event->>'feed.name' = 'attackers' AND c.customer_id = 'c1' ORDER BY e.id`);
    assert.deepEqual(r.rows.map((x) => x.delisted), [false, true]);
    assert.equal(new Set(r.rows.map((x) => x.number)).size, 1, 'listing and delisting on one case');
  });

  test('the report, listings and alerts over the API; a customer key sees only its own listings', async () => {
    const operator = await t.keyFor(['operator']);
    const r = await t.app.inject({ method: 'GET', url: '/api/v1/blocklists', headers: operator });
    assert.equal(r.statusCode, 200);
    const [q] = r.json().lists;
    assert.equal(q.list, 'attackers');
    assert.equal(q.entries, 2);
    assert.equal(q.maintainer, 'Test Org');
    assert.equal(q.category, 'attacks');
    assert.equal(q.listings.active, 1);
    assert.equal(q.listings.delisted, 1);

    const all = await t.app.inject({ method: 'GET', url: '/api/v1/blocklists/listings', headers: operator });
    assert.deepEqual(all.json().listings.map((l: { entry: string; delisted_at: string | null }) => [l.entry, l.delisted_at !== null]).sort(),
      [['192.0.2.3', true], ['203.0.113.40', false]]);
    const customer = await t.keyFor(['customer'], { customerId: 'c2' });
    const own = await t.app.inject({ method: 'GET', url: '/api/v1/blocklists/listings?customer_id=c1', headers: customer });
    assert.deepEqual(own.json().listings.map((l: { customer_id: string }) => l.customer_id), ['c2']);
    const reporter = await t.keyFor(['reporter']);
    assert.equal((await t.app.inject({ method: 'GET', url: '/api/v1/blocklists', headers: reporter })).statusCode, 403);
    assert.equal((await t.app.inject({ method: 'GET', url: '/api/v1/blocklists' })).statusCode, 401);
    const alerts = await t.app.inject({ method: 'GET', url: '/api/v1/blocklists/alerts', headers: operator });
    assert.deepEqual(alerts.json(), { alerts: [] });
  });

  test('POST a list body to see which inventory addresses it lists, malformed lines counted', async () => {
    const operator = await t.keyFor(['operator']);
    const r = await t.app.inject({
      method: 'POST', url: '/api/v1/blocklists/check?name=pasted', headers: { ...operator, 'content-type': 'text/plain' },
      payload: '; pasted from a mail\n192.0.2.0/30 ; SBL1\n203.0.113.0/24\nnonsense\n',
    });
    assert.equal(r.statusCode, 200);
    assert.deepEqual(r.json(), {
      hits: [
        { list: 'pasted', entry: '192.0.2.0/30', ip_count: 4, customer_id: 'c1', service_id: 'vps-1', netblock: '192.0.2.0/28' },
        { list: 'pasted', entry: '203.0.113.0/24', ip_count: 64, customer_id: 'c2', service_id: 'ded-2', netblock: '203.0.113.0/26' },
      ],
      entries: 2, malformed: 1, malformed_samples: [{ line: 4, text: 'nonsense' }],
    });
  });
});
