import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { forEachStore } from './helpers/stores.js';
import { makeDesk, type TestDesk } from './helpers/desk.js';
import { loadInventory, mail, mimeBomb } from './helpers/intake.js';
import { ingestReport, ingestEvents, processReport, storeReport } from '../src/intake/ingest.js';
import { intakeWorker } from '../src/intake/worker.js';
import { readRaw, sha256, streamRaw } from '../src/intake/raw-store.js';
import { eventSinks, type EventSink, type StoredEvent } from '../src/intake/sinks.js';

forEachStore('intake: raw store, ingest, duplicates, quarantine, reparse', (store) => {
  let t: TestDesk;
  const seen: StoredEvent[][] = [];
  const sink: EventSink = async (_desk, events) => { seen.push(events); return { cases: ['2026-000123'] }; };

  before(async () => {
    t = await makeDesk(store());
    await loadInventory(t.desk);
    eventSinks.push(sink);
  });
  after(async () => {
    eventSinks.splice(eventSinks.indexOf(sink), 1);
    await t?.close();
  });

  test('a report is stored raw (content-addressed, compressed), parsed, attributed, handed to the sinks', async () => {
    const raw = mail();
    const r = await ingestReport(t.desk, raw, 'cli', { filename: 'r1.eml' });
    assert.equal(r.duplicate, false);
    assert.equal(r.status, 'parsed', r.reason ?? '');
    assert.ok(r.events >= 1);
    assert.ok(r.cases.includes('2026-000123'), 'the case number a sink named comes back');
    const row = (await t.desk.db.query<{ sha256: string; size: string; message_id: string; cases: string[]; reporter_email: string }>(
      'SELECT sha256, size, message_id, cases, reporter_email FROM reports WHERE id = $1', [r.reportId])).rows[0];
    assert.equal(row.sha256, sha256(raw));
    assert.equal(Number(row.size), raw.length);
    assert.equal(row.message_id, 'r1@reporter.example');
    assert.ok(row.cases.includes('2026-000123'));
    assert.equal(row.reporter_email, 'abuse@reporter.example');
    assert.deepEqual(await readRaw(t.desk.db, row.sha256), raw);
    const streamed: Buffer[] = [];
    for await (const c of streamRaw(t.desk.db, row.sha256)) streamed.push(c as Buffer);
    assert.deepEqual(Buffer.concat(streamed), raw);
    const stored = (await t.desk.db.query<{ n: number }>('SELECT sum(length(data))::int AS n FROM report_blobs WHERE sha256 = $1', [row.sha256])).rows[0].n;
    assert.ok(stored < raw.length, `compressed ${stored} < ${raw.length}`);

    const ev = (await t.desk.db.query<{ source_ip: string; customer_id: string; service_id: string; report_id: string; event: Record<string, unknown> }>(
      `SELECT host(source_ip) AS source_ip, customer_id, service_id, report_id, event FROM events WHERE report_id = $1 AND source_ip = '203.0.113.9'`, [r.reportId])).rows;
    assert.ok(ev.length >= 1, 'an event about 203.0.113.9');
    assert.equal(ev[0].customer_id, 'c1');
    assert.equal(ev[0].service_id, 'vps-1');
    assert.equal(ev[0].event['source.ip'], '203.0.113.9');
    assert.equal(seen.at(-1)![0].reportId, r.reportId);
    assert.equal(seen.at(-1)!.length, r.events);
  });

  test('the same bytes again, or the same Message-ID and body by another route, are one report', async () => {
    const first = await ingestReport(t.desk, mail({ id: 'dup@reporter.example' }), 'smtp', {});
    const again = await ingestReport(t.desk, mail({ id: 'dup@reporter.example' }), 'smtp', {});
    assert.equal(again.duplicate, true);
    assert.equal(again.reportId, first.reportId);
    const relayed = await ingestReport(t.desk, mail({ id: 'dup@reporter.example', extraHeaders: 'Received: from mx.desk.example by imap.desk.example; Tue, 24 Nov 2026 10:00:05 +0000' }), 'imap', {});
    assert.equal(relayed.duplicate, true);
    assert.equal(relayed.reportId, first.reportId);
    assert.equal(relayed.events, first.events);
    const row = (await t.desk.db.query<{ arrivals: number }>('SELECT arrivals FROM reports WHERE id = $1', [first.reportId])).rows[0];
    assert.equal(row.arrivals, 3);
    const n = (await t.desk.db.query<{ n: number }>('SELECT count(*)::int AS n FROM events WHERE report_id = $1', [first.reportId])).rows[0].n;
    assert.equal(n, first.events, 'events not doubled');

    const other = await ingestReport(t.desk, mail({ id: 'dup@reporter.example', body: 'A different report about 203.0.113.77 scanning.\r\n' }), 'smtp', {});
    assert.equal(other.duplicate, false, 'a reused Message-ID with another body is another report');
    assert.notEqual(other.reportId, first.reportId);
  });

  test('many reports at once: group commit keeps each one distinct and acknowledged', async () => {
    const results = await Promise.all(Array.from({ length: 60 }, (_, i) => ingestReport(t.desk, mail({ id: `burst-${i}@reporter.example`, body: `Scan from 203.0.113.${i + 10} seen at 2026-11-24 09:00:00.\r\n` }), 'http', {})));
    assert.equal(new Set(results.map((r) => r.reportId)).size, 60);
    assert.ok(results.every((r) => !r.duplicate && r.status === 'parsed'));
    const same = await Promise.all([1, 2, 3].map(() => ingestReport(t.desk, mail({ id: 'same-batch@reporter.example' }), 'http', {})));
    assert.equal(new Set(same.map((r) => r.reportId)).size, 1);
    assert.equal(same.filter((r) => !r.duplicate).length, 1);
  });

  test('a MIME bomb and binary garbage are quarantined with the reason; the raw is kept', async () => {
    const bomb = mimeBomb();
    const r = await ingestReport(t.desk, bomb, 'smtp', {});
    assert.equal(r.status, 'quarantined');
    assert.match(r.reason!, /nesting|deep/i);
    assert.equal(r.events, 0);
    assert.deepEqual(await readRaw(t.desk.db, sha256(bomb)), bomb);

    const garbage = Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 7919) % 256));
    const g = await ingestReport(t.desk, garbage, 'http', {});
    assert.equal(g.status, 'quarantined');
    assert.ok(g.reason);
  });

  test('NUL bytes, broken surrogates and hostile HTML are stored as data', async () => {
    const body = 'Report <script>alert(1)</script><img src=x onerror=alert(2)> \u0000 about 203.0.113.66 \ud800 end\r\n';
    const raw = Buffer.concat([mail({ id: 'nul@reporter.example', subject: 'bad \u0000 subject', body: '' }), Buffer.from(body, 'utf8'), Buffer.from([0xff, 0xfe, 0x00])]);
    const r = await ingestReport(t.desk, raw, 'http', {});
    assert.ok(['parsed', 'quarantined', 'rejected'].includes(r.status));
    assert.deepEqual(await readRaw(t.desk.db, sha256(raw)), raw);
  });

  test('ingestEvents stores attributed events from no report and runs the sinks', async () => {
    const before = seen.length;
    const stored = await ingestEvents(t.desk, [
      { 'source.ip': '203.0.113.200', 'classification.type': 'blacklist', 'feed.name': 'test-list' },
      { 'source.url': 'http://shop.example.jp/login.php', 'classification.type': 'phishing' },
      { 'source.ip': '198.51.100.1', 'time.source': 'not a time' },
    ], 'blocklist:test-list');
    assert.equal(stored.length, 3);
    assert.equal(stored[0].customerId, 'c1');
    assert.equal(stored[1].customerId, 'c2');
    assert.equal(stored[1].attributedTo, 'shop.example.jp');
    assert.equal(stored[2].customerId, null);
    assert.ok(stored.every((e) => e.reportId === null && e.source === 'blocklist:test-list' && e.id > 0));
    assert.equal(seen.length, before + 1);
  });

  test('a report stored but not parsed (the process stopped) is parsed by recovery; reparse replaces events', async () => {
    const stored = await storeReport(t.desk, mail({ id: 'crash@reporter.example' }), 'smtp', {});
    assert.equal(stored.status, 'received');
    const worker = intakeWorker(t.desk);
    const outcome = worker.result(stored.reportId, 60_000);
    worker.recover();
    assert.equal((await outcome)?.status, 'parsed');
    await worker.idle();
    const row = (await t.desk.db.query<{ status: string; event_count: number }>('SELECT status, event_count FROM reports WHERE id = $1', [stored.reportId])).rows[0];
    assert.equal(row.status, 'parsed');
    const ids1 = (await t.desk.db.query<{ id: string }>('SELECT id FROM events WHERE report_id = $1', [stored.reportId])).rows.map((x) => x.id);
    assert.equal(ids1.length, row.event_count);
    const again = await processReport(t.desk, stored.reportId);
    assert.equal(again.events, row.event_count);
    const ids2 = (await t.desk.db.query<{ id: string }>('SELECT id FROM events WHERE report_id = $1', [stored.reportId])).rows.map((x) => x.id);
    assert.equal(ids2.length, ids1.length, 'events replaced, not added');
    assert.ok(ids2.every((id) => !ids1.includes(id)));
  });

  test('channel details with NUL and lone surrogates (a hostile envelope) are stored cleaned, not refused', async () => {
    const r = await storeReport(t.desk, mail({ id: 'meta-nul@reporter.example' }), 'smtp', { mailFrom: 'a\u0000b@x.example', helo: 'h\ud800st', rcpt: ['ok@desk.example'] });
    const row = (await t.desk.db.query<{ meta: Record<string, unknown> }>('SELECT meta FROM reports WHERE id = $1', [r.reportId])).rows[0];
    assert.equal(row.meta.mailFrom, 'a\ufffdb@x.example');
    assert.equal(row.meta.helo, 'h\ufffdst');
    assert.deepEqual(row.meta.rcpt, ['ok@desk.example']);
  });
});
