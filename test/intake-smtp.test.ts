import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import { forEachStore } from './helpers/stores.js';
import { loadInventory, mail, openTestDesk } from './helpers/intake.js';
import { startSmtp, type SmtpListener } from '../src/intake/smtp.js';
import { intakeIdle } from '../src/intake/ingest.js';
import { readRaw } from '../src/intake/raw-store.js';

function swaks(args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn('swaks', ['--timeout', '20', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { out += d; });
    p.on('error', reject);
    p.on('close', (code) => resolve({ code, out }));
  });
}

forEachStore('intake over SMTP: a real exchange with nodemailer and swaks', (store) => {
  let desk: Awaited<ReturnType<typeof openTestDesk>>;
  let smtp: SmtpListener;
  before(async () => {
    desk = await openTestDesk(store(), (c) => { c.smtp.addresses = ['abuse@desk.example']; c.smtp.max_size = 20_000; c.smtp.host = '127.0.0.1'; });
    await loadInventory(desk);
    smtp = await startSmtp(desk);
  });
  after(async () => { await smtp?.stop(); await desk?.close(); });

  const sent = async (id: string) => (await desk.db.query<{ id: string; sha256: string; channel: string; status: string; meta: Record<string, unknown> }>(
    'SELECT id, sha256, channel, status, meta FROM reports WHERE message_id = $1', [id])).rows;

  test('nodemailer delivers; 250 names the stored report; the envelope is kept', async () => {
    const transport = nodemailer.createTransport({ host: '127.0.0.1', port: smtp.port, secure: false, ignoreTLS: true });
    const info = await transport.sendMail({
      from: 'Honeypot <abuse@reporter.example>', to: 'Abuse@Desk.example', subject: 'Brute force from 203.0.113.9',
      messageId: '<nm-1@reporter.example>', text: 'Failed password for root from 203.0.113.9 port 4242 ssh2 at 2026-11-24 09:12:01 UTC',
    });
    const m = /^250 2\.0\.0 stored as report (\d+)/.exec(info.response);
    assert.ok(m, info.response);
    await intakeIdle(desk);
    const rows = await sent('nm-1@reporter.example');
    assert.equal(rows.length, 1);
    assert.equal(Number(rows[0].id), Number(m[1]));
    assert.equal(rows[0].channel, 'smtp');
    assert.deepEqual(rows[0].meta.rcptTo, ['Abuse@desk.example']);
    assert.equal(rows[0].meta.mailFrom, 'abuse@reporter.example');
    assert.match(String(rows[0].meta.peer), /127\.0\.0\.1/);
    const raw = (await readRaw(desk.db, rows[0].sha256)).toString();
    assert.match(raw, /Message-ID: <nm-1@reporter\.example>/i);
    assert.match(raw, /Failed password for root from 203\.0\.113\.9/);
    transport.close();
  });

  test('swaks: SIZE is announced in EHLO; a report file is accepted; other recipients are refused', async () => {
    const file = join(store().dataDir, 'report.eml');
    writeFileSync(file, mail({ id: 'swaks-1@reporter.example' }));
    const ok = await swaks(['--server', `127.0.0.1:${smtp.port}`, '--from', 'abuse@reporter.example', '--to', 'abuse@desk.example', '--data', `@${file}`]);
    assert.equal(ok.code, 0, ok.out);
    assert.match(ok.out, /250[- ]SIZE 20000/);
    assert.match(ok.out, /250 2\.0\.0 stored as report \d+/);
    await intakeIdle(desk);
    const rows = await sent('swaks-1@reporter.example');
    assert.equal(rows.length, 1);
    // Byte for byte as transmitted (swaks ends the data with its own CRLF before the dot).
    const raw = await readRaw(desk.db, rows[0].sha256);
    const original = mail({ id: 'swaks-1@reporter.example' });
    assert.deepEqual(raw.subarray(0, original.length), original);
    assert.match(raw.subarray(original.length).toString(), /^(\r\n)?$/);

    const again = await swaks(['--server', `127.0.0.1:${smtp.port}`, '--from', 'abuse@reporter.example', '--to', 'abuse@desk.example', '--data', `@${file}`]);
    assert.match(again.out, /250 2\.0\.0 stored as report \d+ \(already received\)/);

    const wrong = await swaks(['--server', `127.0.0.1:${smtp.port}`, '--from', 'a@reporter.example', '--to', 'sales@desk.example', '--data', `@${file}`]);
    assert.notEqual(wrong.code, 0);
    assert.match(wrong.out, /550 5\.1\.1/);
  });

  test('a message over the size limit gets 552 and the refusal is recorded', async () => {
    const before = (await desk.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM intake_refusals WHERE channel = 'smtp'`)).rows[0].n;
    const big = await swaks(['--server', `127.0.0.1:${smtp.port}`, '--from', 'a@reporter.example', '--to', 'abuse@desk.example',
      '--header', 'Message-ID: <big@reporter.example>', '--body', 'x'.repeat(60_000)]);
    assert.notEqual(big.code, 0);
    assert.match(big.out, /552/);
    const r = (await desk.db.query<{ reason: string; size: string; peer: string }>(`SELECT reason, size, peer FROM intake_refusals WHERE channel = 'smtp' ORDER BY id DESC`)).rows;
    assert.equal(r.length, before + 1);
    assert.match(r[0].reason, /exceeds smtp\.max_size/);
    assert.ok(Number(r[0].size) > 60_000);
    assert.equal((await sent('big@reporter.example')).length, 0);
  });

  test('when the store fails the answer is 451 (the sender keeps the mail and retries), never 250', async () => {
    const file = join(store().dataDir, 'retry.eml');
    writeFileSync(file, mail({ id: 'retry@reporter.example' }));
    await desk.db.exec('ALTER TABLE report_blobs RENAME TO report_blobs_away');
    try {
      const down = await swaks(['--server', `127.0.0.1:${smtp.port}`, '--from', 'a@reporter.example', '--to', 'abuse@desk.example', '--data', `@${file}`]);
      assert.match(down.out, /451 4\.3\.0/);
      assert.doesNotMatch(down.out, /stored as report/);
    } finally { await desk.db.exec('ALTER TABLE report_blobs_away RENAME TO report_blobs'); }
    assert.equal((await sent('retry@reporter.example')).length, 0, 'nothing half-stored');
    const up = await swaks(['--server', `127.0.0.1:${smtp.port}`, '--from', 'a@reporter.example', '--to', 'abuse@desk.example', '--data', `@${file}`]);
    assert.match(up.out, /250 2\.0\.0 stored as report/);
  });
});

forEachStore('intake over SMTP with STARTTLS (the desk\'s own certificate)', (store) => {
  let desk: Awaited<ReturnType<typeof openTestDesk>>;
  let smtp: SmtpListener;
  before(async () => {
    const dir = store().dataDir;
    // A self-signed certificate made by openssl, as an operator would for a test listener.
    const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=desk.example',
      '-keyout', join(dir, 'smtp.key'), '-out', join(dir, 'smtp.crt')], { encoding: 'utf8' });
    assert.equal(made.status, 0, made.stderr);
    desk = await openTestDesk(store(), (c) => { c.smtp.tls_cert = join(dir, 'smtp.crt'); c.smtp.tls_key = join(dir, 'smtp.key'); });
    smtp = await startSmtp(desk);
  });
  after(async () => { await smtp?.stop(); await desk?.close(); });

  test('STARTTLS is offered and used; the report records that it came encrypted', async () => {
    const file = join(store().dataDir, 'tls.eml');
    writeFileSync(file, mail({ id: 'tls-1@reporter.example' }));
    const r = await swaks(['--server', `127.0.0.1:${smtp.port}`, '--tls', '--from', 'a@reporter.example', '--to', 'abuse@desk.example', '--data', `@${file}`]);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /250[- ]STARTTLS/);
    assert.match(r.out, /TLS started/);
    assert.match(r.out, /250 2\.0\.0 stored as report \d+/);
    const plain = join(store().dataDir, 'plain.eml');
    writeFileSync(plain, mail({ id: 'tls-2@reporter.example' }));
    assert.equal((await swaks(['--server', `127.0.0.1:${smtp.port}`, '--from', 'a@reporter.example', '--to', 'abuse@desk.example', '--data', `@${plain}`])).code, 0);
    await intakeIdle(desk);
    const meta = async (id: string) => (await desk.db.query<{ meta: { tls: boolean } }>('SELECT meta FROM reports WHERE message_id = $1', [id])).rows[0]?.meta;
    assert.equal((await meta('tls-1@reporter.example'))?.tls, true);
    assert.equal((await meta('tls-2@reporter.example'))?.tls, false);
  });

  test('without a certificate STARTTLS is not offered; half a TLS setting is refused at start', async () => {
    // The same desk with other SMTP settings (the embedded store opens once per process).
    const withTls = (cert: string, key: string) => ({ ...desk, config: { ...desk.config, smtp: { ...desk.config.smtp, tls_cert: cert, tls_key: key } } });
    const listener = await startSmtp(withTls('', ''));
    try {
      const r = await swaks(['--server', `127.0.0.1:${listener.port}`, '--tls', '--from', 'a@reporter.example', '--to', 'abuse@desk.example', '--data', `@${join(store().dataDir, 'tls.eml')}`]);
      assert.notEqual(r.code, 0);
      assert.doesNotMatch(r.out, /250[- ]STARTTLS/);
      assert.doesNotMatch(r.out, /stored as report/);
    } finally { await listener.stop(); }
    await assert.rejects(startSmtp(withTls(join(store().dataDir, 'smtp.crt'), '')), /smtp\.tls_cert and smtp\.tls_key go together/);
    await assert.rejects(startSmtp(withTls(join(store().dataDir, 'smtp.crt'), '/nonexistent/smtp.key')), /smtp\.tls_key: cannot read \/nonexistent\/smtp\.key/);
  });
});
