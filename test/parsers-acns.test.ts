// ACNS notices: the XML reader under them, and what the letter around a block must not add.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseXml } from '../src/parsers/acns/xml.js';
import { DEFAULT_LIMITS, parseReport } from '../src/parsers/index.js';

const mail = (body: string) => Buffer.from(`From: Notices <n@agency.example>\nTo: abuse@hosting.example.jp\nSubject: Notice of infringement\nDate: Tue, 24 Nov 2026 10:00:00 +0000\nContent-Type: text/plain; charset=utf-8\n\n${body}\n`);
const parse = (body: string) => parseReport(mail(body), { isOurs: () => false, limits: DEFAULT_LIMITS });

test('the XML reader: prefixes and capitals, entities, CDATA, comments, stray and missing end tags', () => {
  const x = parseXml('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "boom">]><a:Root A:Kind=\'p2p\' b="1 &amp; 2"><!-- <c>no</c> --><C>x &lt;y&gt; &#x41;&#66; &e;</C><d><![CDATA[<raw> & ok]]></d></x><e/><f>open</Root>trailing');
  assert.ok(x);
  assert.equal(x.name, 'root');
  assert.deepEqual(x.attrs, { kind: 'p2p', b: '1 & 2' });
  assert.deepEqual(x.children.map((c) => [c.name, c.text]), [['c', 'x <y> AB &e;'], ['d', '<raw> & ok'], ['e', ''], ['f', 'open']]);
  assert.equal(parseXml('no markup at all'), null);
  assert.equal(parseXml('<unclosed attr="x'), null);
});

test('the XML reader stays linear on hostile input and caps depth and elements', () => {
  const deep = '<a>'.repeat(10_000) + 'x' + '</a>'.repeat(10_000);
  let depth = 0;
  for (let e = parseXml(deep); e; e = e.children[0]) depth++;
  assert.equal(depth, 32);
  assert.equal(parseXml('<r>' + '<i/>'.repeat(20_000) + '</r>')!.children.length, 4999);
  // Long runs that a backtracking pattern would take quadratic time over.
  const tag = parseXml(`<r ${'a'.repeat(300_000)}>${'<!-'.repeat(50_000)}</r>`);
  assert.deepEqual(tag?.attrs, {});
});

test('an ACNS block names the source; the namespace and schema URLs of the letter never do', async () => {
  const r = await parse(`We found your customer sharing our work. See http://www.acns.net/ACNS for the format.
<Infringement xmlns="http://www.acns.net/ACNS" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="http://www.acns.net/ACNS http://www.acns.net/v1.2/ACNS2v1_2.xsd">
<Source><TimeStamp>2026-11-24T09:58:41.5Z</TimeStamp><IP_Address>2001:DB8:0:0::7</IP_Address><Port>6881</Port><Type>P2P</Type><SubType BaseType="P2P" Protocol="eDonkey"/></Source>
<Content><Item><Title>A Work</Title><URL>http://tracker.example.net/announce</URL></Item></Content>
</Infringement>`);
  assert.equal(r.parser, 'acns');
  assert.deepEqual(r.events.map((e) => [e['source.ip'], e['source.port'], e['source.url'], e['time.source'], e['classification.identifier']]),
    [['2001:db8::7', 6881, undefined, '2026-11-24T09:58:41.500Z', 'p2p']]);
});

test('a notice whose block names nothing, or is cut off, is read as text instead', async () => {
  for (const block of ['<Infringement xmlns="http://www.acns.net/ACNS"><Case><ID>1</ID></Case></Infringement>', '<Infringement xmlns="http://www.acns.net/ACNS"><Source><IP_Address>192.0.2.7</IP_Address>']) {
    const r = await parse(`Please stop the copyright infringement from 198.51.100.23.\n${block}`);
    assert.equal(r.parser, 'freeform');
    assert.ok(r.events.some((e) => e['source.ip'] === '198.51.100.23'));
    assert.ok(!r.events.some((e) => String(e['source.fqdn'] ?? '').includes('acns.net')));
  }
});
