// Our own corpus of human-written reports (24 Japanese, 14 English) through the real CLI, checked
// by the shared tool: inventory imported into a scratch data dir, `madoguchi parse --json`,
// resources and types exact. The rules below are what those reports taught, read from the text
// alone (no inventory to fall back on).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BIN } from './helpers/cli.js';
import { findSubjects } from '../src/parsers/text/evidence.js';
import { classifyText } from '../src/parsers/text/classify.js';
import { baseDomain } from '../src/parsers/text/indicators.js';
import { decodeText } from '../src/parsers/mail/charset.js';
import iconv from 'iconv-lite';

const beside = fileURLToPath(new URL('../../../shared', import.meta.url));
const shared = existsSync(join(beside, 'tools', 'ja_samples.py')) ? beside : '/work/shared';
const corpus = fileURLToPath(new URL('../../test/fixtures/reports-freeform', import.meta.url));

test('free-form reports: 38/38 exact resources, 38/38 types', { skip: !existsSync(join(shared, 'tools', 'ja_samples.py')) && 'shared/ not found' }, () => {
  const r = spawnSync('python3', [join(shared, 'tools', 'ja_samples.py'), `${process.execPath} ${BIN}`, corpus], { encoding: 'utf8', timeout: 300_000 });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout.trim().split('\n').pop()!, /^japanese reports: 38\/38 exact resources, 38\/38 types$/);
});

const ips = (text: string) => findSubjects(text, { isOurs: () => false }).map((s) => s.ip ?? s.url);

test('a table heading is read at the column of each hit', () => {
  const spaced = 'DDoS on our customer.\n\nsrc_ip          dst_ip         proto\n198.51.100.7    192.0.2.100    udp\n198.51.100.8    192.0.2.100    udp\n';
  assert.deepEqual(ips(spaced), ['198.51.100.7', '198.51.100.8']);
  const piped = 'Scan seen.\n\n| Time | Destination | Source |\n|---|---|---|\n| 10:00 | 192.0.2.9 | 198.51.100.9 |\n';
  assert.deepEqual(ips(piped), ['198.51.100.9']);
  // Kanji take two columns: the writer lined the rows up under 送信元 as they look.
  const kanji = 'スキャンを検知しました。\n\n日時(JST)              宛先              送信元\n2026-11-24 03:12:44    192.0.2.190       203.0.113.77\n';
  assert.deepEqual(ips(kanji), ['203.0.113.77']);
});

test('a sentence wrapped onto the line of the hit is read as the words before it, not as a heading', () => {
  assert.deepEqual(ips('弊社のお客様の Web サイトに対し、プラグインの脆弱性を狙った攻撃が\n203.0.113.88 から繰り返し行われています。\n'), ['203.0.113.88']);
  assert.deepEqual(ips('Your host 198.51.100.9 keeps guessing passwords on our mail server\nmail.victim.example (192.0.2.25). From our log:\n'), ['198.51.100.9']);
});

test('web log lines: the client is the address before ident, user and [date], whatever stands in front', () => {
  const log = 'Attack on our web server 192.0.2.60:\n\n192.0.2.60 198.51.100.130 - - [25/Nov/2026:04:01:12 +0000] "POST /wp-login.php HTTP/1.1" 200 4523\n' +
    'www.victim.example:443 198.51.100.131 - - [25/Nov/2026:04:01:13 +0000] "POST /xmlrpc.php HTTP/1.1" 200 412\n';
  assert.deepEqual(ips(log), ['198.51.100.130', '198.51.100.131']);
});

test('an address under a reported URL is where it is hosted, even with no word of its own', () => {
  const r = findSubjects('■対象URL\nhxxps://login[.]bank-x[.]example/\n\n■IPアドレス\n198.51.100.80\n\n■弊社のサイト\n192.0.2.1\n', { isOurs: () => false });
  assert.deepEqual(r.map((s) => [s.url, s.ip]), [['https://login.bank-x.example/', '198.51.100.80']]);
});

test('signatures: a quoted "> --" and a ruled block with a phone number are the reporter\'s own', () => {
  const ruled = 'Scanning from 198.51.100.50 continues.\n\n━━━━━━━━━━━━━━━━━━━━\n株式会社レポーター\nTEL: 03-0000-0000\n監視センター送信元 IP: 192.0.2.10\n━━━━━━━━━━━━━━━━━━━━\n';
  assert.deepEqual(ips(ruled), ['198.51.100.50']);
  const quoted = 'Still attacking from 198.51.100.51.\n\n> We forwarded your report.\n> --\n> Provider abuse desk\n> https://www.provider.example/abuse/\n';
  assert.deepEqual(ips(quoted), ['198.51.100.51']);
});

test('words an operator reads as brute force and malware distribution; example.jp names are separate parties', () => {
  assert.equal(classifyText('SMTP AUTH attack', 'warning: unknown[192.0.2.1]: SASL LOGIN authentication failed')?.type, 'brute-force');
  assert.equal(classifyText('不正なファイルについて', '貴社サーバ上で、マルウェアが配布されています。')?.type, 'malware-distribution');
  assert.equal(baseDomain('www.secure-ops.example.jp'), 'secure-ops.example.jp');
  assert.equal(baseDomain('www.kaisha.co.jp'), 'kaisha.co.jp');
});

test('pasted Received: chains: relays inside the recipient\'s own domain and [IPv6:...] senders', () => {
  const chain = (top: string) => `Spam below.\n\n${top}\nReceived: from smtp.sender.example (smtp.sender.example [IPv6:2001:db8:50::25])\n\tby mx1.corp.example with ESMTP for <me@corp.example>; Mon, 23 Nov 2026 12:00:04 +0000\nSubject: You won\n`;
  // The top hop is the recipient's MX handing over to its mailbox server: not the sender.
  const internal = 'Received: from mx1.corp.example (mx1.corp.example [192.0.2.201])\n\tby mbox.corp.example with ESMTP for <me@corp.example>; Mon, 23 Nov 2026 12:00:05 +0000';
  assert.deepEqual(ips(chain(internal)), ['2001:db8:50::25']);
  // A name the receiving host did not look up (HELO only) proves nothing.
  const unverified = 'Received: from mx1.corp.example ([192.0.2.201])\n\tby mbox.corp.example with ESMTP for <me@corp.example>; Mon, 23 Nov 2026 12:00:05 +0000';
  assert.deepEqual(ips(chain(unverified)), ['192.0.2.201']);
});

test('charset labels that lie: 8-bit text under ISO-2022-JP, UTF-8 under Shift_JIS or EUC-JP', () => {
  const text = '貴社サーバから迷惑メールが届いています。';
  assert.equal(decodeText(iconv.encode(text, 'cp932'), 'iso-2022-jp'), text);
  assert.equal(decodeText(Buffer.from(text), 'shift_jis'), text);
  assert.equal(decodeText(Buffer.from(text), 'euc-jp'), text);
  assert.equal(decodeText(iconv.encode(text, 'cp932'), 'shift_jis'), text);
});

test('Japanese words reporters use for the same kinds, in their variant spellings', () => {
  const type = (body: string) => classifyText('ご連絡', body)?.type;
  assert.equal(type('パスワードの総当り攻撃が続いています。'), 'brute-force');
  assert.equal(type('会員サイトへのリスト型攻撃を受けています。'), 'brute-force');
  assert.equal(type('大量のパケットが送られ、サービス妨害を受けています。'), 'ddos');
  assert.equal(type('当社の写真が無断で使用されています。'), 'copyright');
  assert.equal(type('当社の映画が違法アップロードされています。'), 'copyright');
  assert.equal(type('私に対する名誉棄損の書き込みがあります。'), 'harmful-speech');
  assert.equal(type('ディレクトリトラバーサルを狙ったアクセスが続いています。'), 'exploit');
  // A loose phrase does not outweigh the word for what happened.
  assert.equal(type('ポートスキャンを検知しました。大量のパケットです。'), 'scanner');
});

test('"/32" and "/128" name one host, as firewall lists write it', () => {
  assert.deepEqual(ips('Port scans from:\n  198.51.100.33/32\n  2001:db8:60::1/128\n  198.51.100.0/24\n'), ['198.51.100.33', '2001:db8:60::1']);
});

test('key=value and sshd log lines: dovecot\'s rip= is the client and lip= the server; an accepted login is no attack', () => {
  assert.deepEqual(ips('Dovecot brute force:\n\nMar 16 04:19:32 mail dovecot: imap-login: Aborted login (auth failed): user=<abuse>, method=PLAIN, rip=::ffff:198.51.100.25, lip=::ffff:192.0.2.10, session=<x>\n'), ['198.51.100.25']);
  const ssh = 'SSH attack logs:\n\nNov 24 02:13:05 web01 sshd[21877]: Failed password for root from 198.51.100.21 port 51234 ssh2\nNov 24 02:13:14 web01 sshd[21890]: Accepted publickey for admin from 192.0.2.151 port 40022 ssh2\n';
  assert.deepEqual(ips(ssh), ['198.51.100.21']);
});

test('defanging marks the indicator written defanged, not the plain URL beside it', () => {
  const r = findSubjects('Phishing at hxxps://shop-x[.]example/login imitating https://www.shop.example/ today.', { isOurs: () => false });
  assert.deepEqual(r.map((s) => [s.url, s.defanged]), [['https://shop-x.example/login', true]]);
  // All the inventory knows is the site the phish imitates: the report is about the phish.
  const known = findSubjects('A phish imitating your customer (the legitimate site is https://www.shop.example/) runs at hxxps://shop-x[.]example/login elsewhere.', { isOurs: (h) => h === 'www.shop.example' });
  assert.deepEqual(known.map((s) => s.url), ['https://shop-x.example/login']);
});
