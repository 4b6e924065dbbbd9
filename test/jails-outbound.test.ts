// Outbound X-ARF reports: a local RDAP server on 127.0.0.1 answers with RFC 9083 documents shaped
// as RIPE's and ARIN's (abuse entity at the top, abuse entity nested under the registrant, behind
// an rdap.org-style redirect), and a local SMTP server (smtp-server) receives the reports.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { simpleParser } from 'mailparser';
import { forEachStore } from './helpers/stores.js';
import { createLogger } from '../src/log.js';
import { loadConfig } from '../src/config/config.js';
import type { Db } from '../src/store/db.js';
import { OutboundReporter, type OutboundConfig } from '../src/detection/jails/outbound.js';
import { recordBan } from '../src/detection/jails/banstore.js';
import { jailsFromYaml } from '../src/detection/jails/config.js';
import { abuseEmails, vcardEmails } from '../src/detection/jails/rdap.js';
import type { Ban } from '../src/detection/jails/jail.js';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), '../../test/fixtures/rdap');
const doc = (name: string) => readFileSync(join(fixtures, name), 'utf8');

const hits = new Map<string, number>();
let rdap: Server;
let rdapUrl: string;
const mails: { to: string[]; raw: Buffer }[] = [];
let smtp: SMTPServer;
let smtpPort: number;
const log = createLogger('silent');

before(async () => {
  rdap = createServer((req, res) => {
    const path = req.url ?? '';
    hits.set(path, (hits.get(path) ?? 0) + 1);
    const json = (body: string, status = 200) => { res.writeHead(status, { 'content-type': 'application/rdap+json' }); res.end(body); };
    if (path.startsWith('/ip/203.0.113.')) return json(doc('ripe-style.json'));
    // rdap.org answers with a redirect to the registry that holds the address.
    if (path.startsWith('/ip/198.51.100.')) { res.writeHead(302, { location: `/arin/registry${path}` }); return res.end(); }
    if (path.startsWith('/arin/registry/ip/198.51.100.')) return json(doc('arin-style.json'));
    if (path.startsWith('/ip/100.64.0.')) return json(doc('no-abuse.json'));
    if (path === '/ip/100.64.1.1') return json(`{"objectClassName":"ip network","remarks":["${'x'.repeat(2 << 20)}"]}`);
    if (path === '/ip/100.64.2.1') return json('{"objectClassName": "ip network", "entities": [');
    if (path === '/ip/100.64.3.1') return json(JSON.stringify({ ...JSON.parse(doc('ripe-style.json')), startAddress: '0.0.0.0', endAddress: '10.0.0.0' }));
    json(JSON.stringify({ errorCode: 404, title: 'Not Found' }), 404);
  });
  await new Promise<void>((r) => rdap.listen(0, '127.0.0.1', r));
  rdapUrl = `http://127.0.0.1:${(rdap.address() as AddressInfo).port}`;
  smtp = new SMTPServer({
    authOptional: true, disabledCommands: ['STARTTLS'], logger: false,
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => { mails.push({ to: session.envelope.rcptTo.map((a) => a.address), raw: Buffer.concat(chunks) }); cb(); });
    },
  });
  await new Promise<void>((r) => smtp.listen(0, '127.0.0.1', r));
  smtpPort = (smtp.server.address() as AddressInfo).port;
});
after(async () => {
  await new Promise((r) => rdap.close(r));
  await new Promise((r) => smtp.close(() => r(undefined)));
});

test('abuse contacts are read from jCards at any depth, only from the abuse role', () => {
  assert.deepEqual(abuseEmails(JSON.parse(doc('ripe-style.json'))), ['abuse@hosting.example']);
  assert.deepEqual(abuseEmails(JSON.parse(doc('arin-style.json'))), ['abuse@cloud.example']);
  assert.deepEqual(abuseEmails(JSON.parse(doc('no-abuse.json'))), []);
  assert.deepEqual(vcardEmails(['vcard', [['email', {}, 'text', 'not an address'], ['email', {}, 'text', 'mailto:a@b.example']]]), ['a@b.example']);
  assert.deepEqual(vcardEmails('garbage'), []);
});

forEachStore('outbound reports', (store) => {
  let db: Db;
  let banSeq = 0;
  const jail = jailsFromYaml([{ name: 'sshd', logpath: '/var/log/auth.log', port: 22 }], '/etc/fail2ban')[0];
  const cfg = (o: Partial<OutboundConfig> = {}): OutboundConfig => ({
    ...loadConfig({ env: {} }).detection.outbound,
    enabled: true, dry_run: false, rdap_url: rdapUrl, rdap_interval: 0, smtp_host: '127.0.0.1', smtp_port: smtpPort,
    from: 'reports@desk.example', reporter_org: 'Example Desk KK', reporter_domain: 'desk.example', per_contact_per_hour: 2, ...o,
  });
  async function ban(ip: string): Promise<{ b: Ban; id: number }> {
    banSeq++;
    const b: Ban = {
      jail: 'sshd', ip, fid: ip, time: 1_700_000_000 + banSeq, bantime: 600, banCount: 1, failures: 5, user: 'root',
      lines: Array.from({ length: 5 }, (_, i) => `Nov 14 22:13:2${i} web1 sshd[99]: Failed password for root from ${ip} port 4000${i} ssh2`),
    };
    return { b, id: await recordBan(db, b, null) };
  }

  before(async () => { db = await store().open(); });
  after(async () => { await db?.close(); });

  test('sends an X-ARF v4 login_attack to the RDAP abuse contact, caches, rate-limits and records every outcome', async () => {
    const rep = new OutboundReporter(db, cfg(), log);
    const before = mails.length;
    const asked = hits.get('/ip/203.0.113.5') ?? 0;
    const r1 = await ban('203.0.113.5');
    const first = await rep.report(r1.b, r1.id, jail);
    assert.deepEqual([first.status, first.reason], ['sent', null]);
    assert.equal(mails.length, before + 1);
    const mail = mails[mails.length - 1];
    assert.deepEqual(mail.to, ['abuse@hosting.example']);
    const parsed = await simpleParser(mail.raw);
    assert.equal(parsed.headers.get('x-xarf'), 'PLAIN');
    assert.equal(parsed.headers.get('auto-submitted'), 'auto-generated');
    assert.match(parsed.subject ?? '', /^abuse report about 203\.0\.113\.5 - /);
    const att = parsed.attachments.find((a) => a.filename === 'xarf.json')!;
    const x = JSON.parse(att.content.toString('utf8'));
    // XARF v4 core required fields, and the connection/login_attack type's own.
    for (const k of ['xarf_version', 'report_id', 'timestamp', 'reporter', 'sender', 'source_identifier', 'category', 'type', 'protocol', 'first_seen']) assert.ok(k in x, k);
    assert.match(x.xarf_version, /^4\.\d+\.\d+$/);
    assert.match(x.report_id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.deepEqual([x.category, x.type, x.protocol, x.source_identifier, x.destination_port], ['connection', 'login_attack', 'tcp', '203.0.113.5', 22]);
    assert.deepEqual(x.reporter, { org: 'Example Desk KK', contact: 'reports@desk.example', domain: 'desk.example' });
    const evidence = Buffer.from(x.evidence[0].payload, 'base64');
    assert.match(evidence.toString(), /Failed password for root from 203\.0\.113\.5 port 40004/);
    assert.equal(x.evidence[0].hash, `sha256:${createHash('sha256').update(evidence).digest('hex')}`);
    for (const t of x.tags) assert.match(t, /^[a-z0-9][a-z0-9_+-]*:[a-z0-9][a-z0-9_+-.]*$/);

    const row = (await db.query<Record<string, unknown>>('SELECT * FROM outgoing_reports WHERE id = $1', [first.id])).rows[0];
    assert.equal(row.recipient, 'abuse@hosting.example');
    assert.equal(row.report_uuid, x.report_id);
    assert.equal(row.message_id, parsed.messageId);
    assert.ok(row.sent_at);
    assert.match(String(row.message), /X-XARF: PLAIN/);

    // Same network: the cached answer is used, the registry is asked once.
    const r2 = await ban('203.0.113.6');
    assert.equal((await rep.report(r2.b, r2.id, jail)).status, 'sent');
    assert.equal(hits.get('/ip/203.0.113.6'), undefined);
    assert.equal(hits.get('/ip/203.0.113.5'), asked + 1);
    // The contact's hourly limit (2) is reached.
    const r3 = await ban('203.0.113.7');
    const third = await rep.report(r3.b, r3.id, jail);
    assert.equal(third.status, 'skipped');
    assert.match(third.reason!, /2 reports to abuse@hosting\.example in the last hour/);
    // The same address again within per_address_interval.
    const r4 = await ban('203.0.113.5');
    assert.match((await rep.report(r4.b, r4.id, jail)).reason!, /reported within the last 86400 s/);
    assert.equal(mails.length, before + 2);

    // Behind a redirect, abuse contact nested under the registrant.
    const r5 = await ban('198.51.100.9');
    assert.equal((await rep.report(r5.b, r5.id, jail)).status, 'sent');
    assert.deepEqual(mails[mails.length - 1].to, ['abuse@cloud.example']);
    const arin = (await db.query<{ rdap_server: string; rdap_handle: string }>('SELECT rdap_server, rdap_handle FROM outgoing_reports WHERE ip = $1', ['198.51.100.9'])).rows[0];
    assert.equal(arin.rdap_handle, 'NET-198-51-100-0-1');
    assert.match(arin.rdap_server, /\/arin\/registry\/ip\/198\.51\.100\.9$/);
  });

  test('no contact, broken or hostile RDAP answers: skipped with the reason, failures cached', async () => {
    const rep = new OutboundReporter(db, cfg(), log);
    const asked = hits.get('/ip/192.0.2.50') ?? 0;
    const cases: [string, RegExp][] = [
      ['192.0.2.50', /no RDAP record/],
      ['100.64.0.9', /no entity with role abuse/],
      ['100.64.1.1', /larger than/],
      ['100.64.2.1', /not JSON/],
    ];
    for (const [ip, reason] of cases) {
      const r = await ban(ip);
      const out = await rep.report(r.b, r.id, jail);
      assert.equal(out.status, 'skipped', ip);
      assert.match(out.reason!, reason, ip);
    }
    const again = await ban('192.0.2.50');
    await rep.report(again.b, again.id, jail);
    assert.equal(hits.get('/ip/192.0.2.50'), asked + 1, 'a failed lookup is cached too');
    // A range that does not hold the address is not trusted for the cache (nor for other addresses).
    const wide = await ban('100.64.3.1');
    const roomy = new OutboundReporter(db, cfg({ per_contact_per_hour: 100 }), log);
    assert.equal((await roomy.report(wide.b, wide.id, jail)).status, 'sent');
    const cached = await db.query<{ first: string; last: string }>("SELECT host(first_ip) AS first, host(last_ip) AS last FROM rdap_cache WHERE host(first_ip) = '100.64.3.1'");
    assert.deepEqual(cached.rows[0], { first: '100.64.3.1', last: '100.64.3.1' });
  });

  test('dry run (the default) composes and records without sending; a dead mail server is a recorded failure', async () => {
    const before = mails.length;
    const dry = new OutboundReporter(db, cfg({ dry_run: loadConfig({ env: {} }).detection.outbound.dry_run, per_contact_per_hour: 100 }), log);
    const r = await ban('198.51.100.20');
    const out = await dry.report(r.b, r.id, jail);
    assert.equal(out.status, 'dry-run');
    assert.equal(mails.length, before);
    const row = (await db.query<{ message: string; recipient: string }>('SELECT message, recipient FROM outgoing_reports WHERE id = $1', [out.id])).rows[0];
    assert.equal(row.recipient, 'abuse@cloud.example');
    assert.match(row.message, /filename=xarf\.json/);

    const dead = new OutboundReporter(db, cfg({ smtp_port: 1, per_contact_per_hour: 100 }), log);
    const d = await ban('198.51.100.21');
    const failed = await dead.report(d.b, d.id, jail);
    assert.equal(failed.status, 'failed');
    assert.match(failed.reason!, /ECONNREFUSED|connect/i);

    const unset = new OutboundReporter(db, cfg({ from: '' }), log);
    const u = await ban('198.51.100.22');
    assert.match((await unset.report(u.b, u.id, jail)).reason!, /from, reporter_org and reporter_domain must be set/);
  });

  test('the queue works reports off in the background', async () => {
    const rep = new OutboundReporter(db, cfg({ dry_run: true, per_contact_per_hour: 100, per_address_interval: 0 }), log);
    const ids: number[] = [];
    for (let i = 30; i < 35; i++) { const r = await ban(`198.51.100.${i}`); ids.push(r.id); rep.enqueue(r.b, r.id, jail); }
    await rep.idle();
    const rows = await db.query<{ n: string }>("SELECT count(*) AS n FROM outgoing_reports WHERE ban_id = ANY($1::bigint[]) AND status = 'dry-run'", [ids]);
    assert.equal(Number(rows.rows[0].n), 5);
  });
});
