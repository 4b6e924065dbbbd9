// The case API over HTTP on both stores: roles and visibility, versions, state changes, notices,
// replies from the customer portal, actions with two people, evidence reads in the audit trail,
// statistics and the OpenAPI document.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { forEachStore } from './helpers/stores.js';
import { makeDesk, type TestDesk } from './helpers/desk.js';
import { seedInventory, ATTR, input } from './helpers/cases.js';
import { caseEnv, groupingOptions } from '../src/cases/env.js';
import { groupEvents } from '../src/cases/grouping.js';

forEachStore('case API', (store) => {
  let t: TestDesk;
  const h: Record<string, Record<string, string>> = {};
  let bf: { id: number; number: string };
  let ph: { id: number; number: string };

  before(async () => {
    t = await makeDesk(store(), (c) => { c.cases.executors = [{ action: 'null_route', command: ['/bin/echo', 'routed', '{target}'] }]; });
    await seedInventory(t.desk.db);
    h.opA = await t.keyFor(['operator']);
    h.opB = await t.keyFor(['operator']);
    h.legal = await t.keyFor(['legal']);
    h.admin = await t.keyFor(['admin']);
    h.custJa = await t.keyFor(['customer'], { customerId: 'c-ja' });
    h.custEn = await t.keyFor(['customer'], { customerId: 'c-en' });
    h.reporter = await t.keyFor(['reporter'], { reporterId: 'r1' });
    const env = caseEnv(t.desk);
    const g = await groupEvents(t.desk.db, [
      input('brute-force', ATTR.web1, '2026-11-20T00:00:00Z', { reportId: null, reporter: 'cert@example.org', consent: false }, { raw: 'secret log line' }),
      input('phishing', ATTR.vps1, '2026-11-20T01:00:00Z', {}, { 'source.ip': '192.0.2.77' }),
    ], groupingOptions(env, new Date('2026-11-20T02:00:00Z')));
    bf = g.find((c) => c.inputs.includes(0))!;
    ph = g.find((c) => c.inputs.includes(1))!;
  });
  after(async () => { await t?.close(); });

  const call = async (method: string, url: string, who: string | null, payload?: unknown) => {
    const r = await t.app.inject({ method: method as 'GET', url, headers: who ? h[who] : {}, payload: payload as object });
    return { status: r.statusCode, body: r.headers['content-type']?.toString().includes('json') ? r.json() : r.body, headers: r.headers };
  };

  test('keys and roles: no key 401, a reporter key 403, customers see their own cases only', async () => {
    assert.equal((await call('GET', '/api/v1/cases', null)).status, 401);
    assert.equal((await call('GET', '/api/v1/cases', 'reporter')).status, 403);
    const staff = await call('GET', '/api/v1/cases', 'opA');
    assert.equal(staff.status, 200);
    assert.equal(staff.body.cases.length, 2);
    const mine = await call('GET', '/api/v1/cases', 'custJa');
    assert.deepEqual(mine.body.cases.map((c: { number: string }) => c.number), [bf.number]);
    assert.equal((await call('GET', `/api/v1/cases/${ph.number}`, 'custJa')).status, 404);
    assert.equal((await call('GET', `/api/v1/cases/${bf.number}`, 'custJa')).status, 200);
    assert.equal((await call('GET', `/api/v1/cases/${bf.id}/events`, 'custJa')).status, 403, 'customers do not read the raw evidence');
  });

  test('police inquiries: opened and seen by the legal role only', async () => {
    const body = { title: 'Inquiry by phone from police', description: 'asked about 192.0.2.10', channel: 'phone', legal_kind: 'police_inquiry', customer_id: 'c-ja' };
    assert.equal((await call('POST', '/api/v1/cases', 'opA', body)).status, 422);
    const made = await call('POST', '/api/v1/cases', 'legal', body);
    assert.equal(made.status, 201);
    assert.equal(made.body.legal_only, true);
    assert.match(made.body.number, /^\d{4}-\d{6}$/);
    assert.equal((await call('GET', `/api/v1/cases/${made.body.number}`, 'opA')).status, 404);
    assert.equal((await call('GET', `/api/v1/cases/${made.body.number}`, 'admin')).status, 404, 'admin keys need the legal role too');
    assert.equal((await call('GET', `/api/v1/cases/${made.body.number}`, 'legal')).status, 200);
    assert.ok(!(await call('GET', '/api/v1/cases?limit=500', 'opA')).body.cases.some((c: { id: number }) => c.id === made.body.id));
    assert.equal((await call('GET', `/api/v1/cases/${made.body.number}`, 'custJa')).status, 404);
    assert.equal((await call('POST', '/api/v1/cases', 'opA', { title: 'x', description: 'y', channel: 'telepathy' })).status, 400);
  });

  test('edits carry the version; a stale one gets 409 with the current version; impossible moves get 422', async () => {
    const c = (await call('GET', `/api/v1/cases/${bf.id}`, 'opA')).body;
    const first = await call('PATCH', `/api/v1/cases/${bf.id}`, 'opA', { version: c.version, assignee: 'sato', misuse_kind: 'compromised' });
    assert.equal(first.status, 200);
    assert.equal(first.body.version, c.version + 1);
    const stale = await call('PATCH', `/api/v1/cases/${bf.id}`, 'opB', { version: c.version, assignee: 'tanaka' });
    assert.equal(stale.status, 409);
    assert.equal(stale.body.current_version, c.version + 1);
    assert.match(stale.body.error, /changed by someone else/);
    const bad = await call('POST', `/api/v1/cases/${bf.id}/transitions`, 'opA', { version: first.body.version, to: 'closed' });
    assert.equal(bad.status, 422);
    assert.match(bad.body.error, /cannot go from new to closed/);
    assert.equal((await call('PATCH', `/api/v1/cases/${bf.id}`, 'opA', { assignee: 'x' })).status, 400, 'version is required');
  });

  test('notice preview, sending, the customer\'s view and answer through the portal', async () => {
    const preview = await call('GET', `/api/v1/cases/${bf.number}/notices/preview`, 'opA');
    assert.equal(preview.status, 200);
    assert.equal(preview.body.language, 'ja');
    assert.ok(preview.body.subject.includes(bf.number));
    assert.ok(!preview.body.body.includes('secret log line'), 'no consent, no log');
    const en = await call('GET', `/api/v1/cases/${bf.number}/notices/preview?language=en&template=final-warning&action=suspend`, 'opA');
    assert.match(en.body.body, /Final notice|deadline has passed/);
    assert.equal((await call('GET', `/api/v1/cases/${bf.number}/notices/preview?template=nope`, 'opA')).status, 422);
    const c = (await call('GET', `/api/v1/cases/${bf.id}`, 'opA')).body;
    const sent = await call('POST', `/api/v1/cases/${bf.id}/notices`, 'opA', { version: c.version });
    assert.equal(sent.status, 200);
    assert.equal(sent.body.case.state, 'notified');
    assert.ok(sent.body.case.clocks.to_first_notice_s >= 0);
    const seen = await call('GET', `/api/v1/cases/${bf.id}/notices`, 'custJa');
    assert.equal(seen.body.notices.length, 1);
    assert.equal(seen.body.notices[0].recipients[0], 'yamada@shop.example');
    const answered = await call('POST', `/api/v1/cases/${bf.id}/replies`, 'custJa', { text: 'スクリプトを削除しました' });
    assert.equal(answered.status, 200);
    assert.equal(answered.body.state, 'customer_replied');
    assert.equal((await call('POST', `/api/v1/cases/${ph.id}/replies`, 'custJa', { text: 'not mine' })).status, 404);
    const msgs = await call('GET', `/api/v1/cases/${bf.id}/messages`, 'opA');
    assert.equal(msgs.body.messages.at(-1).kind, 'customer_reply');
  });

  test('a null-route through the API needs a second key; the executor answer is returned', async () => {
    const req = await call('POST', `/api/v1/cases/${ph.id}/actions`, 'opA', { action: 'null_route', reason: 'phishing, no answer' });
    assert.equal(req.status, 200);
    assert.equal(req.body.status, 'pending_approval');
    const self = await call('POST', `/api/v1/actions/${req.body.id}/approve`, 'opA');
    assert.equal(self.status, 422);
    assert.match(self.body.error, /second person/);
    const ok = await call('POST', `/api/v1/actions/${req.body.id}/approve`, 'opB');
    assert.equal(ok.status, 200);
    assert.equal(ok.body.status, 'done');
    assert.match(ok.body.result.answer.stdout, /routed 192\.0\.2\.77/);
    assert.equal((await call('GET', `/api/v1/cases/${ph.id}`, 'opA')).body.state, 'escalated');
    const undo = await call('POST', `/api/v1/actions/${req.body.id}/undo`, 'opB', { reason: 'fixed' });
    assert.equal(undo.status, 200);
    assert.equal(undo.body.action, 'remove_null_route');
    assert.equal(undo.body.status, 'failed', 'no executor configured for the undo: recorded, not hidden');
    assert.equal((await call('POST', `/api/v1/cases/${ph.id}/actions`, 'opA', { action: 'block_url', target: 'http://x/', reason: 'r' })).status, 422);
  });

  test('reading evidence is recorded in the audit trail with who read it', async () => {
    const ev = await call('GET', `/api/v1/cases/${bf.id}/events`, 'opB');
    assert.equal(ev.status, 200);
    assert.equal(ev.body.events[0].event.raw, 'secret log line');
    const audit = await call('GET', `/api/v1/cases/${bf.id}/audit`, 'opA');
    const viewed = audit.body.entries.filter((e: { action: string }) => e.action === 'evidence.viewed');
    assert.equal(viewed.length, 1);
    assert.match(viewed[0].actor, /^test operator \(key \d+\)$/);
    const v = await call('GET', '/api/v1/audit/verify', 'admin');
    assert.equal(v.body.ok, true);
    assert.ok(v.body.entries > 5);
    assert.equal((await call('GET', '/api/v1/audit/verify', 'opA')).status, 403);
  });

  test('consent defaults, statistics as JSON and CSV, playbooks and templates', async () => {
    assert.equal((await call('PUT', '/api/v1/consent', 'opA', { reporter: 'cert@example.org', channel: 'smtp', forward: true })).status, 200);
    assert.deepEqual((await call('GET', '/api/v1/consent?reporter=cert@example.org', 'opA')).body.consent, [{ reporter: 'cert@example.org', channel: 'smtp', forward: true }]);
    const s = await call('GET', '/api/v1/stats?year=2026', 'opA');
    assert.equal(s.status, 200);
    assert.ok(s.body.case_numbers_issued >= 3);
    assert.equal(s.body.legal_requests.police_inquiry, 1);
    const csv = await call('GET', '/api/v1/stats?year=2026&format=csv', 'opA');
    assert.equal(csv.status, 200);
    assert.match(String(csv.headers['content-type']), /text\/csv/);
    assert.match(csv.body, /^section,category,metric,value\n/);
    assert.ok((await call('GET', '/api/v1/playbooks', 'opA')).body.playbooks.length >= 10);
    assert.ok((await call('GET', '/api/v1/notice-templates', 'opA')).body.templates.includes('phishing'));
  });

  test('the OpenAPI document describes the case API', async () => {
    const doc = (await call('GET', '/api/openapi.json', null)).body;
    for (const p of ['/api/v1/cases', '/api/v1/cases/{ref}', '/api/v1/cases/{ref}/transitions', '/api/v1/cases/{ref}/notices/preview', '/api/v1/actions/{id}/approve', '/api/v1/stats']) {
      assert.ok(doc.paths[p], p);
    }
  });
});
