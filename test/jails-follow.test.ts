// Following logs: real files rotated, truncated and created late, and the real journalctl following
// a real journal file that systemd-journal-remote writes while we read (journald itself does not run
// on the build machine).
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, mkdtempSync, openSync, renameSync, rmSync, truncateSync, writeFileSync, writeSync, closeSync, copyFileSync, existsSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileFollower } from '../src/detection/jails/tail.js';
import { JournalFollower, formatJournalEntry, type JournalEntry } from '../src/detection/jails/journal.js';

const dir = mkdtempSync(join(tmpdir(), 'madoguchi-follow-'));
after(() => rmSync(dir, { recursive: true, force: true }));

async function until(cond: () => boolean, poke: () => Promise<void> = async () => undefined, what = 'condition'): Promise<void> {
  for (let i = 0; i < 2400; i++) {
    await poke();
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  assert.fail(`timed out waiting for ${what}`);
}

function follower(name: string, opts = {}) {
  const got: string[] = [];
  const f = new FileFollower(join(dir, name), (lines) => { got.push(...lines); }, { pollMs: 60_000, drainMs: 0, ...opts });
  return { f, got, poke: () => f.poke() };
}

describe('tail -F', () => {
  test('starts at the end, reads appended lines in order, holds a partial line until its newline', async () => {
    const p = join(dir, 'a.log');
    writeFileSync(p, 'old 1\nold 2\n');
    const { f, got, poke } = follower('a.log');
    await f.start();
    appendFileSync(p, 'new 1\nnew 2\r\nnew ');
    await until(() => got.length === 2, poke);
    appendFileSync(p, '3\n');
    await until(() => got.length === 3, poke);
    assert.deepEqual(got, ['new 1', 'new 2', 'new 3']);
    await f.stop();
  });

  test('rotation by rename: the old file is drained, the new one read from its start, nothing lost or doubled', async () => {
    const p = join(dir, 'b.log');
    writeFileSync(p, '');
    const { f, got, poke } = follower('b.log', { drainMs: 200 });
    await f.start();
    const writer = openSync(p, 'a');
    for (let i = 0; i < 100; i++) writeSync(writer, `line ${i}\n`);
    renameSync(p, `${p}.1`);
    // The writer has not reopened yet: it keeps appending to the renamed file.
    for (let i = 100; i < 150; i++) writeSync(writer, `line ${i}\n`);
    writeFileSync(p, '');
    await poke();
    for (let i = 150; i < 160; i++) writeSync(writer, `line ${i}\n`);
    closeSync(writer);
    const w2 = openSync(p, 'a');
    for (let i = 160; i < 200; i++) writeSync(w2, `line ${i}\n`);
    closeSync(w2);
    await until(() => got.length >= 200, poke, '200 lines');
    await new Promise((r) => setTimeout(r, 250));
    await poke();
    assert.deepEqual([...got].sort(), Array.from({ length: 200 }, (_, i) => `line ${i}`).sort());
    assert.deepEqual(got.filter((l) => Number(l.split(' ')[1]) < 160), Array.from({ length: 160 }, (_, i) => `line ${i}`), 'old file in order');
    assert.equal(f.stats.rotations, 1);
    await f.stop();
  });

  test('truncation in place (copytruncate) is read again from the start', async () => {
    const p = join(dir, 'c.log');
    writeFileSync(p, '');
    const { f, got, poke } = follower('c.log');
    await f.start();
    appendFileSync(p, 'before 1\nbefore 2\nbefore 3\n');
    await until(() => got.length === 3, poke);
    copyFileSync(p, `${p}.1`);
    truncateSync(p, 0);
    appendFileSync(p, 'after 1\n');
    await until(() => got.length === 4, poke);
    assert.deepEqual(got, ['before 1', 'before 2', 'before 3', 'after 1']);
    assert.equal(f.stats.truncations, 1);
    await f.stop();
  });

  test('a file that appears later is read from its start; a deleted and recreated one too', async () => {
    const p = join(dir, 'd.log');
    const { f, got, poke } = follower('d.log');
    await f.start();
    await poke();
    assert.equal(existsSync(p), false);
    writeFileSync(p, 'first\nsecond\n');
    await until(() => got.length === 2, poke);
    rmSync(p);
    await poke();
    writeFileSync(p, 'third\n');
    await until(() => got.length === 3, poke);
    assert.deepEqual(got, ['first', 'second', 'third']);
    await f.stop();
  });

  test('an oversized line is cut and counted; the lines around it are intact', async () => {
    const p = join(dir, 'e.log');
    writeFileSync(p, '');
    const { f, got, poke } = follower('e.log', { maxLineBytes: 100 });
    await f.start();
    appendFileSync(p, `ok 1\n${'A'.repeat(1_000_000)}\nok 2\n`);
    await until(() => got.length === 3, poke);
    assert.deepEqual(got, ['ok 1', 'A'.repeat(100), 'ok 2']);
    assert.equal(f.stats.oversized, 1);
    await f.stop();
  });

  test('bytes that are not UTF-8 become replacement characters, never an error', async () => {
    const p = join(dir, 'g.log');
    writeFileSync(p, '');
    const { f, got, poke } = follower('g.log');
    await f.start();
    appendFileSync(p, Buffer.from([0x66, 0xff, 0xfe, 0x00, 0x0a, 0xe3, 0x81, 0x82, 0x0a]));
    await until(() => got.length === 2, poke);
    assert.deepEqual(got, ['f\ufffd\ufffd\u0000', 'あ']);
    assert.equal(f.stats.errors, 0);
    await f.stop();
  });

  test('a path that cannot be opened (a directory) is reported once, not silently waited on', async () => {
    const p = join(dir, 'adir');
    mkdirSync(p);
    const errors: Error[] = [];
    const f = new FileFollower(p, () => undefined, { pollMs: 60_000 }, (e) => errors.push(e));
    await f.start();
    await f.poke();
    await f.poke();
    await f.stop();
    assert.equal(errors.length, 1);
    assert.match(errors[0].message, /cannot follow .*adir: not a regular file/);
  });

  test('notices changes without being poked (inotify or polling)', async () => {
    const p = join(dir, 'f.log');
    writeFileSync(p, '');
    const got: string[] = [];
    const f = new FileFollower(p, (l) => { got.push(...l); }, { pollMs: 100 });
    await f.start();
    appendFileSync(p, 'by itself\n');
    await until(() => got.length === 1);
    await f.stop();
  });
});

// --- the journal ---

const JOURNAL_REMOTE = '/lib/systemd/systemd-journal-remote';

/** One entry in journald's export format; binary-safe fields use the length-prefixed form. */
function exportEntry(fields: Record<string, string | Buffer>): Buffer {
  const parts: Buffer[] = [];
  for (const [k, v] of Object.entries(fields)) {
    if (typeof v === 'string' && !v.includes('\n')) parts.push(Buffer.from(`${k}=${v}\n`));
    else {
      const data = Buffer.isBuffer(v) ? v : Buffer.from(v);
      const len = Buffer.alloc(8);
      len.writeBigUInt64LE(BigInt(data.length));
      parts.push(Buffer.from(`${k}\n`), len, data, Buffer.from('\n'));
    }
  }
  parts.push(Buffer.from('\n'));
  return Buffer.concat(parts);
}

describe('journalctl -f -o json', () => {
  test('formatJournalEntry builds the line fail2ban builds', () => {
    assert.deepEqual(formatJournalEntry({ __REALTIME_TIMESTAMP: '1700000000123456', _HOSTNAME: 'web1', SYSLOG_IDENTIFIER: 'sshd', _PID: '42', MESSAGE: 'a\nb', __CURSOR: 'c1' }),
      { line: 'web1 sshd[42]: a\\nb', time: 1700000000.123456, cursor: 'c1' });
    assert.equal(formatJournalEntry({ __REALTIME_TIMESTAMP: '1', _COMM: 'kernel', __MONOTONIC_TIMESTAMP: '5000000', MESSAGE: 'x' })?.line, 'kernel: [    5.000000] x');
    assert.equal(formatJournalEntry({ __REALTIME_TIMESTAMP: '1', SYSLOG_IDENTIFIER: 'p', SYSLOG_PID: 'abc', MESSAGE: [104, 105] })?.line, 'p[abc]: hi');
    assert.equal(formatJournalEntry({ MESSAGE: 'no time' }), null);
    assert.equal(formatJournalEntry({ __REALTIME_TIMESTAMP: '1e99', MESSAGE: 'x' }), null);
  });

  test('follows a journal file written while it runs; restarts after its cursor when journalctl dies', async () => {
    assert.ok(existsSync(JOURNAL_REMOTE), 'systemd-journal-remote is needed (apt-get install systemd-journal-remote)');
    const file = join(dir, 'test.journal');
    const writer = spawn(JOURNAL_REMOTE, [`--output=${file}`, '-'], { stdio: ['pipe', 'ignore', 'pipe'] });
    const boot = '0123456789abcdef0123456789abcdef';
    let seq = 0;
    const write = (msg: string | Buffer, extra: Record<string, string> = {}) => {
      seq++;
      writer.stdin.write(exportEntry({ __REALTIME_TIMESTAMP: String(1700000000000000 + seq * 1000000), __MONOTONIC_TIMESTAMP: String(seq * 1000), _BOOT_ID: boot, _HOSTNAME: 'web1', SYSLOG_IDENTIFIER: 'sshd', _PID: '4242', MESSAGE: msg, ...extra }));
    };
    write('before the reader started');
    await until(() => existsSync(file), undefined, 'the journal file');

    const got: JournalEntry[] = [];
    const errors: Error[] = [];
    const j = new JournalFollower((e) => { got.push(...e); }, { files: [file], restartMs: 50 }, (e) => errors.push(e));
    j.start();
    try {
      // journalctl -n 0 shows nothing old; wait until it is surely following before writing.
      await new Promise((r) => setTimeout(r, 700));
      write('Failed password for root from 192.0.2.7 port 22 ssh2');
      write(Buffer.from([0x62, 0x69, 0x6e, 0xff, 0x0a, 0x6c, 0x69, 0x6e, 0x65]));
      write('Invalid user admin from 192.0.2.8 port 4242', { _SYSTEMD_UNIT: 'sshd.service' });
      await until(() => got.length >= 3, () => j.settled(), 'three journal entries');
      assert.deepEqual(got.map((e) => e.line), [
        'web1 sshd[4242]: Failed password for root from 192.0.2.7 port 22 ssh2',
        'web1 sshd[4242]: bin\ufffd\\nline',
        'web1 sshd[4242]: Invalid user admin from 192.0.2.8 port 4242',
      ]);
      assert.deepEqual(got.map((e) => e.time), [1700000002, 1700000003, 1700000004]);

      // Kill journalctl (the child we started): the follower starts it again after the last cursor.
      const pid = j.pid!;
      process.kill(pid, 'SIGKILL');
      await until(() => j.stats.restarts >= 1 && j.pid !== null && j.pid !== pid, undefined, `a restart (${errors.map((e) => e.message).join('; ')})`);
      write('after the restart');
      await until(() => got.length >= 4, () => j.settled(), 'the entry after the restart');
      await new Promise((r) => setTimeout(r, 300));
      assert.deepEqual(got.slice(3).map((e) => e.line), ['web1 sshd[4242]: after the restart']);
      assert.equal(j.stats.malformed, 0);
    } finally {
      await j.stop();
      writer.stdin.end();
      await new Promise((r) => writer.once('close', r));
    }
  });
});
