// The intake worker behind HTTP intake: a desk that stops between committing a report's events and
// finishing its sinks (case work) must hand those events to the sinks when it starts again, once.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { forEachStore } from './helpers/stores.js';
import { makeDesk, type TestDesk } from './helpers/desk.js';
import { loadInventory, mail, shadowserverRows, SHADOWSERVER_NAME } from './helpers/intake.js';
import { storeReport } from '../src/intake/ingest.js';
import { eventSinks, type EventSink, type SinkContext } from '../src/intake/sinks.js';
import { intakeWorker, intakeWorkerService } from '../src/intake/worker.js';
import { caseSink } from '../src/cases/sink.js';

forEachStore('intake worker: stopped between the events commit and the sinks', (store) => {
  const registered = [...eventSinks];
  after(() => { eventSinks.splice(0, eventSinks.length, ...registered); });

  let reportId = 0;
  let events = 0;
  const seen: SinkContext[] = [];
  const counting: EventSink = async (_desk, stored, ctx) => { if (ctx.report?.id === reportId) seen.push(ctx); assert.ok(stored.length); };

  before(async () => {
    // The first run: its only sink never returns, as if the process died inside the case work.
    const first = await makeDesk(store());
    await loadInventory(first.desk);
    let reached!: () => void;
    const inSink = new Promise<void>((r) => { reached = r; });
    const dies: EventSink = () => { reached(); return new Promise(() => undefined); };
    eventSinks.splice(0, eventSinks.length, dies);
    const raw = mail({ id: 'sinks-crash@reporter.example' });
    const stored = await storeReport(first.desk, raw, 'http', { contentType: 'message/rfc822' });
    reportId = stored.reportId;
    intakeWorker(first.desk).add({ reportId, raw, channel: 'http', meta: { contentType: 'message/rfc822' } });
    await inSink;
    const row = (await first.desk.db.query<{ status: string; sinks_pending: boolean; event_count: number }>(
      'SELECT status, sinks_pending, event_count FROM reports WHERE id = $1', [reportId])).rows[0];
    assert.equal(row.status, 'parsed');
    assert.equal(row.sinks_pending, true, 'the events are committed with the mark that their sinks are not done');
    events = row.event_count;
    assert.ok(events >= 1);
    // Gone without stopping the worker (it is stuck in the sink): the store is left as a crash leaves it.
    await first.app.close();
    first.desk.attribution.close();
    await first.desk.db.close();
    eventSinks.splice(0, eventSinks.length, ...registered, counting);
  });

  let t: TestDesk;
  after(async () => { await t?.close(); });

  test('the next start hands the stored events to the sinks, marked as a possible second time, and clears the mark', async () => {
    t = await makeDesk(store());
    const running = await intakeWorkerService.start(t.desk);
    await intakeWorker(t.desk).idle();
    assert.equal(seen.length, 1, 'the sinks ran once for the report');
    assert.equal(seen[0].reparse, true);
    const row = (await t.desk.db.query<{ sinks_pending: boolean; cases: string[]; event_count: number }>(
      'SELECT sinks_pending, cases, event_count FROM reports WHERE id = $1', [reportId])).rows[0];
    assert.equal(row.sinks_pending, false);
    assert.equal(row.event_count, events, 'the events were not parsed again');
    assert.equal(Number((await t.desk.db.query<{ n: string }>('SELECT count(*) AS n FROM events WHERE report_id = $1', [reportId])).rows[0].n), events);
    assert.ok(row.cases.length >= 1, 'the case sink grouped the events into a case');
    const linked = (await t.desk.db.query<{ n: string }>('SELECT count(*) AS n FROM case_events WHERE report_id = $1', [reportId])).rows[0];
    assert.equal(Number(linked.n), events, 'each event joined a case once');
    await running!.stop();
  });

  test('a later start finds nothing left to do for it', async () => {
    await t.close();
    t = await makeDesk(store());
    const running = await intakeWorkerService.start(t.desk);
    await intakeWorker(t.desk).idle();
    assert.equal(seen.length, 1);
    await running!.stop();
    await t.close();
  });

  test('a report parsed behind the answer is grouped into a case by the worker', async () => {
    t = await makeDesk(store());
    const raw = mail({ id: 'worker-case@reporter.example', body: 'SSH brute force from 203.0.113.44.\r\n2026-11-24 09:12:01 sshd[1]: Failed password for root from 203.0.113.44 port 4242 ssh2\r\n' });
    const stored = await storeReport(t.desk, raw, 'http', {});
    const worker = intakeWorker(t.desk);
    const outcome = worker.result(stored.reportId, 60_000);
    worker.add({ reportId: stored.reportId, raw, channel: 'http', meta: {} });
    const r = await outcome;
    assert.equal(r?.status, 'parsed');
    assert.ok(r!.cases.length >= 1);
    const row = (await t.desk.db.query<{ sinks_pending: boolean; cases: string[] }>('SELECT sinks_pending, cases FROM reports WHERE id = $1', [stored.reportId])).rows[0];
    assert.deepEqual(row, { sinks_pending: false, cases: r!.cases });
  });

  test('reports handed to the sinks together each learn the cases their own events went to', async () => {
    // Two customers' addresses and one nobody holds (triage): three cases, one report each, plus a second report on the first.
    const ips = ['203.0.113.61', '203.0.113.61', '198.51.100.99'];
    const raws = ips.map((ip, i) => mail({ id: `batch-${i}@reporter.example`, body: `SSH brute force from ${ip}.\r\n2026-11-24 09:12:0${i} sshd[1]: Failed password for root from ${ip} port 4242 ssh2\r\n` }));
    raws.push(Buffer.from(JSON.stringify([{ 'source.url': 'http://shop.example.jp/login.php', 'classification.type': 'phishing', 'time.source': '2026-11-24T09:00:00Z' }])));
    const stored = await Promise.all(raws.map((raw) => storeReport(t.desk, raw, 'http', {})));
    const worker = intakeWorker(t.desk);
    const outcomes = stored.map((s) => worker.result(s.reportId, 60_000));
    stored.forEach((s, i) => worker.add({ reportId: s.reportId, raw: raws[i], channel: 'http', meta: { contentType: i === 3 ? 'application/json' : 'message/rfc822' } }));
    const results = await Promise.all(outcomes);
    for (const [i, s] of stored.entries()) {
      const linked = (await t.desk.db.query<{ number: string }>(
        'SELECT DISTINCT c.number FROM case_events e JOIN cases c ON c.id = e.case_id WHERE e.report_id = $1 ORDER BY 1', [s.reportId])).rows.map((x) => x.number);
      assert.equal(linked.length, 1, `report ${i} is in one case`);
      assert.deepEqual(results[i]?.cases, linked, `report ${i} names its own case`);
      const row = (await t.desk.db.query<{ cases: string[]; sinks_pending: boolean }>('SELECT cases, sinks_pending FROM reports WHERE id = $1', [s.reportId])).rows[0];
      assert.deepEqual(row, { cases: linked, sinks_pending: false });
    }
    assert.equal(results[0]!.cases[0], results[1]!.cases[0], 'the same customer and kind: the same case');
    assert.equal(new Set(results.map((r) => r!.cases[0])).size, 3);
  });

  test('reports left received by the last run are read back and handed to the sinks together; a feed on its own', async () => {
    const calls: string[] = [];
    const spy: EventSink = async () => { calls.push('one report'); };
    spy.batch = async (_desk, given) => { calls.push(`${given.length} reports`); return given.map(() => undefined); };
    eventSinks.push(spy);
    try {
      const raws = ['203.0.113.71', '203.0.113.72', '198.51.100.73'].map((ip, i) => mail({ id: `left-${i}@reporter.example`, body: `SSH brute force from ${ip}.\r\n2026-11-24 09:13:0${i} sshd[1]: Failed password for root from ${ip} port 4242 ssh2\r\n` }));
      const stored = await Promise.all(raws.map((raw) => storeReport(t.desk, raw, 'http', { contentType: 'message/rfc822' })));
      const feed = await storeReport(t.desk, Buffer.from([...shadowserverRows(4)].join('')), 'file', { contentType: 'text/csv', filename: SHADOWSERVER_NAME, feed: true });
      const worker = intakeWorker(t.desk);
      worker.recover();
      await worker.idle();
      assert.deepEqual(calls.sort(), ['3 reports', 'one report'], 'the mails read back in one batch, the feed streamed on its own');
      for (const s of [...stored, feed]) {
        const row = (await t.desk.db.query<{ status: string; event_count: number; cases: string[]; sinks_pending: boolean }>(
          'SELECT status, event_count, cases, sinks_pending FROM reports WHERE id = $1', [s.reportId])).rows[0];
        assert.equal(row.status, 'parsed');
        assert.equal(row.sinks_pending, false);
        assert.ok(row.cases.length >= 1, `report ${s.reportId} is in a case`);
      }
      const acks = await t.desk.db.query<{ report_id: string }>(
        'SELECT report_id FROM report_acknowledgements WHERE report_id = ANY($1::bigint[]) AND outbox_id IS NOT NULL ORDER BY report_id', [stored.map((s) => s.reportId)]);
      assert.deepEqual(acks.rows.map((r) => Number(r.report_id)), stored.map((s) => s.reportId).sort((a, b) => a - b), 'each mail\'s reporter acknowledged');
    } finally { eventSinks.splice(eventSinks.indexOf(spy), 1); }
  });
});

forEachStore('intake worker: stopped between the grouping and the reporter\'s acknowledgement', (store) => {
  const registered = [...eventSinks];
  after(() => { eventSinks.splice(0, eventSinks.length, ...registered); });
  let reportId = 0;

  before(async () => {
    // The first run groups the events into a case, then dies before it tells the reporter.
    const first = await makeDesk(store());
    await loadInventory(first.desk);
    let reached!: () => void;
    const grouped = new Promise<void>((r) => { reached = r; });
    const diesAfterGrouping: EventSink = async (desk, events, ctx) => {
      desk.config.cases.acknowledge_reports = false;
      await caseSink(desk, events, ctx);
      reached();
      return new Promise(() => undefined);
    };
    eventSinks.splice(0, eventSinks.length, diesAfterGrouping);
    const raw = mail({ id: 'ack-crash@reporter.example' });
    const stored = await storeReport(first.desk, raw, 'http', { contentType: 'message/rfc822' });
    reportId = stored.reportId;
    intakeWorker(first.desk).add({ reportId, raw, channel: 'http', meta: { contentType: 'message/rfc822' } });
    await grouped;
    const linked = (await first.desk.db.query<{ n: string }>('SELECT count(*) AS n FROM case_events WHERE report_id = $1', [reportId])).rows[0];
    assert.ok(Number(linked.n) >= 1, 'the first run grouped the events');
    await first.app.close();
    first.desk.attribution.close();
    await first.desk.db.close();
    eventSinks.splice(0, eventSinks.length, ...registered);
  });

  test('the next start acknowledges the report once, naming the case it was grouped into, and groups nothing twice', async () => {
    for (let run = 0; run < 2; run++) {
      const t = await makeDesk(store());
      const running = await intakeWorkerService.start(t.desk);
      await intakeWorker(t.desk).idle();
      const acks = (await t.desk.db.query<{ to: string[]; body: string }>(
        `SELECT o.recipients AS to, o.body FROM report_acknowledgements a JOIN outbox o ON o.id = a.outbox_id WHERE a.report_id = $1`, [reportId])).rows;
      const cases = (await t.desk.db.query<{ number: string; n: string }>(
        'SELECT c.number, count(*) AS n FROM case_events e JOIN cases c ON c.id = e.case_id WHERE e.report_id = $1 GROUP BY c.number', [reportId])).rows;
      assert.equal(acks.length, 1, `run ${run}: one acknowledgement`);
      assert.deepEqual(acks[0].to, ['abuse@reporter.example']);
      assert.equal(cases.length, 1);
      assert.ok(acks[0].body.includes(cases[0].number), 'the acknowledgement names the case');
      const row = (await t.desk.db.query<{ sinks_pending: boolean; cases: string[] }>('SELECT sinks_pending, cases FROM reports WHERE id = $1', [reportId])).rows[0];
      assert.deepEqual(row, { sinks_pending: false, cases: [cases[0].number] });
      await running!.stop();
      await t.close();
    }
  });
});
