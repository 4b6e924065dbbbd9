import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AttributionIndex, normalizeName, type AssignmentInput, type Holder } from '../src/attribution/index.js';
import { parseIPv4, parseIPv6, formatIPv6, parseRange, formatRange, cidrPrefix } from '../src/attribution/ip.js';

const holder = (n: string, type = 'vps'): Holder => ({ customer_id: `c-${n}`, service_id: `s-${n}`, service_type: type, brand: 'main' });
const T = (s: string) => Date.parse(s);
const a = (h: Holder, resource: string, from = '2000-01-01', to?: string): AssignmentInput =>
  ({ holder: h, resource, validFrom: T(from), validTo: to ? T(to) : Infinity });

test('IPv4 parsing refuses what is not a dotted quad', () => {
  assert.equal(parseIPv4('192.0.2.1'), 0xc0000201);
  assert.equal(parseIPv4('255.255.255.255'), 0xffffffff);
  assert.equal(parseIPv4('0.0.0.0'), 0);
  for (const bad of ['256.0.0.1', '1.2.3', '1.2.3.4.5', '01.2.3.4', '1..2.3', '', '1.2.3.4 ', 'a.b.c.d', '1.2.3.-4']) assert.equal(parseIPv4(bad), -1, bad);
});

test('IPv6 parsing and RFC 5952 formatting', () => {
  const w = new Uint32Array(4);
  const cases: [string, string][] = [
    ['2001:db8::1', '2001:db8::1'], ['2001:DB8:0:0:0:0:0:1', '2001:db8::1'], ['::', '::'], ['::1', '::1'],
    ['fe80::', 'fe80::'], ['2001:db8:0:1:0:0:0:1', '2001:db8:0:1::1'], ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'],
    ['::ffff:192.0.2.1', '::ffff:c000:201'], ['1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8'], ['2001:db8::1:0:0:1', '2001:db8::1:0:0:1'],
  ];
  for (const [i, o] of cases) { assert.ok(parseIPv6(i, w), i); assert.equal(formatIPv6(w), o, i); }
  for (const bad of [':::', '1:2:3:4:5:6:7:8:9', '2001:db8::1::2', '12345::', 'g::1', '1:2:3:4:5:6:7', ':1:2:3:4:5:6:7', '1::2:', '']) assert.equal(parseIPv6(bad, w), false, bad);
});

test('ranges: CIDRs, dash ranges, host bits, prefixes', () => {
  const r = parseRange('192.0.2.0/24');
  assert.ok(typeof r !== 'string');
  assert.equal(formatRange(r), '192.0.2.0/24');
  assert.match(String(parseRange('192.0.2.1/24')), /host bits set.*192\.0\.2\.0\/24/);
  assert.match(String(parseRange('192.0.2.0/33')), /bad prefix/);
  assert.match(String(parseRange('192.0.2.9-192.0.2.1')), /ends before/);
  assert.match(String(parseRange('192.0.2.1-2001:db8::1')), /mixes/);
  const d = parseRange('192.0.2.0-192.0.2.255');
  assert.ok(typeof d !== 'string');
  assert.equal(formatRange(d), '192.0.2.0/24');
  const odd = parseRange('192.0.2.5-192.0.2.20');
  assert.ok(typeof odd !== 'string');
  assert.equal(cidrPrefix(odd), -1);
  assert.equal(formatRange(odd), '192.0.2.5-192.0.2.20');
  const v6 = parseRange('2001:db8::/32');
  assert.ok(typeof v6 !== 'string');
  assert.equal(formatRange(v6), '2001:db8::/32');
  assert.equal(formatRange(parseRange('::/0') as never), '::/0');
  assert.equal(formatRange(parseRange('0.0.0.0/0') as never), '0.0.0.0/0');
});

test('longest prefix wins, and history picks who held it then', () => {
  const reseller = holder('reseller', 'reseller'), sub = holder('sub'), old = holder('old'), now = holder('now', 'dedicated');
  const idx = AttributionIndex.build([
    a(reseller, '198.51.100.0/24'),
    a(sub, '198.51.100.64/28'),
    a(old, '192.0.2.0/28', '2016-01-01', '2023-01-01'),
    a(now, '192.0.2.0/28', '2023-01-10'),
    a(sub, '2001:db8:100::/48'),
    a(reseller, '2001:db8::/32'),
  ]);
  const at = T('2024-05-01');
  assert.equal(idx.attribute('198.51.100.70', at)?.service_id, 's-sub');
  assert.equal(idx.attribute('198.51.100.80', at)?.service_id, 's-reseller');
  assert.equal(idx.attribute('198.51.100.79', at)?.resource, '198.51.100.64/28');
  assert.equal(idx.attribute('192.0.2.3', T('2020-03-15'))?.service_id, 's-old');
  assert.equal(idx.attribute('192.0.2.3', at)?.service_id, 's-now');
  assert.equal(idx.attribute('192.0.2.3', T('2023-01-05')), null, 'nobody held it between the two contracts');
  assert.equal(idx.attribute('192.0.2.3', T('2010-01-01')), null);
  assert.equal(idx.attribute('2001:db8:100:5::1', at)?.service_id, 's-sub');
  assert.equal(idx.attribute('2001:db8:ffff::1', at)?.service_id, 's-reseller');
  assert.equal(idx.attribute('2001:db9::1', at), null);
  assert.equal(idx.attribute('8.8.8.8', at), null);
  // A range goes to the most specific block that holds all of it.
  assert.equal(idx.attribute('198.51.100.64/28', at)?.service_id, 's-sub');
  assert.equal(idx.attribute('198.51.100.66-198.51.100.70', at)?.service_id, 's-sub');
  assert.equal(idx.attribute('198.51.100.0/25', at)?.service_id, 's-reseller');
  assert.equal(idx.attribute('198.51.100.0/23', at), null);
});

test('names: most specific suffix, URLs, e-mail, host:port, IDN, case and trailing dot', () => {
  const shop = holder('shop', 'shared'), www = holder('www', 'shared'), idn = holder('idn', 'shared');
  const idx = AttributionIndex.build([a(shop, 'example.jp'), a(www, 'www.shop.example.jp'), a(idn, 'ドメイン.example')]);
  assert.equal(idx.attribute('shop.example.jp')?.service_id, 's-shop');
  assert.equal(idx.attribute('www.shop.example.jp')?.service_id, 's-www');
  assert.equal(idx.attribute('a.www.shop.example.jp')?.service_id, 's-www');
  assert.equal(idx.attribute('EXAMPLE.JP.')?.service_id, 's-shop');
  assert.equal(idx.attribute('https://www.shop.example.jp:8443/login?x=1')?.service_id, 's-www');
  assert.equal(idx.attribute('webmaster@example.jp')?.service_id, 's-shop');
  assert.equal(idx.attribute('example.jp:25')?.service_id, 's-shop');
  assert.equal(idx.attribute('xn--eckwd4c7c.example')?.service_id, 's-idn');
  assert.equal(idx.attribute('ドメイン.example')?.service_id, 's-idn');
  assert.equal(idx.attribute('notexample.jp'), null);
  assert.equal(idx.attribute('jp'), null);
  assert.equal(normalizeName('bad..name'), '');
  assert.equal(normalizeName('<script>.jp'), '');
});

test('overlapping assignments are reported; the more specific one wins', () => {
  const x = holder('x'), y = holder('y'), z = holder('z');
  const idx = AttributionIndex.build([
    a(x, '203.0.113.0/24'), a(y, '203.0.113.0/24', '2020-01-01'), a(z, '203.0.113.10-203.0.113.300'.replace('300', '30')),
  ]);
  assert.ok(idx.conflictCount >= 3);
  const kinds = new Set(idx.conflicts.map((c) => c.kind));
  assert.ok(kinds.has('same-range') && kinds.has('overlap'));
  assert.equal(idx.attribute('203.0.113.20', T('2024-01-01'))?.service_id, 's-z');
  // Same range held twice at once: the newer assignment wins.
  assert.equal(idx.attribute('203.0.113.200', T('2024-01-01'))?.service_id, 's-y');
  assert.equal(idx.attribute('203.0.113.200', T('2010-01-01'))?.service_id, 's-x');
});

test('partly overlapping ranges, edges of the address space', () => {
  const p = holder('p'), q = holder('q'), top = holder('top'), all = holder('all');
  const idx = AttributionIndex.build([
    a(p, '10.0.0.0-10.0.0.100'), a(q, '10.0.0.50-10.0.0.200'), a(top, '255.255.255.0/24'), a(all, '0.0.0.0/0', '2000-01-01', '2001-01-01'),
    a(top, 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ff00/120'),
  ]);
  assert.equal(idx.attribute('10.0.0.10')?.service_id, 's-p');
  assert.equal(idx.attribute('10.0.0.75')?.service_id, 's-p', 'smaller range wins where both cover');
  assert.equal(idx.attribute('10.0.0.150')?.service_id, 's-q');
  assert.equal(idx.attribute('255.255.255.255')?.service_id, 's-top');
  assert.equal(idx.attribute('ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff')?.service_id, 's-top');
  assert.equal(idx.attribute('1.1.1.1', T('2000-06-01'))?.service_id, 's-all');
  assert.equal(idx.attribute('1.1.1.1'), null);
});

test('the index agrees with a brute-force scan on random nested netblocks with history', () => {
  let seed = 42;
  const rnd = () => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed / 0x7fffffff; };
  const holders = Array.from({ length: 50 }, (_, i) => holder(String(i)));
  const items: AssignmentInput[] = [];
  for (let i = 0; i < 3000; i++) {
    const plen = 16 + Math.floor(rnd() * 17);
    const base = (Math.floor(rnd() * 65536) << 16 >>> 0) & 0xfff0ffff;
    const mask = plen === 32 ? 0xffffffff : (0xffffffff << (32 - plen)) >>> 0;
    const net = ((0x0a000000 | (base & 0x00ffffff)) & mask) >>> 0;
    const ip = `${net >>> 24}.${(net >>> 16) & 255}.${(net >>> 8) & 255}.${net & 255}/${plen}`;
    const from = Date.UTC(2010 + Math.floor(rnd() * 10), 0, 1);
    const to = rnd() < 0.5 ? Infinity : from + Math.floor(rnd() * 5 * 365) * 86400000 + 86400000;
    items.push({ holder: holders[Math.floor(rnd() * holders.length)], resource: ip, validFrom: from, validTo: to });
  }
  const idx = AttributionIndex.build(items);
  const ranges = items.map((it) => parseRange(it.resource) as Exclude<ReturnType<typeof parseRange>, string>);
  for (let q = 0; q < 5000; q++) {
    const target = items[Math.floor(rnd() * items.length)];
    const r = ranges[items.indexOf(target)];
    const ip = (r.first[0] + Math.floor(rnd() * (r.last[0] - r.first[0] + 1))) >>> 0;
    const at = Date.UTC(2008 + Math.floor(rnd() * 18), Math.floor(rnd() * 12), 1);
    let best = -1;
    for (let i = 0; i < items.length; i++) {
      const x = ranges[i], it = items[i];
      if (x.first[0] <= ip && ip <= x.last[0] && it.validFrom <= at && at < it.validTo) {
        const size = x.last[0] - x.first[0], bs = best < 0 ? Infinity : ranges[best].last[0] - ranges[best].first[0];
        if (size < bs || (size === bs && it.validFrom > items[best].validFrom)) best = i;
      }
    }
    const got = idx.attributeIPv4(ip, at);
    assert.equal(got?.service_id ?? null, best < 0 ? null : items[best].holder.service_id, `ip ${ip} at ${new Date(at).toISOString()}`);
  }
});
