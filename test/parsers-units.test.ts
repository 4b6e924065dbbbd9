// The pieces under the format modules: charsets, encoded words, indicator extraction and
// refanging, the X-ARF and Shadowserver classification tables, CSV streaming, the stand-alone
// inventory matcher.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import iconv from 'iconv-lite';
import { zipSync } from 'fflate';
import { gzipSync } from 'node:zlib';
import { decodeText, decodeIso2022jp } from '../src/parsers/mail/charset.js';
import { decodeWords, parseHeaderValue } from '../src/parsers/mail/mime.js';
import { extractIndicators, normaliseText } from '../src/parsers/text/indicators.js';
import { classifyText, detectLanguage, forwardConsent } from '../src/parsers/text/classify.js';
import { findSubjects } from '../src/parsers/text/evidence.js';
import { labelledTime, timeOn, zoneOffset } from '../src/parsers/text/time.js';
import { mailDate } from '../src/parsers/mail/report.js';
import { xarfType } from '../src/parsers/xarf/index.js';
import { classifyReport, reportSchema } from '../src/parsers/shadowserver/schema.js';
import { REPORTS } from '../src/parsers/shadowserver/reports.js';
import { DEFAULT_LIMITS, csvEvents, parseReport, reportTypeOf } from '../src/parsers/index.js';
import { subjectReportType } from '../src/parsers/shadowserver/index.js';
import { ownedMatcher } from '../src/parsers/ours.js';
import { TAXONOMY } from '../src/events/event.js';

const JA = '迷惑メールの送信元について、ｶﾀｶﾅも。';

test('ISO-2022-JP, Shift_JIS, EUC-JP and UTF-8 decode, labelled or sniffed', () => {
  const jis = Buffer.from('1b24424c424f472561213c256b244e41773f2e3835244b24442424244621221b2849364036451b2442246221231b2842', 'hex');
  assert.equal(decodeIso2022jp(jis), JA);
  assert.equal(decodeText(jis, 'ISO-2022-JP'), JA);
  assert.equal(decodeText(jis), JA, 'escape sequences are recognised without a label');
  for (const cs of ['Shift_JIS', 'EUC-JP']) {
    const bytes = iconv.encode(JA, cs);
    assert.equal(decodeText(bytes, cs), JA, cs);
    assert.equal(decodeText(bytes), JA, `${cs} sniffed`);
  }
  assert.equal(decodeText(Buffer.from(JA), 'iso-8859-1'), JA, 'UTF-8 mislabelled as Latin-1');
  assert.equal(decodeText(Buffer.from('caf\xe9', 'latin1'), 'iso-8859-1'), 'café');
});

test('encoded words: split ISO-2022-JP characters, Q encoding, RFC 2231 parameters', () => {
  // One ISO-2022-JP string cut in the middle of a character across two encoded words.
  const bytes = Buffer.from('\x1b$B%U%#%C%7%s%0\x1b(B', 'latin1');
  const a = bytes.subarray(0, 6).toString('base64'), b = bytes.subarray(6).toString('base64');
  assert.equal(decodeWords(`=?ISO-2022-JP?B?${a}?= =?ISO-2022-JP?B?${b}?=`), 'フィッシング');
  assert.equal(decodeWords('=?utf-8?Q?abuse_report_=E2=80=93_203.0.113.1?= (fwd)'), 'abuse report – 203.0.113.1 (fwd)');
  assert.equal(parseHeaderValue("attachment; filename*=UTF-8''%E5%A0%B1%E5%91%8A.csv").params.filename, '報告.csv');
  assert.equal(parseHeaderValue('text/plain; name*0="2026-11-25-scan"; name*1="_ntp.csv"').params.name, '2026-11-25-scan_ntp.csv');
});

test('defanged and full-width indicators are restored and marked', () => {
  const n = normaliseText('hxxps://evil[.]example/login\nhxxp://bad(dot)example[:]8080/x\n１９２．０．２．８０\nmail: someone[at]example.org\nplain 198.51.100.1');
  const found = extractIndicators(n).map((i) => [i.kind, i.value, i.defanged]);
  assert.deepEqual(found, [
    ['url', 'https://evil.example/login', true],
    ['url', 'http://bad.example:8080/x', true],
    ['ip', '192.0.2.80', false],
    ['email', 'someone@example.org', true],
    ['ip', '198.51.100.1', false],
  ]);
});

test('indicator extraction skips versions, file names, times and networks', () => {
  const text = 'OpenSSH 8.9.1.2.3 on sshd.conf at 08:01:12, see index.php; net 203.0.113.0/24 and 2001:db8::/32; host 2001:db8::5 port 203.0.113.9:8443 and fe80::1';
  const found = extractIndicators(normaliseText(text));
  assert.deepEqual(found.map((i) => [i.kind, i.value, i.network ?? false, i.port ?? null]), [
    ['ip', '203.0.113.0', true, null],
    ['ip', '2001:db8::', true, null],
    ['ip', '2001:db8::5', false, null],
    ['ip', '203.0.113.9', false, 8443],
    ['ip', 'fe80::1', false, null],
  ]);
});

test('dotted digits: only canonical addresses, their port or prefix only when well-formed', () => {
  const text = 'a 203.0.113.9/245 b 203.0.113.10:99999 c 203.0.113.11:65536 d 999.1.2.3 e 01.2.3.4 f 203.0.113.12/8x g 203.0.113.9:22 h 203.0.113.9';
  const found = extractIndicators(normaliseText(text));
  assert.deepEqual(found.map((i) => [i.value, i.network ?? false, i.port ?? null]), [
    ['203.0.113.9', false, null],
    ['203.0.113.10', false, null],
    ['203.0.113.11', false, null],
    ['203.0.113.12', true, null],
    ['203.0.113.9', false, 22],
    ['203.0.113.9', false, null],
  ]);
});

test('the reported resource is told apart from victims, relays, whois and the reporter', () => {
  const text = [
    'Our web server 198.51.100.7 was attacked from 203.0.113.45 again.',
    'inetnum: 203.0.113.0 - 203.0.113.255',
    'NetRange: 192.0.2.0 - 192.0.2.255',
    'Received: from relay.reporter.example (relay.reporter.example [198.51.100.2]) by mx.reporter.example',
    'Details on https://www.reporter.example/incident/55',
  ].join('\n');
  const pick = (isOurs: (r: string) => boolean) => findSubjects(text, { isOurs, reporterDomains: new Set(['reporter.example']) }).map((s) => s.ip ?? s.url);
  assert.deepEqual(pick(() => false), ['203.0.113.45']);
  // The inventory outranks the words: a resource the desk hosts is what the report is about.
  assert.deepEqual(pick((r) => r === '203.0.113.45'), ['203.0.113.45']);
  // Everything known to the inventory: whois ranges, relays and the reporter's own site stay out,
  // and so does "our web server": a customer attacked by another customer is the victim.
  assert.deepEqual(pick(() => true), ['203.0.113.45'], 'whois ranges, relays, the reporter own site and the victim stay out');
  // All the inventory knows is the victim: the report is about the attacker it names.
  assert.deepEqual(pick((r) => r === '198.51.100.7'), ['203.0.113.45'], 'a known victim does not outrank the attacker');
});

test('classification, consent and language from the words of a report', () => {
  assert.equal(classifyText('不正アクセスについて', 'Failed password for root from 203.0.113.1\n総当たり攻撃')?.type, 'brute-force');
  assert.equal(classifyText('Phishing site', 'a fake login page')?.type, 'phishing');
  assert.deepEqual(classifyText('商標権侵害のご連絡', '偽ブランド品'), { type: 'copyright', identifier: 'trademark' });
  assert.equal(classifyText('hello', 'nothing to see'), null);
  // Each rule counts its own matches where another rule's match covers the same words:
  // 'botnet' twice and 'infected' once (3) outweigh 'botnet controller' twice (2).
  assert.equal(classifyText('', 'a botnet controller; another botnet controller; hosts infected')?.type, 'infected-system');
  assert.equal(classifyText('', 'botnet controller, botnet controller, command and control')?.type, 'c2-server');
  assert.equal(forwardConsent('ログは契約者様へ転送していただいて構いません。'), true);
  assert.equal(forwardConsent('契約者様への転送はご遠慮ください。'), false);
  assert.equal(forwardConsent('Please do not\nforward our logs.'), false);
  assert.equal(forwardConsent('Regards'), null);
  assert.equal(detectLanguage('貴社のサーバーから攻撃を受けています。'), 'ja');
  assert.equal(detectLanguage('Your server attacks us.'), 'en');
  assert.equal(detectLanguage('203.0.113.1 ...'), null);
});

test('every X-ARF v4 category/type maps into the RSIT taxonomy', () => {
  const spec: Record<string, string[]> = {
    messaging: ['spam', 'bulk_messaging', 'phishing', 'social-engineering', 'malware-distribution', 'harassment', 'spoofing', 'other'],
    connection: ['ddos', 'ddos_amplification', 'port-scan', 'port_scan', 'brute-force', 'login_attack', 'auth_failure', 'exploit-attempt', 'unauthorized-access', 'ssh-attack', 'rdp-attack', 'vpn-abuse', 'proxy-abuse', 'bot', 'infected_host', 'reconnaissance', 'scraping', 'sql_injection', 'vuln_scanning', 'vulnerability-scan', 'vulnerability_scan', 'ip_spoof', 'other'],
    content: ['phishing', 'phishing-site', 'malware', 'malware-distribution', 'c2-server', 'defacement', 'fraud', 'fake-shop', 'fake-lottery', 'fake-pharmacy', 'illegal-content', 'csam', 'csem', 'exposed_data', 'brand_infringement', 'remote_compromise', 'suspicious_registration', 'spamvertised', 'web_hack', 'phishing_site', 'other'],
    infrastructure: ['compromised-host', 'compromised-server', 'compromised_server', 'botnet-member', 'botnet', 'bot', 'open-resolver', 'open-relay', 'vulnerable-service', 'compromised_website', 'compromised_account', 'compromised_microsoft_exchange', 'cve', 'other'],
    copyright: ['copyright', 'dmca', 'file-sharing', 'p2p', 'stream-ripping', 'cyberlocker', 'trademark', 'link-site', 'ugc-platform', 'usenet', 'other'],
    vulnerability: ['cve', 'misconfiguration', 'exposed-credentials', 'exposed-data', 'weak-crypto', 'missing-patch', 'insecure-default', 'information-leak', 'open', 'open_service', 'ssl_freak', 'ssl_poodle', 'outdated_dnssec', 'malicious_activity', 'other'],
    reputation: ['blocklist', 'threat-intel', 'threat_intelligence', 'bad-reputation', 'spam-source', 'malware-source', 'attack-source', 'abuse-history', 'trap', 'ip_reclamation', 'other'],
  };
  const other: string[] = [];
  for (const [category, types] of Object.entries(spec)) {
    for (const type of types) {
      const t = xarfType(category, type);
      assert.ok(t in TAXONOMY, `${category}/${type} -> ${t}`);
      if (t === 'other') other.push(`${category}/${type}`);
    }
  }
  // ip_reclamation says an address is clean again: nothing to act on.
  assert.deepEqual(other, ['connection/other', 'content/other', 'reputation/ip_reclamation']);
  assert.equal(xarfType('connection', 'login_attack'), 'brute-force');
  assert.equal(xarfType('infrastructure', 'compromised_microsoft_exchange'), 'system-compromise');
  assert.equal(xarfType('vulnerability', 'ssl_freak'), 'weak-crypto');
  assert.equal(xarfType('content', 'csam'), 'violence');
});

test('Shadowserver report types classify per the published report schema', () => {
  const known: Array<[string, string]> = [
    ['scan_ntp', 'vulnerable/vulnerable-system/ntp-version'],
    ['scan6_rdp', 'vulnerable/vulnerable-system/open-rdp'],
    ['scan_ssdp', 'vulnerable/vulnerable-system/open-ssdp'],
    ['scan_dns', 'vulnerable/vulnerable-system/dns-open-resolver'],
    ['scan_http', 'other/other/accessible-http'],
    ['scan_http_vulnerable', 'vulnerable/vulnerable-system/vulnerable-http'],
    ['event4_sinkhole_http', 'malicious-code/infected-system/@infection'],
    ['event4_honeypot_brute_force', 'intrusion-attempts/brute-force/@application'],
    ['event4_honeypot_darknet', 'other/other/@tag'],
    ['event4_ddos_participant', 'availability/ddos/ddos-participant'],
    ['compromised_website', 'intrusions/system-compromise/compromised-website'],
    ['blocklist', 'other/blacklist/blacklisted-ip'],
    ['device_id', 'other/undetermined/device-id'],
    // Added or changed after the schema of 2024-09-24 (up to that of 2026-09-10).
    ['scan6_ip_tunnel', 'vulnerable/vulnerable-system/open-ip-tunnel'],
    ['scan6_rsync', 'vulnerable/vulnerable-system/accessible-rsync'],
    ['scan6_badsecrets', 'vulnerable/weak-crypto/badsecret'],
    ['scan_msrpc', 'vulnerable/potentially-unwanted-accessible/accessible-msrpc'],
    ['scan_pop3_vulnerable', 'vulnerable/vulnerable-system/vulnerable-pop3'],
    ['population_ntrip', 'other/other/accessible-ntrip'],
    ['scan_ssl_poodle', 'vulnerable/weak-crypto/ssl-poodle'],
    ['event4_initial_access_broker', 'malicious-code/infected-system/@infection'],
    ['targeted_host6', 'intrusion-attempts/exploit/targeted-host'],
    // Not in the schema yet: read like the IPv4/IPv6 twin.
    ['scan6_memcached', 'vulnerable/vulnerable-system/open-memcached'],
    ['event6_honeypot_brute_force', 'intrusion-attempts/brute-force/@application'],
  ];
  for (const [report, cls] of known) assert.equal(reportSchema(report)?.class, cls, report);
  assert.equal(Object.keys(REPORTS).length, 177);
  // Report types the schema does not name: the family rules.
  const families: Array<[string, string, string]> = [
    ['scan_foo_vulnerable', 'vulnerable-system', 'vulnerable-foo'],
    ['scan6_newservice', 'vulnerable-system', 'open-newservice'],
    ['event4_honeypot_foo_scan', 'scanner', 'honeypot-foo-scan'],
    ['event4_sinkhole_foo', 'infected-system', 'sinkhole'],
    ['compromised_router6', 'system-compromise', 'compromised-router'],
    ['some_future_report', 'undetermined', 'some-future-report'],
  ];
  for (const [report, type, identifier] of families) {
    assert.equal(reportSchema(report), undefined, report);
    assert.deepEqual(classifyReport(report), { type, identifier }, report);
  }
  assert.equal(reportTypeOf('/in/2026-11-25-event4_honeypot_brute_force-asia-jp-123-asn.csv'), 'event4_honeypot_brute_force');
  assert.equal(reportTypeOf('2026-11-25-scan6_rsync-asia-jp-asn64500.csv'), 'scan6_rsync');
  // The schema's own examples (report-filename.md): a number before the organisation, a suffix after it.
  assert.equal(reportTypeOf('2024-07-04-dns_openresolver-123-sample-asn.csv'), 'dns_openresolver');
  assert.equal(reportTypeOf('2020-04-03-scan_ics-sample-asn-delayed.csv'), 'scan_ics');
  assert.equal(reportTypeOf('events.csv'), undefined);
  // A file renamed on the way: the type from the mail's subject.
  assert.equal(subjectReportType('[SAMPLE] Shadowserver scan_http-sample Report: 2019-10-15'), 'scan_http');
  assert.equal(subjectReportType('[Shadowserver] scan6_ip_tunnel-asia-jp-asn64500 Report: 2026-11-25'), 'scan6_ip_tunnel');
  assert.equal(subjectReportType('[Shadowserver] JP - 2026-11-25 Open NTP Report'), undefined);
});

test('a Shadowserver CSV whose name names no report type is read by its columns', async () => {
  // The old drone layout that clearing houses attach under a random name: a sinkhole event, not a scan.
  const csv = '"timestamp","ip","port","asn","geo","hostname","type","infection","cc","cc_port","cc_dns"\n'
    + '"2026-11-25 00:45:59","203.0.113.13",2005,64500,"JP","h.example","udp","ZeroAccess","198.51.100.40",16465,"c2.example"\n';
  const events = [];
  for await (const b of csvEvents([csv], { filename: '8787fbe5-3755-4579-8492-2ab7fa2a7438.csv' })) events.push(...b);
  assert.equal(events.length, 1);
  assert.equal(events[0]['feed.name'], 'botnet_drone');
  assert.equal(events[0]['classification.type'], 'infected-system');
  assert.equal(events[0]['malware.name'], 'zeroaccess');
  assert.equal(events[0]['destination.ip'], '198.51.100.40');
});

test('the report schema table names only known classifications and event keys', () => {
  const taxonomies = new Set(Object.values(TAXONOMY));
  const keys = /^(?:extra\.[a-z0-9_.]+|=exchange|(?:source|destination)\.(?:ip|port|asn|fqdn|url|reverse_dns|network|account|local_hostname|geolocation\.(?:cc|region|city))|protocol\.(?:transport|application)|malware\.(?:name|hash\.(?:md5|sha1|sha256))|event_description\.text|classification\.identifier|time\.source)\??$/;
  for (const [report, s] of Object.entries(REPORTS)) {
    const [taxonomy, type, identifier] = s.class.split('/');
    assert.ok(taxonomies.has(taxonomy) && type in TAXONOMY && identifier, `${report}: ${s.class}`);
    if (identifier.startsWith('@')) assert.match(s.cols?.[identifier.slice(1)] ?? '', /classification\.identifier/, report);
    for (const [column, k] of Object.entries(s.cols ?? {})) for (const key of k.split(' ')) assert.match(key, keys, `${report}.${column}`);
  }
});

test('a CSV feed of 300,000 rows streams in batches with bounded memory', async () => {
  const rows = 300_000;
  async function* feed() {
    yield '"timestamp","ip","protocol","port","hostname","tag","asn","geo","region","city"\n';
    for (let i = 0; i < rows; i += 1000) {
      let chunk = '';
      for (let k = i; k < i + 1000; k++) chunk += `"2026-11-25 00:14:02","10.${(k >> 16) & 255}.${(k >> 8) & 255}.${k & 255}","udp",123,,"ntp",64500,"JP","TOKYO","CHIYODA"\n`;
      yield chunk;
    }
  }
  global.gc?.();
  const before = process.memoryUsage().heapUsed;
  let n = 0, peak = 0, last = '';
  for await (const batch of csvEvents(feed(), { filename: '2026-11-25-scan_ntp-x-y.csv' })) {
    n += batch.length;
    last = batch[batch.length - 1]['source.ip']!;
    if (n % 50_000 === 0) peak = Math.max(peak, process.memoryUsage().heapUsed - before);
  }
  assert.equal(n, rows);
  assert.equal(last, '10.4.147.223');
  assert.ok(peak < 150 * 1024 * 1024, `heap grew by ${peak} bytes`);
});

test('the stand-alone inventory matcher honours netblocks, names and validity', () => {
  const ours = ownedMatcher([
    { resource: '203.0.113.0/24' }, { resource: '2001:db8:1234::/48' },
    { resource: 'example-bank.jp', validFrom: '2026-11-01' },
  ]);
  assert.equal(ours('203.0.113.45'), true);
  assert.equal(ours('203.0.114.1'), false);
  assert.equal(ours('2001:db8:1234:5::25'), true);
  assert.equal(ours('https://secure-login.example-bank.jp/verify/'), true);
  assert.equal(ours('secure-login.example-bank.jp', new Date('2026-10-01')), false, 'not yet assigned then');
  assert.equal(ours('notexample-bank.jp'), false);
});

test('a JSON event list is read with the API rules; X-ARF JSON by its own parser', async () => {
  const ctx = { isOurs: () => false, limits: DEFAULT_LIMITS };
  const list = await parseReport(Buffer.from(JSON.stringify([{ 'source.ip': '203.0.113.5', 'classification.type': 'scanner', 'extra.count': 3 }])), ctx);
  assert.deepEqual([list.rejected, list.parser], [false, 'events']);
  assert.deepEqual(list.events, [{ 'source.ip': '203.0.113.5', 'classification.type': 'scanner', 'classification.taxonomy': 'information-gathering', 'extra.count': 3 }]);
  const bad = await parseReport(Buffer.from(JSON.stringify({ events: [{ 'source.ip': '203.0.113.5', 'Source IP': 'x' }] })), ctx);
  assert.deepEqual([bad.rejected, bad.reason], [true, 'malformed']);
  assert.match(bad.error!, /'Source IP' is not an IntelMQ harmonization key/);
  const xarf = await parseReport(Buffer.from(JSON.stringify({ xarf_version: '4.0.0', category: 'connection', type: 'port-scan', source_identifier: '2001:db8::7', timestamp: '2026-11-25T00:00:00Z', reporter: { org: 'Scan Watch' } })), ctx);
  assert.deepEqual(xarf.events.map((e) => [e['source.ip'], e['classification.type'], e['feed.provider']]), [['2001:db8::7', 'scanner', 'Scan Watch']]);
});

test('a zipped feed streams member by member, each with its own report type', async () => {
  const rows = (n: number, f: (i: number) => string) => Array.from({ length: n }, (_, i) => f(i)).join('\n') + '\n';
  const zip = zipSync({
    '2026-11-25-scan_rdp-asia-jp-asn64500.csv': new TextEncoder().encode('"timestamp","ip","port"\n' + rows(150_000, (i) => `"2026-11-25 03:01:44","203.0.${i >> 8 & 255}.${i & 255}",3389`)),
    'README.txt': new TextEncoder().encode('not a feed'),
    '2026-11-25-blocklist-asia-jp-asn64500.csv': new TextEncoder().encode('"timestamp","ip"\n' + rows(10, (i) => `"2026-11-25 00:00:00","192.0.2.${i}"`)),
  });
  async function* slowly() { for (let i = 0; i < zip.length; i += 4096) yield zip.subarray(i, i + 4096); }
  const counts: Record<string, number> = {};
  let largestBatch = 0;
  for await (const batch of csvEvents(slowly())) {
    largestBatch = Math.max(largestBatch, batch.length);
    for (const e of batch) counts[`${e['feed.name']} ${e['classification.type']}`] = (counts[`${e['feed.name']} ${e['classification.type']}`] ?? 0) + 1;
  }
  assert.deepEqual(counts, { 'scan_rdp vulnerable-system': 150_000, 'blocklist blacklist': 10 });
  assert.equal(largestBatch, 1000);
});

test('"from A to B": the words before A say nothing about B, in English or Japanese', () => {
  const pick = (text: string) => findSubjects(text, { isOurs: () => false }).map((s) => s.ip);
  assert.deepEqual(pick('SSH connections from 203.0.113.5 to 198.51.100.9 all night.'), ['203.0.113.5']);
  assert.deepEqual(pick('203.0.113.6 から 198.51.100.10 へのスキャンを検知しました。'), ['203.0.113.6']);
  assert.deepEqual(pick('弊社サーバー（198.51.100.7）に対して、貴社管理のIPアドレス 203.0.113.45 から攻撃'), ['203.0.113.45']);
});

test('a phishing URL named beside an address the inventory knows stays with it', () => {
  const text = [
    'Netcraft has identified a phishing site on your network:',
    'URL: https://login.bank.verify-acct.example/index.php',
    'IP address: 192.0.2.88',
    'Target: Example Bank (https://www.bank.example/)',
  ].join('\n');
  const pick = (isOurs: (r: string) => boolean) => findSubjects(text, { isOurs }).map((s) => [s.url, s.ip, s.ours]);
  assert.deepEqual(pick((r) => r === '192.0.2.88'), [['https://login.bank.verify-acct.example/index.php', '192.0.2.88', true]]);
  // The brand's own site is not taken along, and an address of ours alone stays alone.
  assert.deepEqual(findSubjects('Scanning from 192.0.2.88 against https://www.bank.example/ today.', { isOurs: (r) => r === '192.0.2.88' }).map((s) => [s.url, s.ip]),
    [[undefined, '192.0.2.88']]);
});

test('times beside what a report names: zones, abbreviations, none (the report language decides)', () => {
  const utc = () => 0, jst = () => 540;
  assert.equal(timeOn('Tested on:      2026-11-24 04:04:18 +0200', utc), '2026-11-24T02:04:18.000Z');
  assert.equal(timeOn('|2026-11-23 07:49:54 CET    |81328588 |192.0.2.81 |http://x.example/', utc), '2026-11-23T06:49:54.000Z');
  assert.equal(timeOn('- Time: 2026-11-22 17:03:11-07:00', utc), '2026-11-23T00:03:11.000Z');
  assert.equal(timeOn('2026-11-27 23:27:05\t198.51.100.13\t192.0.2.0/24', utc), '2026-11-27T23:27:05.000Z');
  assert.equal(timeOn('2026-11-27 23:27:05\t198.51.100.13', jst), '2026-11-27T14:27:05.000Z');
  assert.equal(timeOn('2026-13-27 23:27:05 and no date', utc), undefined);
  assert.equal(labelledTime('       - Time: 2026-11-22 17:03:11-07:00', utc), '2026-11-23T00:03:11.000Z');
  assert.equal(labelledTime('Report generated 2026-11-22 17:03:11', utc), undefined, 'only a labelled line dates the resource above it');
  assert.deepEqual(['+0900', '-07:00', 'CEST', 'UT', 'XYZ'].map(zoneOffset), [540, -420, 120, 0, undefined]);
});

test('mail dates with a zone comment or a zone abbreviation Date.parse does not know', () => {
  const iso = (v: string) => { const t = mailDate(v); return Number.isNaN(t) ? 'NaN' : new Date(t).toISOString(); };
  assert.equal(iso('Thu, 9 Apr 2026 23:34:45 JST'), '2026-04-09T14:34:45.000Z');
  assert.equal(iso('Thu, 27 Nov 2026 14:46:24 -0500 (EST)'), '2026-11-27T19:46:24.000Z');
  assert.equal(iso('Wed, 25 Nov 2026 10:05:31 CEST'), '2026-11-25T08:05:31.000Z');
  assert.equal(iso('Wed, 25 Nov 2026 10:05:31 XYZ'), 'NaN');
});

test('a field names the subject; the reporter\'s other domain and its advice links do not', () => {
  const text = [
    'IP:             198.51.100.55',
    'URL:            http://malware.shop-c.example/loader.js',
    'Tested on:      2026-11-24 04:04:18 +0100',
    '',
    'More details: https://www.csirt-portal.example/incident/6f1c0e2a',
    'Please ask your customer to visit https://www.pc-check.example/ for a free check of their PCs.',
  ].join('\n');
  const got = findSubjects(text, { isOurs: () => false, reporterDomains: new Set(['csirt-reporter.example', 'csirt-portal.example']) });
  assert.deepEqual(got.map((s) => [s.url, s.ip, s.time]), [['http://malware.shop-c.example/loader.js', '198.51.100.55', '2026-11-24T03:04:18.000Z']]);
});

test('an X-ARF mail without a report part of any kind is read as text', async () => {
  const mail = ['From: reports@reporter.example', 'To: abuse@provider.example', 'Subject: phishing site', 'X-ARF: yes',
    'Content-Type: text/plain', '', 'We have discovered a phishing attack located on your network:', '',
    'http://login-h.example/secure/ [198.51.100.78]', ''].join('\r\n');
  const r = await parseReport(Buffer.from(mail), { isOurs: () => false, limits: DEFAULT_LIMITS });
  assert.equal(r.parser, 'xarf');
  assert.deepEqual(r.events.map((e) => [e['source.url'], e['source.ip'], e['classification.type']]), [['http://login-h.example/secure/', '198.51.100.78', 'phishing']]);
});

test('a gzipped JSON attachment is inflated only up to the part limit; a broken one is no report', async () => {
  const mail = (gz: Buffer) => Buffer.from(['From: cert@aite.example', 'To: abuse@provider.example', 'Subject: AITE Notification',
    'Content-Type: multipart/mixed; boundary="b"', '', '--b', 'Content-Type: text/plain', '', 'The report is attached as a GZipped JSON file.',
    '--b', 'Content-Type: application/octet-stream; name="report.json.gz"', 'Content-Transfer-Encoding: base64', '',
    gz.toString('base64').replace(/.{76}/g, '$&\r\n'), '--b--', ''].join('\r\n'));
  const bomb = gzipSync(Buffer.alloc(DEFAULT_LIMITS.maxPartBytes + 1, 0x20));
  const r = await parseReport(mail(bomb), { isOurs: () => false, limits: DEFAULT_LIMITS });
  assert.equal(r.rejected, true);
  assert.equal(r.reason, 'zip');
  const broken = gzipSync(Buffer.from('{"raw_indicator": "192.0.2.45", "owner": {}, "type": "IP_ADDRESS"}')).subarray(0, 30);
  const b = await parseReport(mail(broken), { isOurs: () => false, limits: DEFAULT_LIMITS });
  assert.equal(b.rejected, false);
  assert.notEqual(b.parser, 'threatexchange');
});
