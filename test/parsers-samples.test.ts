// Every format module's sample files against the events expected beside them (IntelMQ's model):
// NAME.eml / NAME.json / NAME.csv with NAME.expected.json, parsed with the samples' inventory.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_LIMITS, parseReport } from '../src/parsers/index.js';
import { ownedFromCsv, ownedMatcher } from '../src/parsers/ours.js';

const root = fileURLToPath(new URL('../../src/parsers/', import.meta.url));
const isOurs = ownedMatcher(ownedFromCsv(readFileSync(join(root, 'samples-inventory.csv'), 'utf8')));
const modules = readdirSync(root).filter((m) => existsSync(join(root, m, 'samples')));

test('every format module has samples with expected events', () => {
  for (const m of ['arf', 'spamcop', 'xarf', 'abusehub', 'fail2ban', 'shadowserver', 'jpcert', 'acns', 'safebrowsing', 'threatexchange', 'haveibeenpwned', 'freeform', 'reject']) {
    assert.ok(modules.includes(m), `${m} has a samples folder`);
    const files = readdirSync(join(root, m, 'samples'));
    const inputs = files.filter((f) => !f.endsWith('.expected.json'));
    assert.ok(inputs.length >= 2, `${m} has at least two samples`);
    for (const f of inputs) assert.ok(files.includes(f.replace(/\.[a-z]+$/, '.expected.json')), `${m}/${f} has an expected file`);
  }
});

for (const m of modules) {
  const dir = join(root, m, 'samples');
  for (const f of readdirSync(dir).filter((x) => !x.endsWith('.expected.json'))) {
    test(`${m}/${f}`, async () => {
      const expected = JSON.parse(readFileSync(join(dir, f.replace(/\.[a-z]+$/, '.expected.json')), 'utf8'));
      const r = await parseReport(readFileSync(join(dir, f)), { isOurs, limits: DEFAULT_LIMITS }, { filename: f });
      const got = JSON.parse(JSON.stringify({ rejected: r.rejected, reason: r.reason, parser: r.parser, forward_consent: r.forwardConsent ?? null, events: r.events }));
      assert.deepEqual(got, expected);
      assert.equal(r.eventCount, r.events.length);
    });
  }
}
