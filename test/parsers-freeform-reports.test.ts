// Our own corpus of human-written reports (two batches of 38: 44 Japanese, 32 English) through the real CLI, checked
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
import { parseMessage } from '../src/parsers/mail/mime.js';
import { MailReport, htmlToText } from '../src/parsers/mail/report.js';
import { DEFAULT_LIMITS } from '../src/parsers/types.js';
import iconv from 'iconv-lite';

const beside = fileURLToPath(new URL('../../../shared', import.meta.url));
const shared = existsSync(join(beside, 'tools', 'ja_samples.py')) ? beside : '/work/shared';
const corpus = fileURLToPath(new URL('../../test/fixtures/reports-freeform', import.meta.url));

test('free-form reports: 76/76 exact resources, 76/76 types', { skip: !existsSync(join(shared, 'tools', 'ja_samples.py')) && 'shared/ not found' }, () => {
  const r = spawnSync('python3', [join(shared, 'tools', 'ja_samples.py'), `${process.execPath} ${BIN}`, corpus], { encoding: 'utf8', timeout: 300_000 });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout.trim().split('\n').pop()!, /^japanese reports: 76\/76 exact resources, 76\/76 types$/);
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

// What the second batch (t01-t38) taught.

test('a labelled line is read by its label and a sentence by its own words, not by a paragraph above', () => {
  // "被害防止" two lines up is no heading of the labelled address, which is where the URL is hosted.
  const labelled = findSubjects('確認いたしました。お客様被害防止のため、至急の閉鎖をお願い申し上げます。\n\n【URL】hxxps://phish[.]example/ib/\n【IPアドレス】198.51.100.124\n', { isOurs: () => false });
  assert.deepEqual(labelled.map((s) => [s.url, s.ip]), [['https://phish.example/ib/', '198.51.100.124']]);
  assert.deepEqual(ips('フィッシングサイトの報告です。\n【偽装対象】https://www.bank.example/ib/\n【URL】https://bank-ib.example/logon/\n'), ['https://bank-ib.example/logon/']);
  // "当該" in the line above does not make the company's link in a sentence a subject.
  const sentence = '２．掲載された情報\n　　掲載場所（URL）：https://board.example/read.cgi/45\n\n６．証拠\n　　甲第１号証　当該ページの画面印刷\n\nなお、請求者の会社概要は同社ウェブサイト（https://www.requester.example/company/）をご参照ください。\n';
  assert.deepEqual(ips(sentence), ['https://board.example/read.cgi/45']);
});

test('links to read on: a reference heading and "をご参照ください" after the link', () => {
  assert.deepEqual(ips('掲載されている場所\n　URL：https://board.example/p/1.html\n\n参考：当該ページの保存記録（魚拓）\n　https://archive.example/2026/board.example/p/1.html\n'), ['https://board.example/p/1.html']);
});

test('arrows in IDS alerts and tcpdump lines point from the source to the destination', () => {
  assert.deepEqual(ips('Alerts:\n\n11/25-04:12:44.118220  [**] [1:2024897:3] ET EXPLOIT Possible Apache Struts [**] {TCP} 203.0.113.36:51544 -> 192.0.2.80:80\n'), ['203.0.113.36']);
  const dump = findSubjects('tcpdump:\n\n04:21:07.118201 IP 203.0.113.88.51234 > 192.0.2.10.22: Flags [S], seq 1042211, win 1024, length 0\n', { isOurs: () => false });
  assert.deepEqual(dump.map((s) => [s.ip, s.port]), [['203.0.113.88', 51234]]);
});

test('CSV exports and JSON logs: the header and the keys name the columns', () => {
  assert.deepEqual(ips('SIEM export:\n\ntimestamp,src_ip,src_port,dst_ip\n2026-11-25T02:11:04Z,198.51.100.145,51022,192.0.2.150\n2026-11-25T02:11:05Z,198.51.100.145,51030,192.0.2.151\n'), ['198.51.100.145']);
  assert.deepEqual(ips('eve.json:\n{"event_type":"alert","src_ip":"203.0.113.29","src_port":44120,"dest_ip":"192.0.2.90","dest_port":443}\n'), ['203.0.113.29']);
});

test('a list shares the words before it; a word right before the next hit is that one\'s', () => {
  assert.deepEqual(ips('Our customer 192.0.2.222 is flooded. Your hosts (203.0.113.41, 203.0.113.42 and 203.0.113.43) are among the top reflectors.'), ['203.0.113.41', '203.0.113.42', '203.0.113.43']);
  assert.deepEqual(ips('We see password guessing against our submission servers\n(smtp.mail.example, 192.0.2.55 and 192.0.2.56) from 198.51.100.171.\n'), ['198.51.100.171']);
});

test('what the reporter says is someone else\'s is left to them when the report names another subject', () => {
  assert.deepEqual(ips('Attacks from 198.51.100.230 on our honeypot. We also saw the same from 203.0.113.240, which we reported to its owner separately.'), ['198.51.100.230']);
  assert.deepEqual(ips('貴社の 2001:db8:1234:20::80 からスキャンされています。\nなお、同様のスキャンは 203.0.113.210 からも観測されていますが、\nこちらは貴社の管理ではないため別途連絡しております。\n'), ['2001:db8:1234:20::80']);
  // Alone, it is still what the report is about.
  assert.deepEqual(ips('A phishing page is hosted at hxxps://shop-x[.]example/login on another provider\'s network.'), ['https://shop-x.example/login']);
  // What else it did says nothing about whose it is.
  assert.deepEqual(ips('Attacks from 198.51.100.5 and 198.51.100.6, which also attack other networks.'), ['198.51.100.5', '198.51.100.6']);
});

test('a host name written with a path is a link without its scheme', () => {
  assert.deepEqual(ips('The link goes to secure-verify[.]example/amzn/signin.php?c=JP - it asks for the password.'), ['http://secure-verify.example/amzn/signin.php?c=JP']);
  // A file path is none.
  assert.deepEqual(ips('denied: /var/www/www.example.jp/html/.env from 203.0.113.9'), ['203.0.113.9']);
});

test('HTML: table cells are columns, and a plain part that only stands in for the HTML is not the text', () => {
  const text = htmlToText('<table><tr><th>Infringing URL</th><th>Hosting IP</th></tr><tr><td>hxxps://fake[.]example/bags/</td><td>203.0.113.104</td></tr><tr><td>hxxps://fake[.]example/pay.php</td><td>203.0.113.104</td></tr></table>');
  const r = findSubjects(text, { isOurs: () => false });
  assert.deepEqual(r.map((s) => [s.url, s.ip]), [['https://fake.example/bags/', '203.0.113.104'], ['https://fake.example/pay.php', '203.0.113.104']]);
  const alt = (plain: string) => Buffer.from(`From: a@b.example\r\nSubject: x\r\nContent-Type: multipart/alternative; boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n${plain}\r\n--b\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>改ざんされたページ：https://cafe.example.jp/menu/ が偽の警告ページへ転送されます。サイト管理者様へのご連絡をお願いいたします。</p>\r\n--b--\r\n`);
  const read = (raw: Buffer) => new MailReport(parseMessage(raw, DEFAULT_LIMITS).root, DEFAULT_LIMITS.maxTextChars).text();
  assert.match(read(alt('このメールはHTML形式です。')), /cafe\.example\.jp/);
  assert.doesNotMatch(read(alt('改ざんされたページ https://cafe.example.jp/menu/ について、サイトが偽の警告ページへ転送されます。管理者様へご連絡ください。')), /<p>|転送されます。サイト管理者様/);
});

test('words for the kinds the second batch named: the right a request names, fake shops, open services, half-width kana', () => {
  const type = (subject: string, body: string) => classifyText(subject, body)?.type;
  // The provider liability law's procedures serve every right; the right named decides.
  assert.equal(type('発信者情報開示請求書', '請求者の名誉を毀損する投稿です。権利侵害情報：下記。侵害された権利：名誉権'), 'harmful-speech');
  assert.equal(type('侵害情報の通知書 兼 送信防止措置依頼書', '侵害されたとする権利：プライバシー権、肖像権'), 'harmful-speech');
  assert.equal(type('送信防止措置依頼書', '弊社が著作権を有する漫画が無断で公開されています。'), 'copyright');
  assert.equal(type('通報', '通報種別：詐欺サイト（偽ショッピングサイト）'), 'masquerade');
  assert.equal(type('Open Memcached servers in your network', 'Open Memcached servers can be misused for DDoS amplification attacks.'), 'ddos-amplifier');
  assert.equal(type('FTPｻｰﾊﾞへのﾌﾞﾙｰﾄﾌｫｰｽ攻撃', ''), 'brute-force');
  assert.equal(type('NAS', 'User [admin] from [203.0.113.115] failed to sign in to [DSM] via [password]'), 'brute-force');
  // Words wrapped at a line end.
  assert.equal(type('Weekly digest', 'hosts that tried our honeypots (password\nguessing)'), 'brute-force');
});
