// Parse benchmark (issue 3): typical report mails of 5-50 KB through parseReport on one core,
// with mailparser's simpleParser (MIME and charsets only, no report parsing) on the same mails
// as the peer; Shadowserver CSV rows through the streaming reader.
// Run: node dist/bench/parse.js [--mails N] [--seconds S] [--csv-rows N] [--per-kind]
import { parseArgs } from 'node:util';
import { Readable } from 'node:stream';
import { parse as csvParse } from 'csv-parse';
import { simpleParser } from 'mailparser';
import iconv from 'iconv-lite';
import { DEFAULT_LIMITS, csvEvents, parseReport, type ParseContext } from '../src/parsers/index.js';
import { ownedMatcher } from '../src/parsers/ours.js';

const { values } = parseArgs({ options: { mails: { type: 'string', default: '400' }, seconds: { type: 'string', default: '8' }, 'csv-rows': { type: 'string', default: '300000' }, 'per-kind': { type: 'boolean', default: false } } });
let seed = 11;
const rnd = (n: number) => { seed = (seed * 1103515245 + 12345) >>> 0; return seed % n; };
const ip = () => `203.0.113.${1 + rnd(250)}`;
const pad = (n: number) => String(n).padStart(2, '0');

function sshLines(attacker: string, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += `Nov 24 08:${pad(i % 60)}:${pad(rnd(60))} web01 sshd[${20000 + rnd(9999)}]: Failed password for invalid user ${['admin', 'oracle', 'test', 'ubuntu'][rnd(4)]} from ${attacker} port ${30000 + rnd(30000)} ssh2\n`;
  return s;
}

const WHOIS = `inetnum:        203.0.113.0 - 203.0.113.255\nnetname:        PROVIDER-VPS-NET\ndescr:          Provider Example VPS service\ncountry:        JP\nadmin-c:        JNIC1-AP\nabuse-c:        AP1234-AP\nstatus:         ALLOCATED NON-PORTABLE\nmnt-by:         MAINT-JP-PROVIDER\nsource:         APNIC\n`;

/** One mail of a kind, grown to `size` bytes with what that kind of report carries (logs, HTML, whois). */
function makeMail(kind: number, size: number, i: number): Buffer {
  const a = ip();
  const head = (subject: string, extra = '') => `From: Reporter ${i} <abuse${i}@reporter${i % 50}.example>\r\nTo: abuse@provider.example\r\nSubject: ${subject}\r\nDate: Tue, 24 Nov 2026 09:${pad(i % 60)}:00 +0900\r\nMessage-ID: <bench-${i}@reporter.example>\r\nMIME-Version: 1.0\r\n${extra}`;
  const fill = (s: string, lines: (n: number) => string) => { let out = s; while (out.length < size) out += lines(20); return out; };
  switch (kind) {
    case 0: // English free-form with pasted logs
      return Buffer.from(fill(head('SSH brute force from your network', 'Content-Type: text/plain; charset=utf-8\r\n') + `\r\nHello,\r\n\r\nOur server 198.51.100.21 is attacked from ${a}. Logs below.\r\n\r\n`, (n) => sshLines(a, n)));
    case 1: { // Japanese ISO-2022-JP with logs
      const text = fill(`ご担当者様\n\n弊社サーバー（198.51.100.7）に対して、貴社管理のIPアドレス ${a} から\nSSHへのパスワード総当たり攻撃が継続しております。\n\n`, (n) => sshLines(a, n));
      return Buffer.concat([Buffer.from(head('=?ISO-2022-JP?B?GyRCSVs8UiUkJUklaSUhJTkkKyRpJE5JVDV2JSIlLyU7JTkbKEI=?=', 'Content-Type: text/plain; charset=ISO-2022-JP\r\n') + '\r\n'), iso2022jp(text)]);
    }
    case 2: { // ARF with the spam attached (HTML body)
      const html = fill('<html><body>', () => `<p>Great <b>offer</b> at <a href="http://lucky-prize.example/c?id=${rnd(1e6)}">click</a> now!</p>\n`.repeat(10)) + '</body></html>';
      return Buffer.from(head('FW: abuse report', 'Content-Type: multipart/report; report-type=feedback-report; boundary="b"\r\n') +
        `\r\n--b\r\nContent-Type: text/plain\r\n\r\nAbuse report for ${a}\r\n--b\r\nContent-Type: message/feedback-report\r\n\r\nFeedback-Type: abuse\r\nUser-Agent: Bench/1.0\r\nVersion: 1\r\nSource-IP: ${a}\r\nArrival-Date: Tue, 24 Nov 2026 00:00:00 +0000\r\n\r\n--b\r\nContent-Type: message/rfc822\r\n\r\nReceived: from x (x [${a}]) by mx.mbp.example\r\nFrom: spam@lucky-prize.example\r\nSubject: win\r\nContent-Type: text/html\r\n\r\n${html}\r\n--b--\r\n`);
    }
    case 3: // fail2ban's X-ARF login-attack mail
      return Buffer.from(head(`abuse report about ${a}`, 'X-XARF: PLAIN\r\nContent-Type: multipart/mixed; boundary=xb\r\n') +
        `\r\n--xb\r\nContent-Type: text/plain\r\n\r\nDear Sir/Madam,\r\nWe have detected abuse from the IP address ${a}.\r\n\r\n--xb\r\nContent-Type: text/plain; name="report.txt"\r\n\r\n---\r\nReported-From: fail2ban@web01.example\r\nCategory: abuse\r\nReport-Type: login-attack\r\nService: ssh\r\nVersion: 0.2\r\nDate: Tue, 24 Nov 2026 08:02:10 +0900\r\nSource-Type: ip-address\r\nSource: ${a}\r\nPort: 22\r\n\r\n--xb\r\nContent-Type: text/plain; name="logfile.log"\r\n\r\n` +
        fill('', (n) => sshLines(a, n)) + '\r\n--xb--\r\n');
    case 4: // fail2ban sendmail-whois-lines
      return Buffer.from(fill(head(`[Fail2Ban] sshd: banned ${a} from web01.example`, 'Content-Type: text/plain\r\n') + `\r\nHi,\r\n\r\nThe IP ${a} has just been banned by Fail2Ban after\r\n5 attempts against sshd.\r\n\r\nHere is more information about ${a} :\r\n\r\n${WHOIS}\r\nLines containing failures of ${a} (max 1000)\r\n`, (n) => sshLines(a, n)));
    default: // SpamCop with the offending message
      return Buffer.from(fill(head(`[SpamCop (http://lucky-prize.example/) id:${7e9 + i}]win`, 'Content-Type: text/plain\r\n') + `\r\n- SpamCop V5.5.0 -\r\nEmail from ${a} / Sun, 22 Nov 2026 11:01:02 -0000\r\nhttps://www.spamcop.net/w3m?i=z${i}z\r\n\r\n[ Offending message ]\r\nReceived: from x (x [${a}]) by mx.isp.example\r\nSubject: win\r\n\r\n`, () => 'Win big prizes today at http://lucky-prize.example/claim now, limited offer!\r\n'.repeat(20)));
  }
}

function iso2022jp(s: string): Buffer {
  // EUC-JP -> ISO-2022-JP: the inverse of what the parser does.
  const euc = iconv.encode(s, 'euc-jp');
  const out: number[] = [];
  let kanji = false;
  for (let i = 0; i < euc.length; i++) {
    const b = euc[i];
    if (b >= 0xa1 && b <= 0xfe && i + 1 < euc.length) {
      if (!kanji) { out.push(0x1b, 0x24, 0x42); kanji = true; }
      out.push(b & 0x7f, euc[++i] & 0x7f);
    } else {
      if (kanji) { out.push(0x1b, 0x28, 0x42); kanji = false; }
      out.push(b);
    }
  }
  if (kanji) out.push(0x1b, 0x28, 0x42);
  return Buffer.from(out);
}

const n = Number(values.mails);
const mails = Array.from({ length: n }, (_, i) => makeMail(i % 6, 5 * 1024 + rnd(45 * 1024), i));
const bytes = mails.reduce((s, m) => s + m.length, 0);
const ctx: ParseContext = { isOurs: ownedMatcher([{ resource: '203.0.113.0/24' }, { resource: 'lucky-prize.example' }]), limits: DEFAULT_LIMITS };

async function rate(name: string, fn: (m: Buffer) => Promise<unknown>, corpus = mails, seconds = Number(values.seconds)): Promise<number> {
  for (const m of corpus.slice(0, 50)) await fn(m); // warm up
  let done = 0;
  const start = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  let elapsed = 0;
  while (elapsed < seconds) {
    for (const m of corpus) await fn(m);
    done += corpus.length;
    elapsed = Number(process.hrtime.bigint() - start) / 1e9;
  }
  const cpu = process.cpuUsage(cpu0);
  const cpuSec = (cpu.user + cpu.system) / 1e6;
  // Wall-clock rate, and the rate per second of CPU time this process got (the machine is shared).
  const perSec = done / elapsed, perCpuSec = done / cpuSec;
  const size = corpus.reduce((t, m) => t + m.length, 0) / corpus.length;
  console.log(`${name.padEnd(36)} ${perSec.toFixed(0).padStart(6)} mails/s wall  ${perCpuSec.toFixed(0).padStart(6)} mails/CPU-s  ${(size * perCpuSec / 1048576).toFixed(1).padStart(6)} MB/CPU-s  (${done} mails, ${elapsed.toFixed(1)} s wall, ${cpuSec.toFixed(1)} s CPU)`);
  return perCpuSec;
}

console.log(`corpus: ${n} mails, ${Math.round(bytes / n / 1024)} KB average (5-50 KB), six kinds (free-form EN/JA, ARF, X-ARF, fail2ban, SpamCop)`);
let events = 0;
for (const m of mails) {
  const r = await parseReport(m, ctx);
  if (r.rejected) throw new Error(`bench mail rejected: ${r.error}`);
  events += r.eventCount;
}
console.log(`events per pass: ${events}`);
const ours = await rate('madoguchi parseReport', (m) => parseReport(m, ctx));
const peer = await rate('mailparser simpleParser (MIME only)', (m) => simpleParser(m, { skipHtmlToText: true, skipTextToHtml: true, skipTextLinks: true, skipImageLinks: true }));
console.log(`ratio parseReport / simpleParser (per CPU-second): ${(ours / peer).toFixed(2)}`);
if (values['per-kind']) {
  // Which kind costs what: the corpus rate is the harmonic mean of these.
  const kinds = ['free-form English', 'free-form Japanese (ISO-2022-JP)', 'ARF with HTML spam', 'X-ARF (fail2ban)', 'fail2ban whois-lines', 'SpamCop'];
  for (const [k, name] of kinds.entries()) await rate(`  ${name}`, (m) => parseReport(m, ctx), mails.filter((_, i) => i % 6 === k), Number(values.seconds) / 4);
}

const rows = Number(values['csv-rows']);
const header = '"timestamp","ip","protocol","port","hostname","tag","asn","geo","region","city","naics","sic","sector","severity","version","stratum","response_size","amplification"\n';
const body: string[] = [];
for (let i = 0; i < rows; i++) body.push(`"2026-11-25 00:14:02","203.0.${(i >> 8) & 255}.${i & 255}","udp",123,"ntp${i}.provider.example","ntp-monitor",64500,"JP","TOKYO","CHIYODA",518210,0,"Hosting","medium",4,2,4680,"556.17"\n`);
const csv = Buffer.from(header + body.join(''));
const chunks: Buffer[] = [];
for (let i = 0; i < csv.length; i += 65536) chunks.push(csv.subarray(i, i + 65536));
const csvRate = async (name: string, run: () => Promise<number>) => {
  const t0 = process.hrtime.bigint(), c0 = process.cpuUsage();
  const got = await run();
  const wall = Number(process.hrtime.bigint() - t0) / 1e9, c = process.cpuUsage(c0), cpu = (c.user + c.system) / 1e6;
  console.log(`${name.padEnd(44)} ${got} rows: ${(got / wall).toFixed(0).padStart(7)} rows/s wall  ${(got / cpu).toFixed(0).padStart(7)} rows/CPU-s`);
  return got / cpu;
};
const mine = await csvRate('Shadowserver CSV -> events (scan_ntp, 18 col)', async () => {
  let got = 0;
  for await (const batch of csvEvents(chunks, { filename: '2026-11-25-scan_ntp-asia-jp-asn64500.csv' })) got += batch.length;
  return got;
});
const peerCsv = await csvRate('csv-parse records only (peer)', async () => {
  const parser = Readable.from(chunks).pipe(csvParse({ relax_column_count: true }));
  let got = -1;
  for await (const _ of parser) got++;
  return got;
});
console.log(`ratio events / csv-parse records (per CPU-second): ${(mine / peerCsv).toFixed(2)}`);
