import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { forEachStore } from './helpers/stores.js';
import { loadInventory, openTestDesk } from './helpers/intake.js';
import { insertEvents, prepareEvent, type EventRow } from '../src/intake/events-store.js';
import type { Event } from '../src/events/event.js';

interface Row {
  id: string; report_id: string | null; source: string; time: Date; source_ip: string | null; classification_type: string | null;
  customer_id: string | null; service_id: string | null; attributed_to: string | null; event: Event; same_jsonb: boolean;
}

forEachStore('events store: one statement per batch, every column and the jsonb as given', (store) => {
  let desk: Awaited<ReturnType<typeof openTestDesk>>;
  let reportId: number;
  before(async () => {
    desk = await openTestDesk(store());
    await loadInventory(desk);
    reportId = Number((await desk.db.query<{ id: string }>(`INSERT INTO reports (sha256, size, channel) VALUES ('events-store', 1, 'file') RETURNING id`)).rows[0].id);
  });
  after(async () => { await desk?.close(); });

  /** The stored rows of `ids`, each with whether its jsonb equals the JSON text of `expected`. */
  async function readBack(ids: number[], expected: Event[]): Promise<Row[]> {
    return (await desk.db.query<Row>(
      `SELECT e.id, e.report_id, e.source, e.time, host(e.source_ip) AS source_ip, e.classification_type, e.customer_id, e.service_id,
              e.attributed_to, e.event, e.event = x.want::jsonb AS same_jsonb
         FROM unnest($1::bigint[], $2::text[]) AS x(id, want) JOIN events e ON e.id = x.id ORDER BY e.id`,
      [ids, expected.map((e) => JSON.stringify(e))])).rows;
  }

  test('hostile values are cleaned once and stored; separators, quotes and the word NULL stay data', async () => {
    const now = '2026-11-25T10:00:00.000Z';
    const raw: Event[] = [
      { 'source.ip': '203.0.113.5', 'classification.type': 'scanner', 'time.source': '2026-11-25T01:02:03+00:00', 'source.port': 22, 'extra.note': 'NUL \u0000 here' },
      { 'source.ip': '198.51.100.7', 'classification.type': 'spam\u0000', 'extra.high': 'lone \ud800 high', 'extra.low': 'lone \udc00 low', 'extra.pair': 'pair \ud83d\ude00 kept' },
      { 'source.url': 'http://shop.example.jp/a', 'extra.lines': 'one\ntwo\r\nthree\ttab \u2028 sep', 'extra.meta': '{"a",b}\\ \\n NULL' },
      { 'source.fqdn': 'x\u0000.example', 'extra.list': ['ok', 'bad \udfff', 'nul \u0000'] as unknown as string, 'extra.k\u0000ey': 'key with NUL' },
      { 'source.ip': '2001:db8::1', 'time.source': 'not a time', 'extra.empty': '' },
    ];
    const rows = raw.map((e) => prepareEvent(desk, e, reportId, 'report', now));
    const stored = await desk.db.transaction((tx) => insertEvents(tx, rows));
    assert.equal(stored.length, raw.length);
    assert.ok(stored.every((s, i) => i === 0 || s.id > stored[i - 1].id), 'ids come back in the order of the rows');
    const back = await readBack(stored.map((s) => s.id), stored.map((s) => s.event));
    assert.deepEqual(back.map((b) => Number(b.id)), stored.map((s) => s.id));
    assert.ok(back.every((b) => b.same_jsonb), 'each event is the jsonb of its own JSON text');
    assert.deepEqual(back.map((b) => b.event), stored.map((s) => s.event));

    const [a, b, c, d, e] = back;
    assert.equal(a.event['extra.note' as keyof Event], 'NUL \ufffd here');
    assert.equal(a.source_ip, '203.0.113.5');
    assert.equal(a.customer_id, 'c1');
    assert.equal(a.service_id, 'vps-1');
    assert.equal(a.attributed_to, '203.0.113.0/24');
    assert.equal(a.time.toISOString(), '2026-11-25T01:02:03.000Z');
    assert.equal(a.event['source.port'], 22, 'numbers stay numbers');
    assert.equal(b.classification_type, 'spam\ufffd');
    assert.equal(b.event['extra.high' as keyof Event], 'lone \ufffd high');
    assert.equal(b.event['extra.low' as keyof Event], 'lone \ufffd low');
    assert.equal(b.event['extra.pair' as keyof Event], 'pair \ud83d\ude00 kept');
    assert.equal(b.customer_id, null);
    assert.equal(c.event['extra.lines' as keyof Event], 'one\ntwo\r\nthree\ttab \u2028 sep', 'line feeds inside values do not split events');
    assert.equal(c.event['extra.meta' as keyof Event], '{"a",b}\\ \\n NULL');
    assert.equal(c.customer_id, 'c2');
    assert.equal(c.source_ip, null);
    assert.deepEqual(d.event['extra.list' as keyof Event], ['ok', 'bad \ufffd', 'nul \ufffd']);
    assert.equal(d.event['extra.k\ufffdey' as keyof Event], 'key with NUL');
    assert.equal(e.time.toISOString(), now, 'an unreadable time falls back to the time of receipt');
    assert.equal(e.source_ip, '2001:db8::1');
    assert.ok(back.every((r) => Number(r.report_id) === reportId && r.source === 'report'));
  });

  test('column values are data too: separators, quotes, backslashes, empty strings and the word NULL', async () => {
    const base = prepareEvent(desk, { 'source.ip': '192.0.2.1' }, null, 'x', '2026-11-25T00:00:00.000Z');
    const odd = ['NULL', 'null', '\\N', '', 'a,b', '{c}', '"quoted"', 'back\\slash', 'line\nfeed', 'cr\r\nlf', 'tab\there', '日本語'];
    const rows: EventRow[] = odd.map((v, i) => ({
      ...base, reportId: i % 2 ? reportId : null, source: `blocklist:${v}`, classificationType: v, customerId: v, serviceId: i % 3 ? v : null, attributedTo: v,
      event: { ...base.event, 'extra.value': v } as Event,
    }));
    const stored = await desk.db.transaction((tx) => insertEvents(tx, rows));
    const back = await readBack(stored.map((s) => s.id), rows.map((r) => r.event));
    assert.deepEqual(back.map((r) => [r.report_id === null ? null : Number(r.report_id), r.source, r.classification_type, r.customer_id, r.service_id, r.attributed_to]),
      rows.map((r) => [r.reportId, r.source, r.classificationType, r.customerId, r.serviceId, r.attributedTo]));
    assert.ok(back.every((r) => r.same_jsonb));
  });

  test('an empty batch stores nothing; a batch is all or nothing', async () => {
    assert.deepEqual(await desk.db.transaction((tx) => insertEvents(tx, [])), []);
    const before = (await desk.db.query<{ n: number }>('SELECT count(*)::int AS n FROM events')).rows[0].n;
    const good = prepareEvent(desk, { 'source.ip': '192.0.2.2' }, reportId, 'report', '2026-11-25T00:00:00.000Z');
    await assert.rejects(desk.db.transaction((tx) => insertEvents(tx, [good, { ...good, reportId: 999_999_999 }])), /report that does not exist/);
    assert.equal((await desk.db.query<{ n: number }>('SELECT count(*)::int AS n FROM events')).rows[0].n, before);
    // A value the database refuses half-way through a batch: nothing stored, the connection still usable.
    await assert.rejects(desk.db.transaction((tx) => insertEvents(tx, [good, { ...good, sourceIp: 'not an address' }])), /inet|invalid/i);
    assert.equal((await desk.db.query<{ n: number }>('SELECT count(*)::int AS n FROM events')).rows[0].n, before);
    const [ok] = await desk.db.transaction((tx) => insertEvents(tx, [good]));
    assert.equal((await desk.db.query<{ n: number }>('SELECT count(*)::int AS n FROM events WHERE id = $1', [ok.id])).rows[0].n, 1);
  });

  test('a report with events cannot be deleted or renumbered; one without can be deleted', async () => {
    await assert.rejects(desk.db.query('DELETE FROM reports WHERE id = $1', [reportId]), /has events/);
    await assert.rejects(desk.db.query('UPDATE reports SET id = id + 1000000 WHERE id = $1', [reportId]), /has events/);
    const empty = (await desk.db.query<{ id: string }>(`INSERT INTO reports (sha256, size, channel) VALUES ('no-events', 1, 'file') RETURNING id`)).rows[0].id;
    assert.equal((await desk.db.query('DELETE FROM reports WHERE id = $1', [empty])).affectedRows, 1);
  });
});
