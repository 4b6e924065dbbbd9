// Never lose a report: a real `madoguchi serve` child takes reports over HTTP and SMTP and is
// killed with SIGKILL at a random moment, several times; every report that was acknowledged
// (2xx or 250) must be in the store afterwards, and parsed once the desk is back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import nodemailer from 'nodemailer';
import { forEachStore, type TestStore } from './helpers/stores.js';
import { BIN } from './helpers/cli.js';
import { freePort } from './helpers/dovecot.js';
import { mail } from './helpers/intake.js';
import { createApiKey } from '../src/web/auth.js';
import { sha256 } from '../src/intake/raw-store.js';

interface Ack { channel: 'http' | 'smtp'; id: number; messageId: string; sha256?: string }

function childEnv(store: TestStore): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, MADOGUCHI_LOG_LEVEL: 'warn', MADOGUCHI_INTAKE_API_RATE: '1000000', MADOGUCHI_INTAKE_API_BURST: '1000000' };
  delete env.DATABASE_URL;
  if (store.databaseUrl) env.DATABASE_URL = `${store.databaseUrl}?options=-c%20search_path%3D${store.schema}`;
  return env;
}

async function startServe(store: TestStore, http: number, smtp: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, [BIN, '--data-dir', store.dataDir, 'serve', '--http-port', String(http), '--smtp-port', String(smtp)], { env: childEnv(store), stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d) => { err = (err + d).slice(-4000); });
  for (;;) {
    if (child.exitCode !== null) throw new Error(`madoguchi serve exited ${child.exitCode}: ${err}`);
    try { if ((await fetch(`http://127.0.0.1:${http}/api/v1/health`)).ok) return child; } catch { /* not up yet */ }
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function sendHttp(port: number, key: string, n: string): Promise<Ack | null> {
  const raw = mail({ id: `${n}@kill.example`, body: `Brute force from 203.0.113.${Number(n.split('-').at(-1)) % 250} (${n}).\r\n` });
  const r = await fetch(`http://127.0.0.1:${port}/api/v1/reports`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'message/rfc822' }, body: new Uint8Array(raw) });
  if (r.status !== 201 && r.status !== 200) return null;
  return { channel: 'http', id: (await r.json() as { id: number }).id, messageId: `${n}@kill.example`, sha256: sha256(raw) };
}

async function sendSmtp(port: number, n: string): Promise<Ack | null> {
  const t = nodemailer.createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true, connectionTimeout: 5000, socketTimeout: 10000 });
  try {
    const info = await t.sendMail({ from: 'abuse@reporter.example', to: 'abuse@desk.example', subject: `scan ${n}`, messageId: `<${n}@kill.example>`, text: `Scanning from 203.0.113.7 (${n}).` });
    const m = /^250 .*stored as report (\d+)/.exec(info.response);
    return m ? { channel: 'smtp', id: Number(m[1]), messageId: `${n}@kill.example` } : null;
  } finally { t.close(); }
}

forEachStore('never lose a report', (store) => {
  test('SIGKILL at random moments while reports arrive over HTTP and SMTP loses no acknowledged report', { timeout: 1_200_000 }, async () => {
    const setup = await store().open();
    const { key } = await createApiKey(setup, { name: 'kill test', roles: ['reporter'] });
    const operator = (await createApiKey(setup, { name: 'kill test operator', roles: ['operator'] })).key;
    await setup.close();
    const acks: Ack[] = [];
    let sent = 0;
    for (let round = 0; round < 3; round++) {
      const [http, smtp] = [await freePort(), await freePort()];
      const child = await startServe(store(), http, smtp);
      let alive = true;
      const sender = async (lane: number) => {
        for (let i = 0; alive; i++) {
          const n = `r${round}-l${lane}-${i}`;
          sent++;
          try {
            const a = lane % 3 === 2 ? await sendSmtp(smtp, n) : await sendHttp(http, key, n);
            if (a) acks.push(a);
          } catch { /* the desk died under us: not acknowledged, so not promised */ }
        }
      };
      const before = acks.length;
      const lanes = Array.from({ length: 6 }, (_, l) => sender(l));
      // Kill at a random moment once reports are flowing (a loaded machine may take a while to answer the first).
      while (acks.length === before) await new Promise((r) => setTimeout(r, 20));
      await new Promise((r) => setTimeout(r, Math.random() * 1500));
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await gone;
      alive = false;
      await Promise.all(lanes);
    }
    assert.ok(acks.length > 0, 'some reports were acknowledged before the kills');

    // Back up once more: recovery parses what was stored but not parsed, and runs the sinks
    // (case work) for what was parsed but not grouped into cases.
    const [http, smtp] = [await freePort(), await freePort()];
    const child = await startServe(store(), http, smtp);
    const deadline = Date.now() + 600_000;
    // Every report, a page at a time (a fast machine takes more than a page's worth before the kills).
    const unfinished = async (): Promise<boolean> => {
      for (let before = ''; ;) {
        const r = await fetch(`http://127.0.0.1:${http}/api/v1/reports?limit=1000${before}`, { headers: { authorization: `Bearer ${operator}` } });
        assert.equal(r.status, 200);
        const { reports } = await r.json() as { reports: { id: number; status: string; sinks_pending: boolean }[] };
        if (reports.some((x) => x.status === 'received' || x.sinks_pending)) return true;
        if (reports.length < 1000) return false;
        before = `&before=${reports[reports.length - 1].id}`;
      }
    };
    const gone = new Promise((r) => child.once('exit', r));
    try {
      for (;;) {
        if (!await unfinished()) break;
        assert.ok(Date.now() < deadline, 'recovery finishes');
        await new Promise((r) => setTimeout(r, 500));
      }
    } finally {
      // A failed check must not leave the desk running: the test file would wait for it for ever.
      child.kill('SIGTERM');
      await gone;
    }
    const db = await store().open();
    try {
      const ids = acks.map((a) => a.id);
      const rows = (await db.query<{ id: string; sha256: string; message_id: string; status: string; sinks_pending: boolean; cases: string[]; event_count: number }>(
        'SELECT id, sha256, message_id, status, sinks_pending, cases, event_count FROM reports WHERE id = ANY($1::bigint[])', [ids])).rows;
      const byId = new Map(rows.map((r) => [Number(r.id), r]));
      const missing = acks.filter((a) => !byId.has(a.id));
      assert.deepEqual(missing, [], `${missing.length} of ${acks.length} acknowledged reports are missing`);
      for (const a of acks) {
        const r = byId.get(a.id)!;
        assert.equal(r.message_id, a.messageId, `report ${a.id} is the one acknowledged`);
        if (a.sha256) assert.equal(r.sha256, a.sha256);
      }
      const unparsed = rows.filter((r) => r.status === 'received');
      assert.deepEqual(unparsed, [], 'recovery parsed every stored report');
      const caseless = rows.filter((r) => r.status === 'parsed' && (r.sinks_pending || (r.event_count > 0 && !r.cases.length)));
      assert.deepEqual(caseless, [], 'and the events of every parsed report reached a case');
      process.stderr.write(`# ${store().kind}: ${sent} sent, ${acks.length} acknowledged (${acks.filter((a) => a.channel === 'smtp').length} over SMTP), all present after 3 SIGKILLs\n`);
    } finally { await db.close(); }
  });
});
