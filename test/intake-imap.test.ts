import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ImapFlow } from 'imapflow';
import { forEachStore } from './helpers/stores.js';
import { loadInventory, mail, openTestDesk } from './helpers/intake.js';
import { startDovecot, type Dovecot } from './helpers/dovecot.js';
import { pollMailbox, startImap } from '../src/intake/imap.js';
import type { Config } from '../src/config/config.js';

forEachStore('intake over IMAP: polling a real dovecot mailbox', (store) => {
  let dovecot: Dovecot;
  let desk: Awaited<ReturnType<typeof openTestDesk>>;
  let client: ImapFlow;

  const configure = (c: Config) => {
    Object.assign(c.intake.imap, { enabled: true, host: '127.0.0.1', port: dovecot.port, secure: false, user: dovecot.user, password: dovecot.password, poll_interval: 1 });
    c.intake.max_report_size = 50_000;
  };
  before(async () => {
    dovecot = await startDovecot();
    desk = await openTestDesk(store(), configure);
    await loadInventory(desk);
    client = new ImapFlow({ host: '127.0.0.1', port: dovecot.port, secure: false, auth: { user: dovecot.user, pass: dovecot.password }, logger: false });
    await client.connect();
  });
  after(async () => {
    await client?.logout().catch(() => undefined);
    await desk?.close();
    await dovecot?.stop();
  });

  const deliver = (raw: Buffer, box = 'INBOX') => client.append(box, raw);
  const flagsOf = async (box: string) => {
    const lock = await client.getMailboxLock(box);
    try {
      const out: { uid: number; flags: string[] }[] = [];
      for await (const m of client.fetch('1:*', { uid: true, flags: true })) out.push({ uid: m.uid, flags: [...(m.flags ?? [])] });
      return out;
    } catch { return []; } finally { lock.release(); }
  };
  const reportsFor = async (id: string) => (await desk.db.query<{ channel: string; meta: Record<string, unknown> }>('SELECT channel, meta FROM reports WHERE message_id = $1', [id])).rows;

  test('each message is stored, then marked \\Seen; a copy already stored is a duplicate; an oversized one is refused and marked', async () => {
    await deliver(mail({ id: 'imap-1@reporter.example' }));
    await deliver(mail({ id: 'imap-2@reporter.example', body: 'Port scan from 203.0.113.21 at 2026-11-24 08:00 UTC.\r\n' }));
    await deliver(mail({ id: 'imap-1@reporter.example', extraHeaders: 'Received: from relay.example by mx.desk.example; Tue, 24 Nov 2026 10:01:00 +0000' }));
    await deliver(mail({ id: 'imap-big@reporter.example', body: 'x'.repeat(60_000) }));
    const r = await pollMailbox(desk, client);
    assert.deepEqual(r, { stored: 2, duplicates: 1, refused: 1, failed: 0 });
    const flags = await flagsOf('INBOX');
    assert.equal(flags.length, 4);
    assert.ok(flags.every((m) => m.flags.includes('\\Seen')), JSON.stringify(flags));
    const rows = await reportsFor('imap-1@reporter.example');
    assert.equal(rows.length, 1);
    assert.equal(rows[0].channel, 'imap');
    assert.equal(rows[0].meta.mailbox, 'INBOX');
    assert.ok(Number(rows[0].meta.uid) > 0);
    assert.equal((await reportsFor('imap-big@reporter.example')).length, 0);
    const refusal = (await desk.db.query<{ reason: string }>(`SELECT reason FROM intake_refusals WHERE channel = 'imap'`)).rows;
    assert.match(refusal[0].reason, /exceeds intake\.max_report_size/);
    assert.deepEqual(await pollMailbox(desk, client), { stored: 0, duplicates: 0, refused: 0, failed: 0 }, 'nothing left to do');
  });

  test('a message that could not be stored stays unmarked and is taken on the next poll', async () => {
    await deliver(mail({ id: 'imap-retry@reporter.example' }));
    await desk.db.exec('ALTER TABLE report_blobs RENAME TO report_blobs_away');
    let r;
    try { r = await pollMailbox(desk, client); } finally { await desk.db.exec('ALTER TABLE report_blobs_away RENAME TO report_blobs'); }
    assert.equal(r.failed, 1);
    assert.equal(r.stored, 0);
    const unseen = (await flagsOf('INBOX')).filter((m) => !m.flags.includes('\\Seen'));
    assert.equal(unseen.length, 1);
    assert.deepEqual(await pollMailbox(desk, client), { stored: 1, duplicates: 0, refused: 0, failed: 0 });
    assert.equal((await reportsFor('imap-retry@reporter.example')).length, 1);
  });

  test('keyword and move markings', async () => {
    desk.config.intake.imap.after = 'keyword';
    await deliver(mail({ id: 'imap-kw@reporter.example' }));
    assert.equal((await pollMailbox(desk, client)).stored, 1);
    const kw = (await flagsOf('INBOX')).at(-1)!;
    assert.ok(kw.flags.includes('$MadoguchiStored'), JSON.stringify(kw));
    assert.ok(!kw.flags.includes('\\Seen'), 'the keyword leaves \\Seen to the humans');

    desk.config.intake.imap.after = 'move';
    await client.mailboxCreate('Madoguchi').catch(() => undefined);
    const before = (await flagsOf('INBOX')).length;
    await deliver(mail({ id: 'imap-mv@reporter.example' }));
    assert.equal((await pollMailbox(desk, client)).stored, 1);
    assert.equal((await flagsOf('Madoguchi')).length, before + 1, 'everything in INBOX was stored (or a duplicate) and moved');
    assert.equal((await flagsOf('INBOX')).length, 0);
    desk.config.intake.imap.after = 'seen';
  });

  test('the poller service connects, polls on its own and stops', async () => {
    const svc = await startImap(desk);
    try {
      await deliver(mail({ id: 'imap-svc@reporter.example' }));
      for (let i = 0; i < 100 && (await reportsFor('imap-svc@reporter.example')).length === 0; i++) await new Promise((r) => setTimeout(r, 100));
      assert.equal((await reportsFor('imap-svc@reporter.example')).length, 1);
    } finally { await svc.stop(); }
  });
});
