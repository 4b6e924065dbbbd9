// Reporters' acknowledgements on both stores: a batch of reports (the intake worker's) queues exactly
// the mail the reports one by one would, and each report is acknowledged once however often it comes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { forEachStore } from './helpers/stores.js';
import { seedInventory, testEnv, ATTR, input } from './helpers/cases.js';
import type { Db } from '../src/store/db.js';
import type { CaseEnv } from '../src/cases/env.js';
import { groupingOptions } from '../src/cases/env.js';
import { groupEvents } from '../src/cases/grouping.js';
import { acknowledgeReports, type ReportAcknowledgement } from '../src/notices/notices.js';

interface Queued { report_id: string; id: string; kind: string; template: string; language: string; recipients: string[]; sender: string; reply_to: string; subject: string; body: string; message_id: string; case_id: string | null; status: string }

forEachStore('acknowledgements', (store) => {
  let db: Db;
  let env: CaseEnv;
  const t0 = new Date('2026-11-20T06:00:00Z');
  let ja = 0, en = 0, triage = 0, silent = 0;
  let numbers: Map<number, string>;

  before(async () => {
    db = await store().open();
    await seedInventory(db);
    env = testEnv(db, { cases: { reporter_language: 'en' } });
    const grouped = await groupEvents(db, [
      input('brute-force', ATTR.web1, '2026-11-20T01:00:00Z'),
      input('phishing', ATTR.vps1, '2026-11-20T02:00:00Z', {}, { 'source.url': 'http://203.0.113.50/login.php' }),
      input('spam', null, '2026-11-20T03:00:00Z', {}, { 'source.ip': '198.51.100.99' }),
      input('ddos', ATTR.vps2, '2026-11-20T04:00:00Z'),
    ], groupingOptions(env, t0));
    [ja, en, triage, silent] = grouped.map((g) => g.id);
    numbers = new Map(grouped.map((g) => [g.id, g.number]));
  });
  after(async () => { await db?.close(); });

  /** Reports with mixed languages and brands, duplicates, no cases and addresses that are none; `base` keeps each run's report ids apart. */
  const reports = (base: number): ReportAcknowledgement[] => [
    { id: base + 1, reporter: 'cert@victim.example', language: 'ja', caseIds: [ja] },
    { id: base + 2, reporter: 'soc@acme-victim.example', language: 'en', caseIds: [en] },
    { id: base + 3, reporter: 'noc@isp.example', language: null, caseIds: [en, ja] },
    { id: base + 4, reporter: 'abuse@other.example', language: 'fr', caseIds: [triage] },
    { id: base + 1, reporter: 'cert@victim.example', language: 'en', caseIds: [en] },
    { id: base + 5, reporter: 'late@cases.example', language: 'ja', caseIds: [] },
    { id: base + 6, reporter: 'not an address', language: 'ja', caseIds: [ja] },
    { id: base + 7, reporter: '<x@y.example>', language: 'en', caseIds: [en] },
    { id: base + 5, reporter: 'late@cases.example', language: 'ja', caseIds: [silent, ja] },
    { id: base + 8, reporter: 'second@victim.example', language: 'ja', caseIds: [ja, ja, silent] },
    { id: base + 9, reporter: 'third@victim.example', language: 'ja', caseIds: [ja] },
    { id: base + 10, reporter: 'gone@victim.example', language: 'ja', caseIds: [999_999] },
  ];

  const queued = async (from: number, to: number) => (await db.query<Queued>(
    `SELECT a.report_id, o.id, o.case_id, o.kind, o.template, o.language, o.recipients, o.sender, o.reply_to, o.subject, o.body, o.message_id, o.status FROM report_acknowledgements a JOIN outbox o ON o.id = a.outbox_id
      WHERE a.report_id BETWEEN $1 AND $2 ORDER BY a.report_id`, [from, to])).rows;
  const outboxCount = async () => (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM outbox')).rows[0].n;

  test('a batch queues the same acknowledgements as its reports one by one, once per report', async () => {
    const single: (number | null)[] = [];
    for (const r of reports(100)) single.push(...await acknowledgeReports(env, [r], t0));
    const batch = await acknowledgeReports(env, reports(200), t0);
    const sent = [true, true, true, true, false, false, false, false, true, true, true, false];
    assert.deepEqual(single.map((id) => id !== null), sent);
    assert.deepEqual(batch.map((id) => id !== null), sent);

    const one = await queued(100, 199);
    const many = await queued(200, 299);
    assert.equal(one.length, 7);
    const mail = ({ report_id, id, message_id, ...m }: Queued) => ({ report: Number(report_id) % 100, ...m });
    assert.deepEqual(many.map(mail), one.map(mail));
    assert.deepEqual(many.map((m) => Number(m.id)), batch.filter((id) => id !== null), 'each report is told its own outbox row');
    assert.equal(new Set([...one, ...many].map((m) => m.message_id)).size, 14, 'every mail has its own message id');

    // What the reporters are told, in their language, in the brand's name, with the case numbers.
    const by = new Map(many.map((m) => [Number(m.report_id) % 100, m]));
    assert.equal(by.get(1)!.language, 'ja');
    assert.equal(by.get(1)!.subject, `【さくらホスティング】ご報告を受け付けました [${numbers.get(ja)}]`);
    assert.deepEqual(by.get(1)!.recipients, ['cert@victim.example']);
    assert.equal(by.get(1)!.sender, 'abuse@sakura.example');
    assert.equal(by.get(1)!.reply_to, `abuse+${numbers.get(ja)}@desk.invalid`);
    assert.equal(by.get(1)!.case_id, null);
    assert.equal(by.get(2)!.subject, `[Blue Cloud] Your report has been received [${numbers.get(en)}]`);
    assert.equal(by.get(2)!.sender, 'abuse@desk.invalid', 'a brand without from_address uses notices.from');
    // Cases in case order; the brand of the first attributed case; the desk's language when the report's is none of its own.
    const [first, second] = [ja, en].sort((a, b) => a - b).map((id) => numbers.get(id));
    assert.equal(by.get(3)!.language, 'en');
    assert.match(by.get(3)!.subject, new RegExp(`\\[${first}, ${second}\\]$`));
    assert.equal(by.get(3)!.reply_to, `abuse+${first}@desk.invalid`);
    assert.equal(by.get(4)!.language, 'en');
    assert.match(by.get(4)!.subject, new RegExp(`\\[${numbers.get(triage)}\\]$`));
    assert.match(by.get(5)!.subject, new RegExp(`^【さくらホスティング】.*\\[${[silent, ja].sort((a, b) => a - b).map((id) => numbers.get(id)).join(', ')}\\]$`));
    assert.equal(by.get(8)!.subject, by.get(5)!.subject, 'case ids given twice count once');
    assert.equal(by.get(9)!.body, by.get(1)!.body);
    assert.ok(!by.has(6) && !by.has(7) && !by.has(10), 'no acknowledgement without a reporter\'s address or a case');
    assert.equal((await db.query('SELECT 1 FROM report_acknowledgements WHERE report_id IN (105, 106, 107, 110, 205, 206, 207, 210) AND outbox_id IS NULL')).rows.length, 0);

    const before = await outboxCount();
    assert.deepEqual(await acknowledgeReports(env, reports(200), t0), reports(200).map(() => null), 'a second batch acknowledges nothing again');
    assert.deepEqual(await acknowledgeReports(env, reports(100), t0), reports(100).map(() => null));
    assert.equal(await outboxCount(), before);
  });

  test('batches side by side that share reports acknowledge each report once', async () => {
    const before = await outboxCount();
    const a = reports(300);
    const b = [...reports(300)].reverse();
    const [x, y] = await Promise.all([acknowledgeReports(env, a, t0), acknowledgeReports(env, b, t0)]);
    assert.equal([...x, ...y].filter((id) => id !== null).length, 7);
    assert.equal(await outboxCount(), before + 7);
    assert.equal((await queued(300, 399)).length, 7);
  });
});
