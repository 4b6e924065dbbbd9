import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { forEachStore } from './helpers/stores.js';
import { loadInventory, mail, openTestDesk, shadowserverRows, SHADOWSERVER_NAME } from './helpers/intake.js';
import { runCli } from './helpers/cli.js';
import { ingestPaths, type FileOutcome } from '../src/intake/files.js';
import { processReport } from '../src/intake/ingest.js';
import { readRaw, sha256, streamRaw } from '../src/intake/raw-store.js';
import { eventSinks, type EventSink } from '../src/intake/sinks.js';

async function all(it: AsyncIterable<FileOutcome>): Promise<FileOutcome[]> {
  const out: FileOutcome[] = [];
  for await (const o of it) out.push(o);
  return out;
}

forEachStore('intake from files: eml, mbox, maildir, CSV feeds, the ingest and reparse commands', (store) => {
  let desk: Awaited<ReturnType<typeof openTestDesk>>;
  let dir: string;
  before(async () => {
    desk = await openTestDesk(store(), (c) => { c.intake.max_report_size = 30_000; c.intake.batch_events = 1000; });
    await loadInventory(desk);
    dir = join(store().dataDir, 'in');
    mkdirSync(dir);
  });
  after(async () => { await desk?.close(); });

  test('an mbox is split as it streams; >From quoting is undone; an oversized message is refused and recorded', async () => {
    const m1 = mail({ id: 'mb-1@reporter.example', body: 'Scan from 203.0.113.31.\r\n>From the logs: 203.0.113.31 again.\r\n' });
    // No line break at its end, as sloppy mbox writers leave it: the separator still counts.
    const m2 = mail({ id: 'mb-2@reporter.example', body: 'x'.repeat(40_000) });
    const m3 = mail({ id: 'mb-3@reporter.example', body: 'Spam sent by 203.0.113.33.\r\n' });
    const quote = (m: Buffer) => Buffer.from(m.toString('latin1').replace(/^(>*From )/gm, '>$1'), 'latin1');
    const sep = (n: number) => Buffer.from(`From reporter${n}@example Tue Nov 24 10:00:0${n} 2026\n`);
    const file = join(dir, 'reports.mbox');
    writeFileSync(file, Buffer.concat([sep(1), quote(m1), Buffer.from('\n'), sep(2), quote(m2), Buffer.from('\n'), sep(3), quote(m3), Buffer.from('\n')]));
    const out = await all(ingestPaths(desk, [file]));
    assert.deepEqual(out.map((o) => o.message), [1, 2, 3]);
    assert.equal(out[0].result?.status, 'parsed');
    assert.match(out[1].error!, /exceed intake\.max_report_size/);
    assert.equal(out[2].result?.status, 'parsed');
    assert.deepEqual(await readRaw(desk.db, sha256(m1)), m1, 'message 1 stored exactly as it was before mbox quoting');
    const r = (await desk.db.query<{ meta: { file: string; message: number } }>(`SELECT meta FROM intake_refusals WHERE channel = 'file'`)).rows;
    assert.deepEqual(r.map((x) => x.meta.message), [2]);
    const again = await all(ingestPaths(desk, [file]));
    assert.ok(again[0].result?.duplicate && again[2].result?.duplicate);
  });

  test('a maildir (new/ and cur/) and a directory of .eml files', async () => {
    const md = join(dir, 'Maildir');
    for (const d of ['new', 'cur', 'tmp']) mkdirSync(join(md, d), { recursive: true });
    writeFileSync(join(md, 'new', '1700000000.M1.host'), mail({ id: 'md-1@reporter.example' }));
    writeFileSync(join(md, 'cur', '1700000001.M2.host:2,S'), mail({ id: 'md-2@reporter.example', body: 'Phishing at http://shop.example.jp/login now.\r\n' }));
    writeFileSync(join(md, 'tmp', '1700000002.M3.host'), mail({ id: 'md-tmp@reporter.example' }));
    const out = await all(ingestPaths(desk, [md]));
    assert.equal(out.length, 2, 'tmp/ is a delivery in progress, not a message');
    assert.ok(out.every((o) => o.result && !o.result.duplicate));
    const emls = join(dir, 'emls');
    mkdirSync(emls);
    writeFileSync(join(emls, 'a.eml'), mail({ id: 'eml-a@reporter.example' }));
    writeFileSync(join(emls, 'b.eml'), Buffer.from([0, 1, 2, 3, 255, 254, 0, 0]));
    const e = await all(ingestPaths(desk, [emls, join(dir, 'missing.eml')]));
    assert.equal(e[0].result?.status, 'parsed');
    assert.equal(e[1].result?.status, 'quarantined', 'binary garbage is kept and quarantined');
    assert.match(e[2].error!, /ENOENT/);
  });

  test('a CSV feed streams into one report with an event per row, batch by batch through the sinks', async () => {
    const batches: number[] = [];
    const sink: EventSink = async (_d, events) => { batches.push(events.length); };
    eventSinks.push(sink);
    const file = join(dir, SHADOWSERVER_NAME);
    writeFileSync(file, [...shadowserverRows(4500)].join(''));
    try {
      const [o] = await all(ingestPaths(desk, [file]));
      assert.equal(o.result?.status, 'parsed', o.error ?? o.result?.reason ?? '');
      assert.equal(o.result?.events, 4500);
      assert.deepEqual(batches, [1000, 1000, 1000, 1000, 500]);
      const id = o.result!.reportId;
      const ev = (await desk.db.query<{ n: number; ours: number }>(`SELECT count(*)::int AS n, count(customer_id)::int AS ours FROM events WHERE report_id = $1`, [id])).rows[0];
      assert.deepEqual(ev, { n: 4500, ours: 2250 });
      const row = (await desk.db.query<{ sha256: string; parser: string; event_count: number }>('SELECT sha256, parser, event_count FROM reports WHERE id = $1', [id])).rows[0];
      assert.equal(row.parser, 'shadowserver');
      assert.equal(row.event_count, 4500);
      const back: Buffer[] = [];
      for await (const c of streamRaw(desk.db, row.sha256)) back.push(c as Buffer);
      assert.deepEqual(Buffer.concat(back), readFileSync(file));
      const re = await processReport(desk, id);
      assert.equal(re.events, 4500, 'reparse streams the stored feed again');
      assert.equal((await desk.db.query<{ n: number }>('SELECT count(*)::int AS n FROM events WHERE report_id = $1', [id])).rows[0].n, 4500);
    } finally { eventSinks.splice(eventSinks.indexOf(sink), 1); }
  });

  test('a feed with an unclosed quote is quarantined with the reason and the rows read so far', async () => {
    const file = join(dir, '2026-11-25-scan_ntp-broken.csv');
    writeFileSync(file, [...shadowserverRows(10)].join('') + '"2026-11-25 00:00:00","203.0.113.1","udp' + 'x'.repeat(2_000_000));
    const [o] = await all(ingestPaths(desk, [file]));
    assert.equal(o.result?.status, 'quarantined');
    assert.match(o.result!.reason!, /unclosed quote|longer than/);
  });
});

forEachStore('intake commands', (store) => {
  test('madoguchi ingest --json and madoguchi reparse --status, on the configured store', { timeout: 180_000 }, async () => {
    const dir = join(store().dataDir, 'cli');
    mkdirSync(dir);
    writeFileSync(join(dir, 'one.eml'), mail({ id: 'cli-1@reporter.example' }));
    writeFileSync(join(dir, 'two.eml'), mail({ id: 'cli-2@reporter.example', body: 'Brute force from 203.0.113.70.\r\n' }));
    const env = { ...process.env, DATABASE_URL: store().databaseUrl ?? '', MADOGUCHI_LOG_LEVEL: 'error' };
    if (store().schema) env.DATABASE_URL = `${store().databaseUrl}?options=-c%20search_path%3D${store().schema}`;
    const first = await runCli(['--data-dir', store().dataDir, 'ingest', '--json', dir], { env });
    assert.equal(first.code, 0, first.stderr);
    const lines = first.stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(lines.length, 2);
    assert.ok(lines.every((l) => l.status === 'parsed' && l.duplicate === false && l.id > 0));
    assert.match(first.stderr, /2 report\(s\) stored/);
    const second = await runCli(['--data-dir', store().dataDir, 'ingest', dir], { env });
    assert.equal(second.code, 0);
    assert.match(second.stdout, /already report/);
    const re = await runCli(['--data-dir', store().dataDir, 'reparse', '--json', '--status', 'parsed'], { env });
    assert.equal(re.code, 0, re.stderr);
    assert.equal(re.stdout.trim().split('\n').length, 2);
    const bad = await runCli(['--data-dir', store().dataDir, 'reparse', 'abc'], { env });
    assert.equal(bad.code, 2);
  });
});
