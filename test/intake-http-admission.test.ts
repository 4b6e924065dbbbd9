// What the HTTP intake decides before reading a body, over real sockets: a request without a key,
// and a report arriving while the desk already holds intake.max_inflight_bytes of bodies, are
// answered at once, without their uploads.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { request, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { forEachStore } from './helpers/stores.js';
import { makeDesk, type TestDesk } from './helpers/desk.js';
import { mail } from './helpers/intake.js';

forEachStore('intake over HTTP: admission before the body', (store) => {
  let t: TestDesk;
  let key: Record<string, string>;
  let port: number;
  before(async () => {
    t = await makeDesk(store(), (c) => { c.intake.max_report_size = 200_000; c.intake.max_inflight_bytes = 300_000; c.intake.api.burst = 100; });
    key = await t.keyFor(['reporter']);
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    port = (t.app.server.address() as AddressInfo).port;
  });
  after(async () => { await t?.close(); });

  /** A report mail padded with blank lines to `size` bytes. */
  const sized = (m: Buffer, size: number) => Buffer.concat([m, Buffer.alloc(size - m.length, 0x0a)]);

  /** Starts a POST that declares `length` bytes and sends `first` of them; the rest is up to the caller. */
  const begin = (headers: Record<string, string>, length: number, first: Buffer) => {
    const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/api/v1/reports', headers: { ...headers, 'content-type': 'message/rfc822', 'content-length': String(length) } });
    const answered = new Promise<{ res: IncomingMessage; body: string }>((resolve, reject) => {
      req.on('response', (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => { body += c; });
        res.on('end', () => resolve({ res, body }));
      });
      req.on('error', reject);
    });
    req.write(first);
    return { req, answered };
  };

  test('without a key the answer is 401 before any of the body is sent', { timeout: 20_000 }, async () => {
    const { req, answered } = begin({}, 20_000_000, Buffer.alloc(0));
    const { res } = await answered;
    assert.equal(res.statusCode, 401);
    req.destroy();
  });

  test('past max_inflight_bytes a report waits (503, Retry-After) and is recorded; it goes in once room is made', { timeout: 20_000 }, async () => {
    const body = sized(mail({ id: 'inflight-1@reporter.example' }), 190_000);
    // Holds 190,000 of the 300,000 bytes: its body is only half sent.
    const slow = begin(key, body.length, body.subarray(0, 1000));
    await new Promise((r) => setTimeout(r, 200));
    const second = sized(mail({ id: 'inflight-2@reporter.example' }), 150_000);
    const refused = begin(key, second.length, Buffer.alloc(0));
    const r = await refused.answered;
    assert.equal(r.res.statusCode, 503, r.body);
    assert.equal(r.res.headers['retry-after'], '1');
    refused.req.destroy();
    const small = begin(key, 2000, sized(mail({ id: 'inflight-3@reporter.example' }), 2000));
    small.req.end();
    assert.equal((await small.answered).res.statusCode, 201, 'a report that fits is taken meanwhile');

    slow.req.end(body.subarray(1000));
    assert.equal((await slow.answered).res.statusCode, 201);
    const again = begin(key, second.length, second);
    again.req.end();
    assert.equal((await again.answered).res.statusCode, 201, 'with the first one stored there is room again');

    const rec = await t.desk.db.query<{ reason: string; size: string }>("SELECT reason, size FROM intake_refusals WHERE channel = 'http' AND reason LIKE 'busy:%'");
    assert.equal(rec.rows.length, 1);
    assert.match(rec.rows[0].reason, /^busy: 1 report\(s\) turned away with 503, 19\d{4} bytes being received \(intake\.max_inflight_bytes 300000\)$/);
    assert.equal(Number(rec.rows[0].size), second.length);
  });

  test('a client that disconnects mid-upload gives its room back', { timeout: 20_000 }, async () => {
    const body = Buffer.alloc(190_000, 0x41);
    const gone = begin(key, body.length, body.subarray(0, 1000));
    gone.answered.catch(() => undefined);
    await new Promise((r) => setTimeout(r, 200));
    gone.req.destroy();
    await new Promise((r) => setTimeout(r, 200));
    const next = sized(mail({ id: 'inflight-4@reporter.example' }), 190_000);
    const after = begin(key, next.length, next);
    after.req.end();
    assert.equal((await after.answered).res.statusCode, 201);
  });
});
