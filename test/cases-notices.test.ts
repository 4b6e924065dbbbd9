// Notices end to end on both stores: cases open, the scheduler sends first notices, reminders and
// escalations, the outbox delivers through a real SMTP listener (with a retry), and replies come
// back onto their case.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { simpleParser, type ParsedMail } from 'mailparser';
import { forEachStore } from './helpers/stores.js';
import { seedInventory, ATTR, input } from './helpers/cases.js';
import type { Db } from '../src/store/db.js';
import type { Desk } from '../src/desk.js';
import { loadConfig } from '../src/config/config.js';
import { createLogger } from '../src/log.js';
import { caseEnv, groupingOptions, type CaseEnv } from '../src/cases/env.js';
import { groupEvents } from '../src/cases/grouping.js';
import { getCase, SYSTEM, type CaseRow } from '../src/cases/cases.js';
import { runSchedule } from '../src/cases/schedule.js';
import { acknowledgeReports, previewNotice, sendClosing } from '../src/notices/notices.js';
import { deliverDue, relayTransport } from '../src/notices/outbox.js';
import { attachRawReplyIfAny, attachReplyIfAny } from '../src/cases/replies.js';
import { auditOf } from '../src/cases/audit.js';

interface Relay { port: number; received: ParsedMail[]; envelopes: string[][]; refuseNext: number; close(): Promise<void> }

async function startRelay(): Promise<Relay> {
  const relay: Relay = { port: 0, received: [], envelopes: [], refuseNext: 0, close: async () => undefined };
  const server = new SMTPServer({
    authOptional: true, disabledCommands: ['STARTTLS', 'AUTH'], logger: false,
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', async () => {
        if (relay.refuseNext > 0) {
          relay.refuseNext--;
          const e = new Error('try again later') as Error & { responseCode: number };
          e.responseCode = 451;
          return cb(e);
        }
        relay.envelopes.push(session.envelope.rcptTo.map((r) => r.address));
        relay.received.push(await simpleParser(Buffer.concat(chunks)));
        cb();
      });
    },
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  relay.port = (server.server.address() as AddressInfo).port;
  relay.close = () => new Promise((r) => server.close(() => r()));
  return relay;
}

const SECRETS = ['198.51.100.7', 'Failed password for taro', 'cert@victim.example', 'Victim Co CERT', 'taro'];

forEachStore('notices', (store) => {
  let db: Db;
  let relay: Relay;
  let desk: Desk;
  let env: CaseEnv;
  const t0 = new Date('2026-11-20T06:00:00Z');
  const H = 3_600_000;
  let ja: CaseRow;
  let en: CaseRow;

  before(async () => {
    relay = await startRelay();
    db = await store().open();
    await seedInventory(db);
    const config = loadConfig({ env: {}, overrides: { notices: { relay_port: relay.port, retry_seconds: 30 }, cases: { reporter_language: 'en' } } });
    desk = { config, db, log: createLogger('silent'), attribution: null as never, dataDir: store().dataDir };
    env = caseEnv(desk);
    const grouped = await groupEvents(db, [
      // The reporter did not agree to forwarding: its logs, addresses and name must stay out.
      input('brute-force', ATTR.web1, '2026-11-20T01:00:00Z', { reportId: 11, reporter: 'cert@victim.example', channel: 'smtp', consent: false }, {
        'destination.ip': '198.51.100.7', 'destination.port': 22, raw: 'Nov 20 sshd[1]: Failed password for taro from 192.0.2.10', 'feed.provider': 'Victim Co CERT',
        'event_description.text': 'attack on taro@victim host',
      }),
      input('phishing', ATTR.vps1, '2026-11-20T02:00:00Z', { reportId: 12, reporter: 'phish@cert.example', channel: 'http', consent: true }, {
        'source.url': 'http://203.0.113.50/paypal/login.php', raw: 'GET /paypal/login.php 200 (reported by phish@cert.example)',
      }),
    ], groupingOptions(env, t0));
    ja = await getCase(env, grouped[0].id, SYSTEM);
    en = await getCase(env, grouped[1].id, SYSTEM);
  });
  after(async () => { await db?.close(); await relay?.close(); });

  test('a preview renders the notice without sending or changing anything', async () => {
    const p = await previewNotice(env, ja, { kind: 'notice' }, t0);
    assert.equal(p.language, 'ja');
    assert.match(p.subject, /【さくらホスティング】.*\[2026-000001\]/);
    const p2 = await previewNotice(env, ja, { kind: 'notice', language: 'en', template: 'final-warning', action: 'suspend' }, t0);
    assert.match(p2.body, /suspension of the service/);
    const after = await getCase(env, ja.id, SYSTEM);
    assert.equal(after.version, ja.version);
    assert.equal((await db.query('SELECT * FROM outbox')).rows.length, 0);
  });

  test('the scheduler sends first notices; the relay receives them in the customer\'s language, redacted without consent', async () => {
    assert.equal(await runSchedule(env, t0), 2);
    ja = await getCase(env, ja.id, SYSTEM);
    en = await getCase(env, en.id, SYSTEM);
    assert.equal(ja.state, 'notified');
    assert.equal(new Date(ja.first_notice_at!).getTime(), t0.getTime());
    assert.ok(ja.next_step_at, 'the playbook clock started');
    const report = { id: 11, reporter: 'cert@victim.example', language: 'ja', caseIds: [Number(ja.id)] };
    assert.ok((await acknowledgeReports(env, [report], t0))[0]);
    assert.deepEqual(await acknowledgeReports(env, [report], t0), [null], 'one acknowledgement per report');

    // The relay refuses the first attempt: the message stays queued for a retry.
    relay.refuseNext = 1;
    const first = await deliverDue(db, relayTransport(desk.config), desk.config, desk.log, 50, t0);
    assert.equal(first.failed, 1);
    const retry = await db.query<{ status: string; attempts: number; last_error: string; next_attempt_at: Date }>(`SELECT status, attempts, last_error, next_attempt_at FROM outbox WHERE attempts = 1`);
    assert.equal(retry.rows[0].status, 'pending');
    assert.match(retry.rows[0].last_error, /451|try again/);
    assert.ok(new Date(retry.rows[0].next_attempt_at).getTime() > Date.now());
    const second = await deliverDue(db, relayTransport(desk.config), desk.config, desk.log, 50, new Date(Date.now() + 3600_000));
    assert.equal(second.failed, 0);
    assert.equal(first.sent + second.sent, 3);
    assert.equal(relay.received.length, 3);

    const jaMail = relay.received.find((m) => m.subject?.includes(ja.number) && m.subject.includes('不正利用'))!;
    assert.ok(jaMail, relay.received.map((m) => m.subject).join(' | '));
    assert.equal(jaMail.from?.value[0].address, 'abuse@sakura.example');
    assert.deepEqual(relay.envelopes[relay.received.indexOf(jaMail)], ['yamada@shop.example']);
    assert.equal(jaMail.headers.get('content-language'), 'ja');
    assert.equal(jaMail.headers.get('x-madoguchi-case'), ja.number);
    assert.equal((jaMail.replyTo?.value[0].address), `abuse+${ja.number}@desk.invalid`);
    assert.match(jaMail.text!, /山田商店 様/);
    assert.match(jaMail.text!, /192\.0\.2\.10/);
    assert.match(jaMail.text!, /ポート 22/);
    assert.match(jaMail.text!, /報告者の同意が得られていないため/);
    for (const s of SECRETS) assert.ok(!jaMail.text!.includes(s), `the notice leaks '${s}'`);

    const enMail = relay.received.find((m) => m.subject?.includes(en.number))!;
    assert.deepEqual(relay.envelopes[relay.received.indexOf(enMail)].sort(), ['cto@acme.example', 'ops@acme.example']);
    assert.equal(enMail.from?.value[0].address, 'abuse@desk.invalid', 'a brand without from_address uses notices.from');
    assert.match(enMail.subject!, /^\[Blue Cloud\]/);
    assert.equal(enMail.headers.get('content-language'), 'en');
    assert.match(enMail.text!, /Dear Acme Ltd/);
    assert.match(enMail.text!, /GET \/paypal\/login\.php 200/, 'consented evidence is forwarded');
    assert.match(enMail.text!, /Reported by: phish@cert\.example/);

    const ack = relay.received.find((m) => m.to && JSON.stringify(m.to).includes('cert@victim.example'))!;
    assert.match(ack.subject!, new RegExp(`ご報告を受け付けました \\[${ja.number}\\]`));
    assert.equal(ack.headers.get('auto-submitted'), 'auto-generated');
    assert.ok(!ack.text!.includes('山田商店'), 'the acknowledgement does not name the customer');
    const trail = (await auditOf(db, Number(ja.id))).map((e) => e.action);
    assert.ok(trail.includes('notice.notice') && trail.includes('mail.sent'), trail.join(','));
  });

  test('reminders and escalation steps follow the playbook clock; a restriction is only proposed', async () => {
    // phishing on a VPS: reminder at 12 h, final warning at 24 h, null-route proposed at 48 h.
    const at = (h: number) => new Date(new Date(en.first_notice_at!).getTime() + h * H);
    assert.equal(await runSchedule(env, at(11)), 0);
    await runSchedule(env, at(13));
    await runSchedule(env, at(25));
    await runSchedule(env, at(49));
    const kinds = await db.query<{ kind: string; template: string }>('SELECT kind, template FROM outbox WHERE case_id = $1 ORDER BY id', [en.id]);
    assert.deepEqual(kinds.rows.map((r) => `${r.kind}:${r.template}`), ['notice:phishing', 'reminder:reminder', 'escalation:final-warning']);
    const proposed = await db.query<{ action: string; status: string; target: string; needs_approval: boolean }>('SELECT action, status, target, needs_approval FROM case_actions WHERE case_id = $1', [en.id]);
    assert.deepEqual(proposed.rows, [{ action: 'null_route', status: 'proposed', target: 'http://203.0.113.50/paypal/login.php'.replace(/^http:\/\/|\/.*$/g, ''), needs_approval: true }]);
    const row = await getCase(env, en.id, SYSTEM);
    assert.equal(row.next_step_at, null, 'no steps left');
    assert.equal(row.state, 'notified');
    await deliverDue(db, relayTransport(desk.config), desk.config, desk.log, 50, new Date(Date.now() + 10 * H));
    const warning = relay.received.find((m) => m.subject?.startsWith('[Blue Cloud] Final notice'));
    assert.ok(warning);
    assert.match(warning.text!, /blocking of the address at the network edge/);
  });

  test('a customer reply attaches to the case and moves it; reporters, auto-replies and strangers do not move it', async () => {
    const notice = (await db.query<{ message_id: string }>(`SELECT message_id FROM outbox WHERE case_id = $1 AND kind = 'notice'`, [ja.id])).rows[0];
    const mail = (raw: string) => simpleParser(Buffer.from(raw.replace(/\n/g, '\r\n')));
    const fromReporter = await mail(`From: cert@victim.example\nTo: abuse@desk.invalid\nSubject: Re: ${ja.number} still going on\nMessage-ID: <r1@victim.example>\n\nStill seeing attacks.\n`);
    assert.equal(await attachReplyIfAny(desk, fromReporter), Number(ja.id));
    assert.equal((await getCase(env, ja.id, SYSTEM)).state, 'notified');
    const autoReply = await mail(`From: yamada@shop.example\nTo: abuse+${ja.number}@desk.invalid\nSubject: Out of office\nAuto-Submitted: auto-replied\n\nI am away.\n`);
    assert.equal(await attachReplyIfAny(desk, autoReply), Number(ja.id));
    assert.equal((await getCase(env, ja.id, SYSTEM)).state, 'notified');
    const unrelated = await mail('From: someone@example.com\nTo: abuse@desk.invalid\nSubject: spam from your network\n\nhello\n');
    assert.equal(await attachReplyIfAny(desk, unrelated), null);
    const unknownNumber = await mail('From: someone@example.com\nTo: abuse@desk.invalid\nSubject: Re: 2026-999999\n\nhello\n');
    assert.equal(await attachReplyIfAny(desk, unknownNumber), null);
    // Intake hands raw bytes: an ordinary report is turned away on its headers alone.
    assert.equal(await attachRawReplyIfAny(desk, Buffer.from('From: a@example.com\r\nSubject: phishing on your network\r\n\r\nsee 2026-000001 in the body only\r\n')), null);
    const raw = Buffer.from(`From: cert@victim.example\r\nTo: abuse@desk.invalid\r\nSubject: [${ja.number}] any news?\r\n\r\nAny news?\r\n`);
    assert.equal(await attachRawReplyIfAny(desk, raw), Number(ja.id));

    const answer = await mail(`From: Yamada <yamada@shop.example>\nTo: abuse+${ja.number}@desk.invalid\nSubject: Re: ご連絡\nIn-Reply-To: ${notice.message_id}\nMessage-ID: <a1@shop.example>\nContent-Type: text/plain; charset=utf-8\n\n不正なスクリプトを削除しました。\n`);
    const before = await getCase(env, ja.id, SYSTEM);
    assert.equal(await attachReplyIfAny(desk, answer), Number(ja.id));
    const row = await getCase(env, ja.id, SYSTEM);
    assert.equal(row.state, 'customer_replied');
    assert.ok(row.customer_answer_at);
    assert.equal(row.version, before.version + 1);
    const msgs = await db.query<{ kind: string; author: string; body: string }>('SELECT kind, author, body FROM case_messages WHERE case_id = $1 ORDER BY id', [ja.id]);
    assert.deepEqual(msgs.rows.map((m) => `${m.kind}:${m.author}`), ['reporter_message:cert@victim.example', 'other_message:yamada@shop.example', 'reporter_message:cert@victim.example', 'customer_reply:yamada@shop.example']);
    assert.match(msgs.rows[3].body, /不正なスクリプトを削除しました/);
  });

  test('the optional closing message goes to the case\'s reporters', async () => {
    const ids = await sendClosing(env, ja.id, { actor: 'op:sato', roles: ['operator'], customerId: null }, 'The customer removed the script.');
    assert.equal(ids.length, 1);
    await deliverDue(db, relayTransport(desk.config), desk.config, desk.log, 50, new Date(Date.now() + 100 * H));
    const closing = relay.received.find((m) => m.subject?.includes('has been dealt with'))!;
    assert.ok(closing);
    assert.deepEqual(relay.envelopes[relay.received.indexOf(closing)], ['cert@victim.example']);
    assert.match(closing.text!, /The customer removed the script\./);
  });
});
