import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { forEachStore } from './helpers/stores.js';
import { runCli } from './helpers/cli.js';

const work = mkdtempSync(join(tmpdir(), 'madoguchi-bl-cli-'));
after(() => rmSync(work, { recursive: true, force: true }));
const INVENTORY = join(work, 'inventory.csv');
writeFileSync(INVENTORY, 'customer_id,customer_name,customer_email,language,brand,service_id,service_type,resource,valid_from,valid_to\n' +
  'c100,Sample KK,abuse@sample.example,ja,main,vps-100,vps,203.0.113.0/24,2015-01-01,\n' +
  'c300,Cloud LLC,ops@cloud.example,ja,cloud,iaas-300,iaas,2001:db8:1234::/48,2018-01-01,\n' +
  'c500,Old Holder,old@old.example,en,main,vps-500,vps,192.0.2.0/28,2016-01-01,2022-12-31\n' +
  'c600,New Holder,new@new.example,en,main,vps-600,vps,192.0.2.0/28,2023-01-01,\n');

// A FireHOL checkout in miniature: lists, and files that are not lists.
const FIREHOL = join(work, 'blocklist-ipsets');
mkdirSync(FIREHOL);
writeFileSync(join(FIREHOL, 'README.md'), '192.0.2.1\n');
writeFileSync(join(FIREHOL, 'firehol_level1.netset'), '#\n# firehol_level1\n#\n# Maintainer      : FireHOL\n# Category        : attacks\n#\n203.0.113.128/25\n0.0.0.0/8\n');
writeFileSync(join(FIREHOL, 'blocklist_de.ipset'), '#\n# Maintainer      : Blocklist.de\n# Category        : attacks\n#\n192.0.2.9\n2001:db8:1234:1::7\n198.51.100.1\n');
const DROP = join(work, 'drop.txt');
writeFileSync(DROP, '; Spamhaus DROP List\n203.0.113.0/26 ; SBL1\nthis is not an address\n');

forEachStore('blocklists CLI', (store) => {
  test('check prints one JSON line per listed inventory address or range; malformed lines on stderr', { timeout: 300_000 }, async () => {
    const { args, env } = store().cli();
    const imp = await runCli([...args, 'inventory', 'import', INVENTORY], { env });
    assert.equal(imp.code, 0, imp.stderr);

    const r = await runCli([...args, 'blocklists', 'check', '--json', FIREHOL, DROP], { env });
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(lines, [
      { list: 'blocklist_de', entry: '192.0.2.9', ip_count: 1, customer_id: 'c600', service_id: 'vps-600', netblock: '192.0.2.0/28' },
      { list: 'blocklist_de', entry: '2001:db8:1234:1::7', ip_count: 1, customer_id: 'c300', service_id: 'iaas-300', netblock: '2001:db8:1234::/48' },
      { list: 'firehol_level1', entry: '203.0.113.128/25', ip_count: 128, customer_id: 'c100', service_id: 'vps-100', netblock: '203.0.113.0/24' },
      { list: 'drop', entry: '203.0.113.0/26', ip_count: 64, customer_id: 'c100', service_id: 'vps-100', netblock: '203.0.113.0/24' },
    ]);
    assert.match(r.stderr, /drop: 1 malformed line\(s\), first at line 3: "this is not an address"/);

    // History: in 2020 the /28 belonged to the old holder.
    const past = await runCli([...args, 'blocklists', 'check', '--at', '2020-06-01T00:00:00Z', join(FIREHOL, 'blocklist_de.ipset')], { env });
    assert.equal(past.stdout, 'blocklist_de\t192.0.2.9\t1\tc500\tvps-500\t192.0.2.0/28\n' +
      'blocklist_de\t2001:db8:1234:1::7\t1\tc300\tiaas-300\t2001:db8:1234::/48\n');

    const usage = await runCli([...args, 'blocklists', 'check'], { env });
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /give list files or directories/);
  });

  test('sync from a configured directory, then listings and the report', { timeout: 300_000 }, async () => {
    const { args, env } = store().cli();
    const config = join(work, `madoguchi-${store().kind}.yaml`);
    writeFileSync(config, `blocklists:\n  sources:\n    - { path: ${JSON.stringify(FIREHOL)}, playbook: act }\n    - { name: drop, path: ${JSON.stringify(DROP)} }\n`);
    const s = await runCli([...args, '--config', config, 'blocklists', 'sync'], { env });
    assert.equal(s.code, 0, s.stderr);
    assert.deepEqual(s.stdout.trim().split('\n').map((l) => l.split('\t').slice(0, 3)), [
      ['blocklist_de', 'updated', 'listed +2 -0 =0'],
      ['firehol_level1', 'updated', 'listed +1 -0 =0'],
      ['drop', 'updated', 'listed +1 -0 =0'],
    ]);
    const l = await runCli([...args, '--config', config, 'blocklists', 'listings', '--json', '--list', 'firehol_level1'], { env });
    const [row] = l.stdout.trim().split('\n').map((x) => JSON.parse(x));
    assert.equal(row.entry, '203.0.113.128/25');
    assert.equal(row.customer_id, 'c100');
    assert.equal(row.decision, 'act');
    assert.notEqual(row.event_sent_at, null, 'handed to the desk through intake');

    const rep = await runCli([...args, '--config', config, 'blocklists', 'report', '--json'], { env });
    assert.equal(rep.code, 0, rep.stderr);
    const report = rep.stdout.trim().split('\n').map((x) => JSON.parse(x));
    const drop = report.find((q: { list: string }) => q.list === 'drop');
    assert.equal(drop.malformed, 1);
    assert.deepEqual(drop.overlap, [], 'drop shares no address with the other lists');
    const level1 = report.find((q: { list: string }) => q.list === 'firehol_level1');
    assert.equal(level1.maintainer, 'FireHOL');
    assert.equal(level1.unique_ips, 128 + 2 ** 24);
    const text = await runCli([...args, '--config', config, 'blocklists', 'report'], { env });
    assert.match(text.stdout, /firehol_level1 {2}\[ok\] {2}attacks \/ FireHOL/);
  });
});
