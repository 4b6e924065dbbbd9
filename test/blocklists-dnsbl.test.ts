import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { forEachStore } from './helpers/stores.js';
import { DnsblChecker, RateGate, expandAddresses, interpret, knownZone, queryName, type ZoneSpec } from '../src/blocklists/dnsbl.js';
import { checkDnsbl, type WatchDeps } from '../src/blocklists/watch.js';
import { blocklistSettings } from '../src/blocklists/settings.js';
import { listAlerts, listListings } from '../src/blocklists/store.js';
import { importInventory, rowsFromText } from '../src/inventory/import.js';
import { loadConfig, ConfigError } from '../src/config/config.js';
import { createLogger } from '../src/log.js';
import type { Event } from '../src/events/event.js';
import type { Db } from '../src/store/db.js';

/**
 * A DNS server on 127.0.0.1 that answers A queries from a table: a name with addresses gets them,
 * a name mapped to 'silent' gets no answer at all, any other name gets NXDOMAIN.
 */
class TinyDns {
  readonly answers = new Map<string, string[] | 'silent'>();
  readonly asked: string[] = [];
  private socket!: Socket;
  port = 0;

  async start(): Promise<void> {
    this.socket = createSocket('udp4');
    this.socket.on('message', (msg, peer) => {
      const q = readQuestion(msg);
      if (!q) return;
      this.asked.push(q.name);
      const a = this.answers.get(q.name.toLowerCase());
      if (a === 'silent') return;
      this.socket.send(answer(msg, q.end, q.type === 1 ? a ?? null : [], a === undefined), peer.port, peer.address);
    });
    await new Promise<void>((r) => this.socket.bind(0, '127.0.0.1', r));
    this.port = this.socket.address().port;
  }
  stop(): Promise<void> { return new Promise((r) => this.socket.close(() => r())); }
}

function readQuestion(msg: Buffer): { name: string; type: number; end: number } | null {
  if (msg.length < 17) return null;
  const labels: string[] = [];
  let i = 12;
  while (i < msg.length && msg[i] !== 0) {
    const len = msg[i];
    labels.push(msg.subarray(i + 1, i + 1 + len).toString('latin1'));
    i += len + 1;
  }
  if (i + 5 > msg.length) return null;
  return { name: labels.join('.'), type: msg.readUInt16BE(i + 1), end: i + 5 };
}

/** The reply: the question echoed, then one A record per address (or NXDOMAIN). */
function answer(query: Buffer, questionEnd: number, addresses: string[] | null, nxdomain: boolean): Buffer {
  const header = Buffer.alloc(12);
  query.copy(header, 0, 0, 2);
  header.writeUInt16BE(0x8180 | (nxdomain ? 3 : 0), 2);
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(nxdomain ? 0 : addresses?.length ?? 0, 6);
  const records = (nxdomain ? [] : addresses ?? []).map((a) => {
    const rr = Buffer.alloc(16);
    rr.writeUInt16BE(0xc00c, 0); // the name: a pointer to the question
    rr.writeUInt16BE(1, 2); rr.writeUInt16BE(1, 4); rr.writeUInt32BE(60, 6); rr.writeUInt16BE(4, 10);
    a.split('.').forEach((o, k) => rr.writeUInt8(Number(o), 12 + k));
    return rr;
  });
  return Buffer.concat([header, query.subarray(12, questionEnd), ...records]);
}

const zen = knownZone('zen.spamhaus.org')!;

test('query names: reversed octets for IPv4, reversed nibbles for IPv6', () => {
  assert.equal(queryName('192.0.2.99', 'zen.spamhaus.org'), '99.2.0.192.zen.spamhaus.org');
  assert.equal(queryName('2001:db8::1', 'dnsbl.example'),
    '1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.dnsbl.example');
  assert.equal(queryName('not-an-ip', 'x'), null);
});

test('return codes: meanings per zone; 127.255.255.x error codes and foreign answers are never a listing', () => {
  assert.deepEqual(interpret(zen, '192.0.2.1', ['127.0.0.2', '127.0.0.4']).meanings, ['SBL: spam source', 'XBL: exploited host']);
  assert.equal(interpret(zen, '192.0.2.1', ['127.0.0.2']).status, 'listed');
  for (const err of ['127.255.255.252', '127.255.255.254', '127.255.255.255']) {
    const r = interpret(zen, '192.0.2.1', [err]);
    assert.equal(r.status, 'error', err);
    assert.match(r.error!, /not a listing/);
  }
  assert.equal(interpret(zen, '192.0.2.1', ['127.0.0.2', '127.255.255.254']).status, 'error');
  assert.equal(interpret(zen, '192.0.2.1', ['93.184.216.34']).status, 'error');
  assert.deepEqual(interpret(zen, '192.0.2.1', ['127.0.0.99']).meanings, ['undocumented code 127.0.0.99']);
  const bare: ZoneSpec = { zone: 'bl.example', name: 'bl.example', codes: {}, type: 'blacklist' };
  assert.deepEqual(interpret(bare, '192.0.2.1', ['127.0.0.3']).meanings, ['listed (127.0.0.3)']);
});

test('the rate gate spaces queries 1/rate apart (a fake clock: no timing in the test)', async () => {
  let now = 1000;
  const slept: number[] = [];
  const gate = new RateGate(4, { now: () => now, sleep: async (ms) => { slept.push(ms); } });
  await Promise.all([gate.wait(), gate.wait(), gate.wait()]);
  assert.deepEqual(slept, [250, 500]);
  now += 2000;
  await gate.wait();
  assert.deepEqual(slept, [250, 500], 'after a quiet spell the next query goes at once');
});

test('addresses to check: single addresses and small CIDRs; wide ones refused', () => {
  const r = expandAddresses(['192.0.2.8/30', '2001:db8::/126', '198.51.100.1', '10.0.0.0/16', 'mail.example']);
  assert.deepEqual(r.ips, ['192.0.2.8', '192.0.2.9', '192.0.2.10', '192.0.2.11', '2001:db8::', '2001:db8::1', '2001:db8::2', '2001:db8::3', '198.51.100.1']);
  assert.deepEqual(r.refused, ['10.0.0.0/16', 'mail.example']);
});

test('zone configuration is checked', () => {
  const settings = (zones: unknown[]) => blocklistSettings(loadConfig({ env: {}, overrides: { blocklists: { dnsbl: { zones } } } }));
  assert.equal(settings(['bl.spamcop.net']).dnsbl.zones[0].codes['127.0.0.2'], 'SpamCop: reported spam source');
  assert.throws(() => settings(['unknown.example']), ConfigError);
  assert.throws(() => settings([{ zone: 'x.example', codes: { '10.0.0.1': 'no' } }]), ConfigError);
  assert.equal(settings([{ zone: 'X.Example', codes: { '127.0.0.2': 'listed' } }]).dnsbl.zones[0].zone, 'x.example');
});

test('a real UDP exchange with a DNS server on 127.0.0.1: listed, clear, error code, no answer', { timeout: 20000 }, async () => {
  const dns = new TinyDns();
  await dns.start();
  try {
    dns.answers.set('2.2.0.192.zen.spamhaus.org', ['127.0.0.2', '127.0.0.11']);
    dns.answers.set('3.2.0.192.zen.spamhaus.org', ['127.255.255.254']);
    dns.answers.set('4.2.0.192.zen.spamhaus.org', 'silent');
    const checker = new DnsblChecker({ resolvers: [`127.0.0.1:${dns.port}`], rate: 1000, timeoutMs: 300 });
    const r = await checker.checkAll(['192.0.2.1', '192.0.2.2', '192.0.2.3', '192.0.2.4'], [zen]);
    assert.deepEqual(r.map((x) => [x.ip, x.status]), [['192.0.2.1', 'clear'], ['192.0.2.2', 'listed'], ['192.0.2.3', 'error'], ['192.0.2.4', 'error']]);
    assert.deepEqual(r[1].meanings, ['SBL: spam source', 'PBL: end-user range (Spamhaus)']);
    assert.match(r[3].error!, /TIMEOUT/i);
    assert.ok(dns.asked.includes('1.2.0.192.zen.spamhaus.org'));
  } finally { await dns.stop(); }
});

const INVENTORY = `customer_id,customer_name,customer_email,language,brand,service_id,service_type,resource,valid_from,valid_to
c1,Mail Sender KK,ops@sender.example,ja,mh,vps-1,vps,192.0.2.0/29,2020-01-01,
`;

forEachStore('DNSBL checks recorded as listings', (store) => {
  const dns = new TinyDns();
  let db: Db;
  before(async () => {
    await dns.start();
    db = await store().open();
    assert.equal((await importInventory(db, rowsFromText(INVENTORY, 'csv'), { timezone: 'UTC' })).ok, true);
  });
  after(async () => { await dns.stop(); await db?.close(); });

  test('a listing starts, survives a failed query, and ends when the zone clears it', { timeout: 30000 }, async () => {
    const delivered: Event[] = [];
    const config = loadConfig({ env: {}, overrides: { blocklists: { dnsbl: {
      addresses: ['192.0.2.2', '198.51.100.25'], zones: [{ zone: 'bl.example', codes: { '127.0.0.2': 'spam source' }, type: 'spam', playbook: 'act' }],
      resolvers: [`127.0.0.1:${dns.port}`], rate: 1000, timeout: 0.3,
    } } } });
    const deps: WatchDeps = { db, dataDir: store().dataDir, settings: blocklistSettings(config), log: createLogger('silent'), deliver: async (e) => { delivered.push(...e); } };
    dns.answers.set('2.2.0.192.bl.example', ['127.0.0.2']);
    dns.answers.set('25.100.51.198.bl.example', ['127.0.0.2']);
    await checkDnsbl(deps, new Date('2024-06-01T00:00:00Z'));
    let rows = await listListings(db, { list: 'bl.example', active: true });
    assert.deepEqual(rows.map((r) => [r.entry, r.customer_id, r.netblock]).sort(), [['192.0.2.2', 'c1', '192.0.2.0/29'], ['198.51.100.25', null, null]]);
    assert.deepEqual(rows[0].detail, { codes: ['127.0.0.2'], meanings: ['spam source'] });
    assert.equal(delivered.length, 2);
    assert.equal(delivered[0]['classification.type'], 'spam');

    // The zone refuses the query (error code): nothing is concluded, the listing stays, an alert is raised.
    dns.answers.set('2.2.0.192.bl.example', ['127.255.255.254']);
    await checkDnsbl(deps, new Date('2024-06-02T00:00:00Z'));
    rows = await listListings(db, { list: 'bl.example', active: true });
    assert.equal(rows.length, 2);
    assert.match((await listAlerts(db, { list: 'bl.example', limit: 1 }))[0].message, /not a listing/);

    // NXDOMAIN: delisted, and the desk is told.
    dns.answers.delete('2.2.0.192.bl.example');
    await checkDnsbl(deps, new Date('2024-06-03T00:00:00Z'));
    rows = await listListings(db, { list: 'bl.example', active: true });
    assert.deepEqual(rows.map((r) => r.entry), ['198.51.100.25']);
    assert.equal(delivered.filter((e) => e['extra.blocklist.delisted'] === true).length, 1);
  });
});
