// Cases in the database, on both stores: grouping, numbering under concurrency, states and
// versions, who sees what, the audit chain and the annual figures.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { forEachStore } from './helpers/stores.js';
import { seedInventory, testEnv, ATTR, input } from './helpers/cases.js';
import type { Db } from '../src/store/db.js';
import type { CaseEnv } from '../src/cases/env.js';
import { groupingOptions } from '../src/cases/env.js';
import { groupEvents } from '../src/cases/grouping.js';
import { createManualCase, getCase, listCases, overdueCases, transitionCase, updateCase, SYSTEM, type Viewer } from '../src/cases/cases.js';
import { CaseNotFound, CaseRuleError, VersionConflict } from '../src/cases/errors.js';
import { InvalidTransition } from '../src/cases/states.js';
import { verifyAudit, auditOf } from '../src/cases/audit.js';
import { yearStats, statsCsv } from '../src/cases/stats.js';

const operator: Viewer = { actor: 'op:sato', roles: ['operator'], customerId: null };
const operator2: Viewer = { actor: 'op:tanaka', roles: ['operator'], customerId: null };
const legal: Viewer = { actor: 'legal:ito', roles: ['legal'], customerId: null };
const customerJa: Viewer = { actor: 'customer:c-ja', roles: ['customer'], customerId: 'c-ja' };

forEachStore('cases', (store) => {
  let db: Db;
  let env: CaseEnv;
  const now = new Date('2026-11-20T06:00:00Z');
  before(async () => { db = await store().open(); await seedInventory(db); env = testEnv(db); });
  after(async () => { await db?.close(); });

  test('events group into numbered cases; a later batch joins the open case; unattributed ones wait in triage', async () => {
    const first = await groupEvents(db, [
      input('brute-force', ATTR.web1, '2026-11-20T00:00:00Z', { reportId: 1, reporter: 'cert@example.org', channel: 'smtp' }),
      input('brute-force', ATTR.web1, '2026-11-20T00:05:00Z', { reportId: 1, reporter: 'cert@example.org', channel: 'smtp' }),
      input('phishing', ATTR.vps1, '2026-11-20T01:00:00Z', { reportId: 2 }, { 'source.url': 'http://shop.example/login' }),
      input('spam', null, '2026-11-20T01:00:00Z', {}, { 'source.ip': '203.0.113.9' }),
    ], groupingOptions(env, now));
    assert.equal(first.length, 3);
    assert.ok(first.every((c) => c.created));
    assert.deepEqual(first.map((c) => c.number).sort(), ['2026-000001', '2026-000002', '2026-000003']);
    const bf = await getCase(env, first.find((c) => c.inputs.includes(0))!.id, SYSTEM);
    assert.equal(bf.state, 'new');
    assert.equal(bf.event_count, 2);
    assert.equal(bf.category, 'security_incident');
    assert.equal(bf.playbook, 'brute-force');
    const triage = await getCase(env, first.find((c) => c.inputs.includes(3))!.id, SYSTEM);
    assert.equal(triage.state, 'triage');
    assert.equal(triage.customer_id, null);
    assert.equal(triage.resource, '203.0.113.9');

    const second = await groupEvents(db, [input('scanner', ATTR.web1, '2026-11-20T04:00:00Z')], groupingOptions(env, now));
    assert.deepEqual(second.map((c) => [c.id, c.created]), [[Number(bf.id), false]]);
    const again = await getCase(env, bf.id, SYSTEM);
    assert.equal(again.event_count, 3);
    assert.equal(again.version, bf.version + 1);
    const links = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM case_events WHERE case_id = $1', [bf.id]);
    assert.equal(links.rows[0].n, 3);
    const trail = await auditOf(db, Number(bf.id));
    assert.deepEqual(trail.map((e) => e.action), ['case.opened', 'case.events_added']);
  });

  test('new events after resolution reopen the case; a closed case is never reopened', async () => {
    const [c] = await groupEvents(db, [input('ddos', ATTR.vps1, '2026-11-20T00:00:00Z')], groupingOptions(env, now));
    await transitionCase(env, c.id, operator, null, 'resolved', 'customer removed the bot', new Date('2026-11-20T12:00:00Z'));
    const [late] = await groupEvents(db, [input('ddos', ATTR.vps1, '2026-11-20T11:00:00Z')], groupingOptions(env, new Date('2026-11-20T13:00:00Z')));
    assert.deepEqual([late.id, late.reopened], [c.id, false], 'a late report about before the resolution does not reopen');
    const [r] = await groupEvents(db, [input('ddos', ATTR.vps1, '2026-11-21T00:00:00Z')], groupingOptions(env, new Date('2026-11-21T01:00:00Z')));
    assert.equal(r.id, c.id);
    assert.equal(r.reopened, true);
    const row = await getCase(env, c.id, SYSTEM);
    assert.equal(row.state, 'new');
    assert.equal(row.reopened_count, 1);
    assert.equal(row.resolved_at, null);
    await transitionCase(env, c.id, operator, null, 'no_action');
    await transitionCase(env, c.id, operator, null, 'closed');
    const [n] = await groupEvents(db, [input('ddos', ATTR.vps1, '2026-11-21T02:00:00Z')], groupingOptions(env, new Date('2026-11-21T02:00:00Z')));
    assert.notEqual(n.id, c.id);
    assert.equal(n.created, true);
  });

  test('invalid transitions are refused with a clear error; stale versions get a conflict, not an overwrite', async () => {
    const m = await createManualCase(env, operator, { title: 'Phone call about spam', description: 'caller said ...', channel: 'phone', customer_id: 'c-ja', service_id: 'web-1', playbook: 'spam' }, now);
    assert.equal(m.state, 'new');
    await assert.rejects(transitionCase(env, m.id, operator, m.version, 'customer_replied'), (e: Error) => e instanceof InvalidTransition && /from new to customer_replied/.test(e.message));
    await assert.rejects(transitionCase(env, m.id, operator, m.version, 'bogus'), CaseRuleError);
    // Two operators read version v; the first write wins, the second is told to reload.
    const a = updateCase(env, m.id, operator, m.version, { assignee: 'op:sato' });
    const b = updateCase(env, m.id, operator2, m.version, { assignee: 'op:tanaka' });
    const results = await Promise.allSettled([a, b]);
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
    const rejected = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    assert.ok(rejected.reason instanceof VersionConflict, String(rejected.reason));
    const row = await getCase(env, m.id, SYSTEM);
    assert.equal(row.version, m.version + 1);
    const winner = (results.find((r) => r.status === 'fulfilled') as PromiseFulfilledResult<{ assignee: string }>).value.assignee;
    assert.equal(row.assignee, winner);
    await assert.rejects(updateCase(env, m.id, operator, row.version, { misuse_kind: 'evil' }), /misuse_kind must be one of/);
    const k = await updateCase(env, m.id, operator, row.version, { misuse_kind: 'compromised' });
    assert.equal(k.misuse_kind, 'compromised');
  });

  test('a triage case leaves triage when an operator names the service', async () => {
    const [t] = await groupEvents(db, [input('spam', null, '2026-11-20T03:00:00Z', {}, { 'source.ip': '198.51.100.77' })], groupingOptions(env, now));
    const row = await getCase(env, t.id, SYSTEM);
    await assert.rejects(transitionCase(env, t.id, operator, row.version, 'new'), /name the customer and service/);
    await assert.rejects(updateCase(env, t.id, operator, row.version, { service_id: 'web-1', customer_id: 'c-en' }), /belongs to customer c-ja/);
    const moved = await updateCase(env, t.id, operator, row.version, { service_id: 'web-1' });
    assert.equal(moved.state, 'new');
    assert.equal(moved.customer_id, 'c-ja');
    assert.equal(moved.service_type, 'shared');
  });

  test('police inquiries are visible to the legal role only; customers see their own cases only', async () => {
    await assert.rejects(createManualCase(env, operator, { title: 'Police', description: 'x', channel: 'police', legal_kind: 'police_inquiry' }), /only the legal role/);
    const p = await createManualCase(env, legal, { title: 'Inquiry from prefectural police', description: 'Officer asked about 192.0.2.10', channel: 'letter', legal_kind: 'police_inquiry', customer_id: 'c-ja', service_id: 'web-1' }, now);
    assert.equal(p.legal_only, true);
    await assert.rejects(getCase(env, p.id, operator), CaseNotFound);
    await assert.rejects(getCase(env, p.number, customerJa), CaseNotFound);
    assert.equal((await getCase(env, p.id, legal)).number, p.number);
    const opList = await listCases(env, operator, {}, { limit: 1000 });
    assert.ok(!opList.cases.some((c) => c.id === p.id));
    const legalList = await listCases(env, legal, { customer_id: 'c-ja' }, { limit: 1000 });
    assert.ok(legalList.cases.some((c) => c.id === p.id));
    const mine = await listCases(env, customerJa, {}, { limit: 1000 });
    assert.ok(mine.cases.length > 0);
    assert.ok(mine.cases.every((c) => c.customer_id === 'c-ja' && !c.legal_only));
    const notMine = (await listCases(env, operator, { customer_id: 'c-en' }, { limit: 1 })).cases[0];
    await assert.rejects(getCase(env, notMine.id, customerJa), CaseNotFound);
    await assert.rejects(transitionCase(env, p.id, operator, null, 'no_action'), CaseNotFound);
  });

  test('case lists page by age with a cursor and filter by state, customer and category', async () => {
    const all = await listCases(env, legal, {}, { limit: 1000 });
    const pages: string[] = [];
    let after: string | undefined;
    do {
      const page = await listCases(env, legal, {}, { limit: 2, after });
      pages.push(...page.cases.map((c) => c.id));
      after = page.next ?? undefined;
    } while (after);
    assert.deepEqual(pages, all.cases.map((c) => c.id));
    const newest = await listCases(env, legal, {}, { limit: 1000, order: 'newest' });
    assert.deepEqual(newest.cases.map((c) => c.id), [...pages].reverse());
    const triage = await listCases(env, operator, { state: ['triage'] }, { limit: 100 });
    assert.ok(triage.cases.length > 0 && triage.cases.every((c) => c.state === 'triage'));
    const sec = await listCases(env, operator, { category: 'security_incident', customer_id: 'c-ja' }, { limit: 100 });
    assert.ok(sec.cases.length > 0 && sec.cases.every((c) => c.category === 'security_incident' && c.customer_id === 'c-ja'));
    await assert.rejects(listCases(env, operator, {}, { limit: 5, after: 'garbage' }), /cursor/);
    await assert.rejects(listCases(env, operator, { state: ['nope'] }, { limit: 5 }), /not a case state/);
    const late = await overdueCases(env, operator, 100, new Date('2026-12-31T00:00:00Z'));
    assert.ok(late.length > 0 && late.every((c) => c.due_at !== null && !c.legal_only));
    const lateByAge = await listCases(env, operator, { overdue: true, customer_id: 'c-ja' }, { limit: 100 }, new Date('2026-12-31T00:00:00Z'));
    assert.deepEqual(lateByAge.cases.map((c) => c.id).sort(), late.filter((c) => c.customer_id === 'c-ja').map((c) => c.id).sort());
    assert.ok(lateByAge.cases.length > 0);
  });

  test('case numbers are never issued twice, even when many cases open at once', async () => {
    const second = await store().open().catch(() => null); // PGlite allows one connection per process
    const dbs = second ? [db, second] : [db];
    try {
      const made = await Promise.all(Array.from({ length: 24 }, (_, i) => {
        const e = testEnv(dbs[i % dbs.length]);
        return i % 2
          ? createManualCase(e, operator, { title: `letter ${i}`, description: 'x', channel: 'letter' }, now).then((c) => [c.number])
          : groupEvents(e.db, [input('spam', null, '2026-11-20T00:00:00Z', {}, { 'source.ip': `203.0.113.${100 + i}` })], groupingOptions(e, now)).then((g) => g.map((c) => c.number));
      }));
      const numbers = made.flat();
      assert.equal(new Set(numbers).size, numbers.length);
      const r = await db.query<{ n: number; d: number }>('SELECT count(*)::int AS n, count(DISTINCT number)::int AS d FROM cases');
      assert.equal(r.rows[0].n, r.rows[0].d);
      const counter = await db.query<{ last: string }>('SELECT last FROM case_counters WHERE year = 2026');
      assert.equal(Number(counter.rows[0].last), r.rows[0].n, 'no number was skipped or given twice');
    } finally { await second?.close(); }
  });

  test('consent defaults per reporter and channel are applied to events whose report does not say', async () => {
    await db.query(`INSERT INTO evidence_consent (reporter, channel, forward) VALUES ('honeypot@example.net', '*', true), ('honeypot@example.net', 'imap', false)`);
    await groupEvents(db, [
      input('brute-force', ATTR.vps2, '2026-11-20T00:00:00Z', { reporter: 'honeypot@example.net', channel: 'smtp' }),
      input('brute-force', ATTR.vps2, '2026-11-20T00:01:00Z', { reporter: 'honeypot@example.net', channel: 'imap' }),
      input('brute-force', ATTR.vps2, '2026-11-20T00:02:00Z', { reporter: 'honeypot@example.net', channel: 'imap', consent: true }),
      input('brute-force', ATTR.vps2, '2026-11-20T00:03:00Z', { reporter: 'someone@example.com', channel: 'smtp' }),
    ], groupingOptions(env, now));
    const r = await db.query<{ consent: boolean }>(`SELECT e.consent FROM case_events e JOIN cases c ON c.id = e.case_id WHERE c.service_id = 'vps-2' ORDER BY e.at`);
    assert.deepEqual(r.rows.map((x) => x.consent), [true, false, true, false]);
  });

  test('a case with events cannot be deleted (its links would point nowhere); a case without any can', async () => {
    const linked = await db.query<{ case_id: string }>('SELECT case_id FROM case_events LIMIT 1');
    await assert.rejects(db.query('DELETE FROM cases WHERE id = $1', [linked.rows[0].case_id]), /has events and cannot be deleted/);
    const bare = await db.query<{ id: string }>(`INSERT INTO cases (number, year, seq, state, origin, category, abuse_type, playbook, opened_at, updated_at)
      VALUES ('X-1', 1999, 1, 'new', 'manual', 'other_illegal', 'other', 'other', now(), now()) RETURNING id`);
    await db.query('DELETE FROM cases WHERE id = $1', [bare.rows[0].id]);
    assert.equal((await db.query('SELECT 1 FROM cases WHERE id = $1', [bare.rows[0].id])).rows.length, 0);
  });

  test('the audit trail is append-only, and tampering behind the trigger is found and named', async () => {
    const ok = await verifyAudit(db, 7);
    assert.deepEqual(ok.problems, []);
    assert.ok(ok.entries > 10);
    await assert.rejects(db.query(`UPDATE audit_log SET actor = 'x' WHERE seq = 3`), /append-only/);
    await assert.rejects(db.query('DELETE FROM audit_log WHERE seq = 3'), /append-only/);
    // Someone with the rights to switch the trigger off rewrites an entry.
    await db.exec(`ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only;
      UPDATE audit_log SET change = jsonb_set(change, '{state}', '"resolved"') WHERE seq = 5;
      DELETE FROM audit_log WHERE seq = 9;
      ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only;`);
    const bad = await verifyAudit(db, 7);
    assert.ok(bad.problems.some((p) => p.seq === 5 && /content changed/.test(p.problem)), JSON.stringify(bad.problems));
    assert.ok(bad.problems.some((p) => p.seq === 9 && /missing/.test(p.problem)), JSON.stringify(bad.problems));
    assert.ok(bad.problems.some((p) => p.seq === 10 && /prev_hash/.test(p.problem)), JSON.stringify(bad.problems));
  });

  test('annual figures: reports by category, numbers issued, legal requests and median times', async () => {
    const s = await yearStats(db, 2026);
    const counter = await db.query<{ last: string }>('SELECT last FROM case_counters WHERE year = 2026');
    assert.equal(s.case_numbers_issued, Number(counter.rows[0].last));
    assert.equal(s.legal_requests.police_inquiry, 1);
    assert.equal(s.categories.security_incident.reports, 1, 'report 1 (brute force) counted once despite two events');
    assert.equal(s.categories.spam_phishing.reports, 2, 'report 2 (phishing) and the manual phone call');
    assert.ok(s.categories.spam_phishing.cases >= 2);
    assert.equal((await yearStats(db, 2019)).case_numbers_issued, 0);
    const csv = statsCsv(s);
    assert.match(csv, /^section,category,metric,value\n/);
    assert.match(csv, /\ncategory,security_incident,reports,1\n/);
    assert.match(csv, /\nlegal,police_inquiry,requests,1\n/);
  });
  test('events joining open cases are one audit entry per batch; each case\'s trail shows its part, the chain covers it', async () => {
    const opened = await groupEvents(db, [
      input('copyright', ATTR.web1, '2026-11-20T02:00:00Z'), input('copyright', ATTR.vps2, '2026-11-20T02:00:00Z'),
    ], groupingOptions(env, now));
    const [a, b] = opened.map((c) => c.id);
    const head = Number((await db.query<{ seq: string }>('SELECT max(seq) AS seq FROM audit_log')).rows[0].seq);
    const joined = await groupEvents(db, [
      input('copyright', ATTR.web1, '2026-11-20T02:10:00Z'), input('copyright', ATTR.web1, '2026-11-20T02:20:00Z'),
      input('copyright', ATTR.vps2, '2026-11-20T02:30:00Z'),
    ], groupingOptions(env, now));
    assert.deepEqual(joined.map((c) => [c.id, c.created]).sort(), [[a, false], [b, false]].sort());
    const written = await db.query<{ seq: string; case_id: string | null; action: string; change: { cases: number[]; events: number[] }; hash: string }>(
      'SELECT seq, case_id, action, change, hash FROM audit_log WHERE seq > $1 ORDER BY seq', [head]);
    assert.equal(written.rows.length, 1, 'one entry for the batch');
    const entry = written.rows[0];
    assert.equal(entry.action, 'cases.events_added');
    assert.equal(entry.case_id, null);
    const parts = Object.fromEntries(entry.change.cases.map((id, i) => [id, entry.change.events[i]]));
    assert.deepEqual(parts, { [a]: 2, [b]: 1 });
    for (const [id, events] of [[a, 2], [b, 1]]) {
      const trail = await auditOf(db, id);
      assert.deepEqual(trail.map((e) => e.action), ['case.opened', 'case.events_added']);
      const part = trail[1];
      assert.deepEqual([part.seq, part.caseId, part.change, part.batch, part.hash], [Number(entry.seq), id, { events }, { cases: 2 }, entry.hash]);
    }
    // Another case's trail does not show the batch.
    const other = await db.query<{ id: string }>(`SELECT id FROM cases WHERE playbook = 'phishing' LIMIT 1`);
    assert.ok((await auditOf(db, Number(other.rows[0].id))).every((e) => e.seq !== Number(entry.seq)));
    // (The tampering test above broke the chain earlier on; nothing after it is wrong.)
    assert.deepEqual((await verifyAudit(db, 2)).problems.filter((p) => p.seq > head), []);
  });
});
