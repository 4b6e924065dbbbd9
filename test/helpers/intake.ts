// Shared material for the intake suites: a small inventory, report mails, hostile input.
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { importInventory, csvRows } from '../../src/inventory/import.js';
import { openDesk, type Desk } from '../../src/desk.js';
import { loadConfig, type Config } from '../../src/config/config.js';
import { createLogger } from '../../src/log.js';
import { stopIntake } from '../../src/intake/worker.js';
import type { TestStore } from './stores.js';

export const INVENTORY = 'customer_id,customer_name,customer_email,language,brand,service_id,service_type,resource,valid_from,valid_to\n' +
  'c1,Sample KK,abuse@sample.example,ja,main,vps-1,vps,203.0.113.0/24,2015-01-01,\n' +
  'c2,Other KK,ops@other.example,en,main,web-2,shared,shop.example.jp,2015-01-01,\n';

export async function loadInventory(desk: Desk, csv = INVENTORY): Promise<void> {
  const r = await importInventory(desk.db, csvRows(Readable.from([csv])), { timezone: 'UTC' });
  assert.ok(r.ok, JSON.stringify(r.errors));
  await desk.attribution.refresh();
}

export function mail(opts: { id?: string; body?: string; subject?: string; extraHeaders?: string } = {}): Buffer {
  return Buffer.from([
    ...(opts.extraHeaders ? [opts.extraHeaders] : []),
    'From: Honeypot Operator <abuse@reporter.example>',
    'To: abuse@desk.example',
    `Subject: ${opts.subject ?? 'SSH brute force from your network'}`,
    'Date: Tue, 24 Nov 2026 10:00:00 +0000',
    `Message-ID: <${opts.id ?? 'r1@reporter.example'}>`,
    'Content-Type: text/plain; charset=utf-8',
    '',
    opts.body ?? 'Hello,\r\n\r\nWe observed SSH brute force attempts from 203.0.113.9 against our servers.\r\n\r\n2026-11-24 09:12:01 sshd[1]: Failed password for root from 203.0.113.9 port 4242 ssh2\r\n\r\nPlease investigate.\r\n',
  ].join('\r\n'));
}

/** MIME parts nested far deeper than any real mail: the parsers must refuse, not recurse. */
export function mimeBomb(levels = 40): Buffer {
  let bomb = 'From: x@y.example\r\nSubject: bomb\r\nMessage-ID: <bomb@y.example>\r\n';
  for (let i = 0; i < levels; i++) bomb += `Content-Type: multipart/mixed; boundary="b${i}"\r\n\r\n--b${i}\r\n`;
  return Buffer.from(bomb + 'Content-Type: text/plain\r\n\r\n203.0.113.5\r\n');
}

/** A desk without the HTTP server, for the channels that do not need it (SMTP, IMAP, files). */
export async function openTestDesk(store: TestStore, configure?: (c: Config) => void): Promise<Desk & { close(): Promise<void> }> {
  const config = loadConfig({ env: {}, file: undefined });
  config.data_dir = store.dataDir;
  config.smtp.port = 0;
  configure?.(config);
  const desk = await openDesk(config, createLogger(process.env.TEST_LOG_LEVEL ?? 'silent'), await store.open());
  return { ...desk, async close() { await stopIntake(desk); desk.attribution.close(); await desk.db.close(); } };
}

const NTP_HEADER = '"timestamp","ip","protocol","port","hostname","tag","asn","geo","region","city","naics","sic","sector","severity","version","stratum","response_size","amplification"\n';

/** A Shadowserver scan_ntp report of `rows` rows, addresses cycling through 203.0.113.0/24 and 198.51.100.0/24. */
export function* shadowserverRows(rows: number): Generator<string> {
  yield NTP_HEADER;
  for (let i = 0; i < rows; i++) {
    const net = i % 2 ? '198.51.100' : '203.0.113';
    yield `"2026-11-25 00:${String(Math.floor(i / 60) % 60).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}","${net}.${i % 256}","udp",123,"ntp${i}.example","ntp-monitor",64500,"JP","TOKYO","CHIYODA",518210,0,"Hosting","medium",4,2,4680,"556.17"\n`;
  }
}

export const SHADOWSERVER_NAME = '2026-11-25-scan_ntp-asia-jp-asn64500.csv';
