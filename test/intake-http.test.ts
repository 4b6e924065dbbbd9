import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { forEachStore } from './helpers/stores.js';
import { makeDesk, type TestDesk } from './helpers/desk.js';
import { loadInventory, mail, mimeBomb } from './helpers/intake.js';
import { intakeWorker } from '../src/intake/worker.js';

forEachStore('intake over HTTP: POST /api/v1/reports and the report views', (store) => {
  let t: TestDesk;
  let reporter: Record<string, string>;
  let operator: Record<string, string>;
  before(async () => {
    t = await makeDesk(store(), (c) => { c.intake.api.rate = 0.001; c.intake.api.burst = 40; c.intake.max_report_size = 200_000; });
    await loadInventory(t.desk);
    reporter = await t.keyFor(['reporter']);
    operator = await t.keyFor(['operator']);
  });
  after(async () => { await t?.close(); });

  const post = (headers: Record<string, string>, contentType: string, payload: string | Buffer, query = '') =>
    t.app.inject({ method: 'POST', url: `/api/v1/reports${query}`, headers: { ...headers, 'content-type': contentType }, payload });
  /** The report as its GET shows it once the intake worker has finished it. */
  const finished = async (url: string, headers: Record<string, string>) => {
    await intakeWorker(t.desk).idle();
    const v = await t.app.inject({ method: 'GET', url, headers });
    assert.equal(v.statusCode, 200);
    assert.notEqual(v.json().status, 'received');
    return v.json();
  };

  test('a raw mail is answered once stored, with its id; the worker parses it; the report view shows events', async () => {
    const none = await post({}, 'message/rfc822', mail());
    assert.equal(none.statusCode, 401);
    const r = await post(reporter, 'message/rfc822', mail({ id: 'http-1@reporter.example' }));
    assert.equal(r.statusCode, 201, r.body);
    const a = r.json();
    assert.equal(a.status, 'received');
    assert.equal(a.duplicate, false);
    assert.deepEqual(a.cases, []);
    assert.equal(r.headers.location, `/api/v1/reports/${a.id}`);
    assert.equal((await finished(a.url, operator)).status, 'parsed');
    const again = await post(reporter, 'text/plain', mail({ id: 'http-1@reporter.example' }));
    assert.equal(again.statusCode, 200);
    assert.equal(again.json().id, a.id);
    assert.equal(again.json().duplicate, true);

    const view = await t.app.inject({ method: 'GET', url: a.url, headers: operator });
    assert.equal(view.statusCode, 200);
    const v = view.json();
    assert.equal(v.status, 'parsed');
    assert.equal(v.arrivals, 2);
    assert.equal(v.meta.apiKeyId > 0, true);
    assert.ok(v.events.some((e: { source_ip: string; customer_id: string }) => e.source_ip === '203.0.113.9' && e.customer_id === 'c1'));
    const own = await t.app.inject({ method: 'GET', url: a.url, headers: reporter });
    assert.equal(own.statusCode, 200, 'a reporter sees its own report');
    const stranger = await t.keyFor(['reporter']);
    assert.equal((await t.app.inject({ method: 'GET', url: a.url, headers: stranger })).statusCode, 404, 'and nobody else does');
    const raw = await t.app.inject({ method: 'GET', url: `${a.url}/raw`, headers: operator });
    assert.equal(raw.statusCode, 200);
    assert.equal(raw.headers['content-type'], 'application/octet-stream');
    assert.match(String(raw.headers['content-disposition']), /^attachment/);
    assert.deepEqual(raw.rawPayload, mail({ id: 'http-1@reporter.example' }));
    assert.equal((await t.app.inject({ method: 'GET', url: `${a.url}/raw`, headers: reporter })).statusCode, 403);
  });

  test('JSON: an event list and X-ARF are accepted; anything else is refused with the reason and recorded', async () => {
    const list = await post(reporter, 'application/json', JSON.stringify([
      { 'source.ip': '203.0.113.50', 'source.port': 22, 'classification.type': 'brute-force', 'time.source': '2026-11-24T09:00:00Z' },
      { 'source.ip': '192.0.2.1', 'classification.type': 'scanner', 'extra.note': 'not ours' },
    ]), '?wait=30');
    assert.equal(list.statusCode, 201, list.body);
    assert.equal(list.json().status, 'parsed');
    assert.equal(list.json().events, 2);
    const view = (await t.app.inject({ method: 'GET', url: list.json().url, headers: operator })).json();
    const ours = view.events.find((e: { source_ip: string }) => e.source_ip === '203.0.113.50');
    assert.equal(ours.customer_id, 'c1');
    assert.equal(ours.event['classification.taxonomy'], 'intrusion-attempts');

    const xarf = await post(reporter, 'application/json', JSON.stringify({
      xarf_version: '4.0.0', category: 'connection', type: 'login-attack', report_id: 'x-1', report_type: 'login-attack',
      date: '2026-11-24T09:00:00Z', reporter: { org: 'Example CERT', contact: 'cert@reporter.example', domain: 'reporter.example' },
      sender: { org: 'Example CERT', contact: 'cert@reporter.example', domain: 'reporter.example' },
      source_identifier: '203.0.113.51', source_port: 2222, destination_ip: '198.51.100.7', protocol: 'tcp', destination_port: 22,
      evidence_source: 'honeypot', attack_count: 12,
    }), '?wait=30');
    assert.equal(xarf.statusCode, 201, xarf.body);
    assert.ok(xarf.json().events >= 1);

    for (const [body, reason] of [
      ['{"not": "a report"}', /X-ARF|list of events/],
      ['[{"source.ip": "203.0.113.1", "evil key": 1}]', /harmonization key/],
      ['[{"source.ip": "203.0.113.1", "classification.type": "made-up"}]', /taxonomy/],
      ['[{"source.port": "twenty-two", "source.ip": "203.0.113.1"}]', /integer/],
      ['[]', /empty/],
      ['{"events": [1, 2', /invalid JSON/],
    ] as const) {
      const r = await post(reporter, 'application/json', body);
      assert.equal(r.statusCode, 400, body);
      assert.match(r.json().error, reason);
    }
    const refusals = await t.app.inject({ method: 'GET', url: '/api/v1/intake/refusals', headers: operator });
    assert.equal(refusals.statusCode, 200);
    assert.ok(refusals.json().refusals.filter((x: { channel: string }) => x.channel === 'http').length >= 6);
    assert.equal((await t.app.inject({ method: 'GET', url: '/api/v1/intake/refusals', headers: reporter })).statusCode, 403);
  });

  test('oversized bodies are refused with 413 and recorded; unknown media types with 415', async () => {
    const big = await post(reporter, 'message/rfc822', Buffer.alloc(300_000, 0x61));
    assert.equal(big.statusCode, 413);
    const r = (await t.app.inject({ method: 'GET', url: '/api/v1/intake/refusals', headers: operator })).json().refusals;
    assert.ok(r.some((x: { reason: string; size: number }) => /too large/i.test(x.reason) && x.size === 300_000), JSON.stringify(r[0]));
    const odd = await post(reporter, 'image/png', Buffer.from([1, 2, 3]));
    assert.equal(odd.statusCode, 415);
  });

  test('the quarantine list shows reports the parsers refused, with the reason; reparse retries one', async () => {
    const r = await post(reporter, 'message/rfc822', mimeBomb());
    assert.equal(r.statusCode, 201);
    assert.equal((await finished(r.json().url, operator)).status, 'quarantined');
    const q = await t.app.inject({ method: 'GET', url: '/api/v1/reports?status=quarantined', headers: operator });
    assert.equal(q.statusCode, 200);
    const item = q.json().reports.find((x: { id: number }) => x.id === r.json().id);
    assert.match(item.reason, /nesting|deep/i);
    const again = await t.app.inject({ method: 'POST', url: `/api/v1/reports/${r.json().id}/reparse`, headers: operator });
    assert.equal(again.statusCode, 200);
    assert.equal(again.json().status, 'quarantined');
  });

  // The bucket refills one token in 1,000 s: no test run is that slow, so the count is exact.
  test('each key has its own token bucket: past the burst, 429 with Retry-After', async () => {
    const key = await t.keyFor(['reporter']);
    const codes: number[] = [];
    for (let i = 0; i < 45; i++) codes.push((await post(key, 'message/rfc822', mail({ id: `rl-${i}@reporter.example` }))).statusCode);
    assert.ok(codes.slice(0, 40).every((c) => c === 201), codes.join(','));
    const limited = await post(key, 'message/rfc822', mail({ id: 'rl-x@reporter.example' }));
    assert.equal(limited.statusCode, 429);
    assert.ok(Number(limited.headers['retry-after']) >= 1);
    const other = await t.keyFor(['reporter']);
    assert.equal((await post(other, 'message/rfc822', mail({ id: 'rl-y@reporter.example' }))).statusCode, 201);
  });

  test('the case numbers: in the report view once the worker is done, or in the answer with wait', async () => {
    const r = await post(reporter, 'message/rfc822', mail({ id: 'http-case@reporter.example' }));
    assert.equal(r.statusCode, 201, r.body);
    assert.equal(r.json().status, 'received');
    const v = await finished(r.json().url, reporter);
    assert.equal(v.status, 'parsed');
    assert.ok(v.cases.length >= 1, JSON.stringify(v));
    assert.equal(v.sinks_pending, false);

    const w = await post(reporter, 'message/rfc822', mail({ id: 'http-wait@reporter.example', body: 'SSH brute force from 203.0.113.9 again.\r\n' }), '?wait=30');
    assert.equal(w.statusCode, 201, w.body);
    assert.equal(w.json().status, 'parsed');
    assert.equal(w.json().duplicate, false);
    assert.ok(w.json().events >= 1);
    assert.ok(w.json().cases.length >= 1, w.body);
    const view = (await t.app.inject({ method: 'GET', url: w.json().url, headers: reporter })).json();
    assert.deepEqual(view.cases, w.json().cases);
    assert.equal((await post(reporter, 'message/rfc822', mail({ id: 'http-wait-2@reporter.example' }), '?wait=31')).statusCode, 400, 'the wait is bounded');
  });

  test('the OpenAPI document describes the report routes', async () => {
    const spec = (await t.app.inject({ method: 'GET', url: '/api/openapi.json' })).json();
    const p = spec.paths['/api/v1/reports'].post;
    assert.ok(p.requestBody.content['message/rfc822']);
    assert.ok(p.requestBody.content['application/json']);
    assert.ok(p.responses['201']);
    assert.ok(p.parameters.some((x: { name: string; in: string }) => x.name === 'wait' && x.in === 'query'));
    assert.ok(spec.paths['/api/v1/reports/{id}'].get);
  });
});
