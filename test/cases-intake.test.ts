// Cases fed by intake for real: a report's events reach the case sink, the report learns its case
// numbers, the reporter is acknowledged once, a reparse does not double the case, and events from
// no report (a blocklist) open cases too. A case link names its stored event instead of copying it;
// the evidence of a case stays whole when a reparse or anything else deletes those events.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { forEachStore } from './helpers/stores.js';
import { makeDesk, type TestDesk } from './helpers/desk.js';
import { seedInventory } from './helpers/cases.js';
import { ingestEvents, ingestReport, processReport } from '../src/intake/ingest.js';
import { caseEnv } from '../src/cases/env.js';
import { SYSTEM } from '../src/cases/cases.js';
import { viewEvidence } from '../src/cases/evidence.js';
import { evidenceOf } from '../src/notices/context.js';

forEachStore('cases from intake', (store) => {
  let t: TestDesk;
  before(async () => {
    t = await makeDesk(store());
    await seedInventory(t.desk.db);
    await t.desk.db.exec(`
      INSERT INTO assignments (service_id, kind, resource, first_ip, last_ip, valid_from) VALUES
        ('web-1', 'ip', '192.0.2.0/28', '192.0.2.0', '192.0.2.15', '2020-01-01T00:00:00Z'),
        ('vps-1', 'ip', '198.51.100.20', '198.51.100.20', '198.51.100.20', '2020-01-01T00:00:00Z');
      UPDATE inventory_version SET version = version + 1;`);
    await t.desk.attribution.refresh();
  });
  after(async () => { await t?.close(); });

  const mail = (id: string, body: string) => Buffer.from([
    'From: Honeypot Team <honeypot@example.net>', 'To: abuse@desk.example', `Message-ID: <${id}@example.net>`,
    'Subject: SSH brute force attack from 192.0.2.10', 'Date: Fri, 20 Nov 2026 10:00:00 +0900', 'Content-Type: text/plain; charset=utf-8', '', body, '',
  ].join('\r\n'));

  test('a report\'s events open a case, the report carries its number, the reporter gets one acknowledgement', async () => {
    const r = await ingestReport(t.desk, mail('m1', 'We observed SSH brute force (password guessing) attacks against our servers from 192.0.2.10.\n2026-11-20 09:58:01 192.0.2.10 sshd Failed password for root\n'), 'smtp');
    assert.equal(r.status, 'parsed', JSON.stringify(r));
    assert.ok(r.events >= 1);
    assert.equal(r.cases.length, 1, JSON.stringify(r));
    const c = await t.desk.db.query<{ customer_id: string; state: string; event_count: number; id: string }>('SELECT * FROM cases WHERE number = $1', [r.cases[0]]);
    assert.equal(c.rows[0].customer_id, 'c-ja');
    const stored = await t.desk.db.query<{ cases: string[] }>('SELECT cases FROM reports WHERE id = $1', [r.reportId]);
    assert.deepEqual(stored.rows[0].cases, r.cases);
    const ack = await t.desk.db.query<{ recipients: string[]; subject: string }>(`SELECT recipients, subject FROM outbox WHERE kind = 'acknowledgement'`);
    assert.equal(ack.rows.length, 1);
    assert.deepEqual(ack.rows[0].recipients, ['honeypot@example.net']);
    assert.ok(ack.rows[0].subject.includes(r.cases[0]));
    const links = await t.desk.db.query<{ reporter: string; report_id: string }>('SELECT reporter, report_id FROM case_events WHERE case_id = $1', [c.rows[0].id]);
    assert.ok(links.rows.every((l) => l.reporter === 'honeypot@example.net' && Number(l.report_id) === r.reportId));

    // Reparsing the same report neither doubles the case's events nor acknowledges again.
    const again = await processReport(t.desk, r.reportId);
    assert.deepEqual(again.cases, r.cases);
    const after = await t.desk.db.query<{ event_count: number }>('SELECT event_count FROM cases WHERE number = $1', [r.cases[0]]);
    assert.equal(after.rows[0].event_count, c.rows[0].event_count);
    assert.equal((await t.desk.db.query(`SELECT 1 FROM outbox WHERE kind = 'acknowledgement'`)).rows.length, 1);

    // A second report about the same abuse joins the open case.
    const second = await ingestReport(t.desk, mail('m2', 'More SSH brute force from 192.0.2.10 today.\n2026-11-20 11:00:00 192.0.2.10 sshd Failed password for admin\n'), 'smtp');
    assert.deepEqual(second.cases, r.cases);
  });

  test('a mail that answers a case is attached to it, not taken as a new report', async () => {
    const c = await t.desk.db.query<{ id: string; number: string }>(`SELECT id, number FROM cases WHERE customer_id = 'c-ja' ORDER BY id LIMIT 1`);
    const { id, number } = c.rows[0];
    const before = await t.desk.db.query('SELECT 1 FROM cases');
    const reply = Buffer.from([`From: Reporter <honeypot@example.net>`, 'To: abuse@desk.example', `Subject: Re: [${number}] still seeing it`,
      'Message-ID: <reply1@example.net>', 'Content-Type: text/plain; charset=utf-8', '', 'Still seeing SSH brute force from 192.0.2.10.', ''].join('\r\n'));
    const r = await ingestReport(t.desk, reply, 'smtp');
    assert.equal(r.parser, 'reply');
    assert.match(r.reason ?? '', new RegExp(`attached to case ${id}`));
    assert.equal(r.events, 0);
    assert.equal((await t.desk.db.query('SELECT 1 FROM cases')).rows.length, before.rows.length, 'no new case');
    const msgs = await t.desk.db.query<{ body: string }>('SELECT body FROM case_messages WHERE case_id = $1', [id]);
    assert.ok(msgs.rows.some((m) => m.body.includes('Still seeing SSH brute force')));
  });

  test('events from no report (a blocklist listing) open cases under their own source', async () => {
    const stored = await ingestEvents(t.desk, [{ 'source.ip': '198.51.100.20', 'classification.type': 'blacklist', 'classification.taxonomy': 'other', 'feed.name': 'spamhaus-drop' }], 'blocklist:spamhaus-drop');
    assert.equal(stored.length, 1);
    const c = await t.desk.db.query<{ playbook: string; customer_id: string; state: string }>(`SELECT c.playbook, c.customer_id, c.state FROM cases c JOIN case_events e ON e.case_id = c.id WHERE e.event_id = $1`, [stored[0].id]);
    assert.deepEqual(c.rows[0], { playbook: 'blocklist', customer_id: 'c-en', state: 'new' });
  });

  const evidence = async (caseId: string) => (await viewEvidence(caseEnv(t.desk), Number(caseId), SYSTEM, { limit: 100 })).events;

  test('a case link names its stored event; a reparse deletes those events and the case keeps its evidence', async () => {
    const r = await ingestReport(t.desk, mail('m-reparse', 'SSH brute force (password guessing) from 192.0.2.11.\n2026-11-21 09:58:01 192.0.2.11 sshd Failed password for root\n'), 'smtp');
    assert.equal(r.status, 'parsed', JSON.stringify(r));
    const c = await t.desk.db.query<{ id: string }>('SELECT DISTINCT case_id AS id FROM case_events WHERE report_id = $1', [r.reportId]);
    assert.equal(c.rows.length, 1);
    const caseId = c.rows[0].id;
    const links = await t.desk.db.query<{ event_id: string; copy: boolean }>(
      'SELECT l.event_id, l.event IS NOT NULL AS copy FROM case_events l WHERE l.report_id = $1 ORDER BY l.id', [r.reportId]);
    assert.equal(links.rows.length, r.events);
    assert.ok(links.rows.every((l) => l.event_id != null && !l.copy), 'links name their events and carry no copy');
    const stored = await t.desk.db.query<{ id: string; event: Record<string, unknown> }>('SELECT id, event FROM events WHERE report_id = $1 ORDER BY id', [r.reportId]);
    const shown = (await evidence(caseId)).filter((e) => e.report_id === r.reportId);
    assert.deepEqual(shown.map((e) => e.event_id), stored.rows.map((e) => Number(e.id)));
    assert.deepEqual(shown.map((e) => e.event), stored.rows.map((e) => e.event));
    const forNotice = await evidenceOf(t.desk.db, caseId);
    assert.deepEqual(forNotice.rows.slice(-shown.length).map((e) => e.event), shown.map((e) => e.event));

    const again = await processReport(t.desk, r.reportId);
    assert.deepEqual(again.cases, r.cases);
    const gone = await t.desk.db.query('SELECT 1 FROM events WHERE id = ANY($1::bigint[])', [stored.rows.map((e) => e.id)]);
    assert.equal(gone.rows.length, 0, 'the reparse replaced the events');
    const kept = (await evidence(caseId)).filter((e) => e.report_id === r.reportId);
    assert.deepEqual(kept.map((e) => [e.event_id, e.event]), shown.map((e) => [e.event_id, e.event]), 'the case shows the same events as before the reparse');
  });

  test('events from no report keep their evidence on the case when deleted; a long raw line is cut as copies were', async () => {
    const raw = `listed ${'x'.repeat(5000)}`;
    const stored = await ingestEvents(t.desk, [{ 'source.ip': '198.51.100.20', 'classification.type': 'blacklist', 'classification.taxonomy': 'other', 'feed.name': 'sbl', raw }], 'blocklist:sbl');
    const link = await t.desk.db.query<{ case_id: string }>('SELECT case_id FROM case_events WHERE event_id = $1 AND event IS NULL', [stored[0].id]);
    assert.equal(link.rows.length, 1);
    const before = (await evidence(link.rows[0].case_id)).find((e) => e.event_id === stored[0].id);
    assert.equal(before?.at, new Date(stored[0].time).toISOString(), 'the link keeps the event time to the millisecond');
    assert.equal(String(before?.event.raw).length, 4096);
    assert.deepEqual(before?.event, { ...stored[0].event, raw: raw.slice(0, 4096) });
    await t.desk.db.query('DELETE FROM events WHERE id = $1', [stored[0].id]);
    const after = (await evidence(link.rows[0].case_id)).find((e) => e.event_id === stored[0].id);
    assert.deepEqual(after?.event, before.event);
  });
});
