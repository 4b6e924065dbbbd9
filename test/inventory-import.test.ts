import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { forEachStore } from './helpers/stores.js';
import { importInventory, readInventoryFile, rowsFromText } from '../src/inventory/import.js';
import { loadAssignments, openAttribution } from '../src/attribution/service.js';
import { parseInventoryDate } from '../src/inventory/time.js';

const HEADER = 'customer_id,customer_name,customer_email,language,brand,service_id,service_type,resource,valid_from,valid_to\n';
const GOOD = HEADER +
  'c1,株式会社サンプル,abuse@sample.example,ja,main,vps-1,vps,203.0.113.0/24,2015-01-01,\n' +
  'c1,株式会社サンプル,abuse@sample.example,ja,main,vps-1,vps,2001:db8:1::/48,2015-01-01,\n' +
  'c2,Example Reseller,noc@reseller.example;abuse@reseller.example,en,cloud,srv-2,dedicated,192.0.2.0/28,2016-01-01,2022-12-31\n' +
  'c3,New Holder,ops@new.example,en,cloud,srv-3,vps,192.0.2.0/28,2023-01-10,\n' +
  'c4,ショップ,owner@shop.example,ja,main,sh-4,shared,shop-example.jp,2019-01-01,\n';
const tz = 'Asia/Tokyo';
const dir = mkdtempSync(join(tmpdir(), 'inv-'));
const file = (name: string, text: string) => { const p = join(dir, name); writeFileSync(p, text); return p; };

test('inventory dates: days in the desk time zone, valid_to through the end of its day', () => {
  assert.equal(parseInventoryDate('2015-01-01', tz), Date.parse('2015-01-01T00:00:00+09:00'));
  assert.equal(parseInventoryDate('2022-12-31', tz, true), Date.parse('2023-01-01T00:00:00+09:00'));
  assert.equal(parseInventoryDate('2024-02-29', 'UTC', true), Date.parse('2024-03-01T00:00:00Z'));
  assert.equal(parseInventoryDate('2024-03-10', 'America/New_York'), Date.parse('2024-03-10T00:00:00-05:00'));
  assert.equal(parseInventoryDate('2024-03-11', 'America/New_York'), Date.parse('2024-03-11T00:00:00-04:00'));
  assert.equal(parseInventoryDate('2020-05-01T10:00:00Z', tz), Date.parse('2020-05-01T10:00:00Z'));
  for (const bad of ['2023-02-29', '2023-13-01', '01/02/2023', '2023-01-01T10:00', 'yesterday']) assert.equal(typeof parseInventoryDate(bad, tz), 'string', bad);
});

forEachStore('inventory import', (store) => {
  test('imports customers, services, brands and history; a re-import changes nothing', async () => {
    const db = await store().open();
    try {
      const r = await importInventory(db, readInventoryFile(file('good.csv', GOOD)), { timezone: tz });
      assert.equal(r.ok, true, JSON.stringify(r.errors));
      assert.equal(r.rows, 5);
      assert.ok(r.changed >= 5 + 4 + 4 + 2);
      const c2 = await db.query<{ emails: string[]; language: string }>(`SELECT emails, language FROM customers WHERE id = 'c2'`);
      assert.deepEqual(c2.rows[0].emails, ['noc@reseller.example', 'abuse@reseller.example']);
      const again = await importInventory(db, readInventoryFile(file('good.csv', GOOD)), { timezone: tz });
      assert.equal(again.ok, true);
      assert.equal(again.changed, 0);
      const v = await db.query<{ version: string }>('SELECT version FROM inventory_version');
      assert.equal(Number(v.rows[0].version), 1, 'an import that changed nothing does not bump the version');

      const svc = await openAttribution(db);
      assert.equal(svc.attribute('192.0.2.5', new Date('2020-06-01'))?.customer_id, 'c2');
      assert.equal(svc.attribute('192.0.2.5', new Date('2022-12-31T23:00:00+09:00'))?.customer_id, 'c2', 'valid_to day included');
      assert.equal(svc.attribute('192.0.2.5', new Date('2023-01-05'))?.customer_id ?? null, null);
      assert.equal(svc.attribute('192.0.2.5')?.customer_id, 'c3');
      assert.equal(svc.attribute('www.shop-example.jp')?.service_type, 'shared');
      assert.equal(svc.attribute('2001:db8:1:ff::1')?.brand, 'main');
      assert.equal(r.conflictCount, 0, 'the same range held one after the other is no conflict');
    } finally { await db.close(); }
  });

  test('the index loads every assignment as imported: holder, resource and validity to the millisecond', async () => {
    const db = await store().open();
    try {
      const rows = GOOD + 'c5,Five,five@five.example,en,main,v6-5,vps,2001:db8:5::10-2001:db8:5::ff,2020-05-01T10:00:00.123Z,2021-01-01T00:00:00.5Z\n';
      assert.equal((await importInventory(db, readInventoryFile(file('load.csv', rows)), { timezone: tz })).ok, true);
      const all = await loadAssignments(db);
      assert.equal(all.count, 6);
      const loaded = [...all].map((a) => ({ ...a, holder: { ...a.holder } }))
        .sort((x, y) => x.resource.localeCompare(y.resource) || x.validFrom - y.validFrom);
      const jst = (d: string) => Date.parse(`${d}T00:00:00+09:00`);
      assert.deepEqual(loaded, [
        { holder: { customer_id: 'c2', service_id: 'srv-2', service_type: 'dedicated', brand: 'cloud' }, resource: '192.0.2.0/28', validFrom: jst('2016-01-01'), validTo: jst('2023-01-01') },
        { holder: { customer_id: 'c3', service_id: 'srv-3', service_type: 'vps', brand: 'cloud' }, resource: '192.0.2.0/28', validFrom: jst('2023-01-10'), validTo: Infinity },
        { holder: { customer_id: 'c1', service_id: 'vps-1', service_type: 'vps', brand: 'main' }, resource: '2001:db8:1::/48', validFrom: jst('2015-01-01'), validTo: Infinity },
        { holder: { customer_id: 'c5', service_id: 'v6-5', service_type: 'vps', brand: 'main' }, resource: '2001:db8:5::10-2001:db8:5::ff', validFrom: Date.parse('2020-05-01T10:00:00.123Z'), validTo: Date.parse('2021-01-01T00:00:00.5Z') },
        { holder: { customer_id: 'c1', service_id: 'vps-1', service_type: 'vps', brand: 'main' }, resource: '203.0.113.0/24', validFrom: jst('2015-01-01'), validTo: Infinity },
        { holder: { customer_id: 'c4', service_id: 'sh-4', service_type: 'shared', brand: 'main' }, resource: 'shop-example.jp', validFrom: jst('2019-01-01'), validTo: Infinity },
      ]);
      // An empty inventory loads as nothing, not as an error.
      await db.query('DELETE FROM assignments');
      const none = await loadAssignments(db);
      assert.equal(none.count, 0);
      assert.deepEqual([...none], []);
    } finally { await db.close(); }
  });

  test('a bad row anywhere: every error with its line, and nothing imported', async () => {
    const db = await store().open();
    try {
      const bad = HEADER +
        'x1,Good,ok@good.example,ja,main,x-1,vps,198.51.100.0/24,2020-01-01,\n' +
        'x2,Bad CIDR,ok@bad.example,ja,main,x-2,vps,198.51.100.1/24,2020-01-01,\n' +
        'x3,Bad date,ok@bad.example,en,main,x-3,vps,198.51.101.0/24,2020-02-30,\n' +
        'x4,Bad type,ok@bad.example,en,main,x-4,mainframe,198.51.102.0/24,2020-01-01,\n' +
        'x5,Bad range,ok@bad.example,en,main,x-5,vps,198.51.103.9-198.51.103.1,2020-01-01,\n' +
        'x6,Ends first,ok@bad.example,en,main,x-6,vps,198.51.104.0/24,2020-01-01,2019-01-01\n' +
        'x7,Bad mail,not-an-address,en,main,x-7,vps,198.51.105.0/24,2020-01-01,\n' +
        'x8,Bad lang,ok@bad.example,fr,main,x-8,vps,198.51.106.0/24,2020-01-01,\n' +
        'x9,Garbage,ok@bad.example,en,main,x-9,vps,300.1.2.3,2020-01-01,\n';
      const r = await importInventory(db, readInventoryFile(file('bad.csv', bad)), { timezone: tz });
      assert.equal(r.ok, false);
      const byLine = new Map(r.errors.map((e) => [e.line, e.reason]));
      assert.match(byLine.get(3)!, /host bits set/);
      assert.match(byLine.get(4)!, /valid_from: invalid date/);
      assert.match(byLine.get(5)!, /service_type 'mainframe'/);
      assert.match(byLine.get(6)!, /ends before it starts/);
      assert.match(byLine.get(7)!, /not after valid_from/);
      assert.match(byLine.get(8)!, /not an e-mail address/);
      assert.match(byLine.get(9)!, /language 'fr'/);
      assert.match(byLine.get(10)!, /not an IP address/);
      assert.equal(byLine.has(2), false);
      const n = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM customers WHERE id LIKE 'x%'`);
      assert.equal(n.rows[0].n, 0, 'nothing half-imported');
    } finally { await db.close(); }
  });

  test('contradictions inside one file and a missing column are refused', async () => {
    const db = await store().open();
    try {
      const contra = HEADER +
        'y1,One name,a@y.example,ja,main,y-1,vps,198.18.0.0/24,2020-01-01,\n' +
        'y1,Other name,a@y.example,ja,main,y-1,vps,198.18.1.0/24,2020-01-01,\n';
      const r = await importInventory(db, readInventoryFile(file('contra.csv', contra)), { timezone: tz });
      assert.equal(r.ok, false);
      assert.match(r.errors[0].reason, /customer y1 has other name/);
      assert.equal(r.errors[0].line, 3);
      const noCol = await importInventory(db, readInventoryFile(file('nocol.csv', 'customer_id,customer_name\na,b\n')), { timezone: tz });
      assert.equal(noCol.ok, false);
      assert.match(noCol.errors[0].reason, /lacks column\(s\): customer_email/);
      const ragged = await importInventory(db, readInventoryFile(file('ragged.csv', HEADER + 'a,b,c\n')), { timezone: tz });
      assert.equal(ragged.ok, false);
      assert.match(ragged.errors[0].reason, /CSV/);
      const empty = await importInventory(db, readInventoryFile(file('empty.csv', HEADER)), { timezone: tz });
      assert.equal(empty.ok, false);
    } finally { await db.close(); }
  });

  test('JSON documents, JSON Lines, overlap reports and --sync', async () => {
    const db = await store().open();
    try {
      const doc = { customers: [{ id: 'j1', name: 'JSON Co', language: 'en', emails: ['a@j.example'], brand: 'main', services: [
        { id: 'j-1', type: 'reseller', resources: ['100.64.0.0/16', { resource: 'json.example', valid_from: '2021-01-01' }] }] }] };
      const r1 = await importInventory(db, rowsFromText(JSON.stringify(doc), 'json'), { timezone: tz });
      assert.equal(r1.ok, true, JSON.stringify(r1.errors));
      const jl = JSON.stringify({ customer_id: 'j2', customer_name: 'Sub', customer_email: 'b@j.example', language: 'ja', brand: 'main',
        service_id: 'j-2', service_type: 'vps', resource: '100.64.1.0/24', valid_from: '2021-01-01', valid_to: '' }) + '\n';
      const r2 = await importInventory(db, rowsFromText(jl, 'jsonl'), { timezone: tz });
      assert.equal(r2.ok, true, JSON.stringify(r2.errors));
      assert.ok(r2.conflicts.some((c) => c.kind === 'overlap' && c.resource === '100.64.1.0/24'), 'nested block of another service is reported');
      const svc = await openAttribution(db);
      assert.equal(svc.attribute('100.64.1.1')?.service_id, 'j-2');
      assert.equal(svc.attribute('100.64.2.1')?.service_id, 'j-1');
      // Sync with a file that no longer lists j-2's block: it is closed, not deleted.
      const r3 = await importInventory(db, rowsFromText(JSON.stringify(doc), 'json'), { timezone: tz, sync: true });
      assert.equal(r3.ok, true);
      assert.ok(r3.closed >= 1);
      await svc.refresh();
      assert.equal(svc.attribute('100.64.1.1')?.service_id, 'j-1');
      assert.equal(svc.attribute('100.64.1.1', Date.now() - 60_000)?.service_id, 'j-2', 'history kept');
    } finally { await db.close(); }
  });
});
