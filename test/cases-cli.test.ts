// The case commands as a user runs them: `madoguchi audit verify` (and what it says after someone
// edits the trail in the database), `madoguchi stats`, `madoguchi cases ...`, on both stores.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { forEachStore } from './helpers/stores.js';
import { runCli } from './helpers/cli.js';
import { seedInventory, testEnv, ATTR, input } from './helpers/cases.js';
import { groupingOptions } from '../src/cases/env.js';
import { groupEvents } from '../src/cases/grouping.js';
import { createManualCase, transitionCase } from '../src/cases/cases.js';

forEachStore('case CLI', (store) => {
  let numbers: string[] = [];
  const cli = (...a: string[]) => { const s = store().cli(); return runCli([...s.args, ...a], { env: s.env }); };

  before(async () => {
    const db = await store().open();
    try {
      await seedInventory(db);
      const env = testEnv(db);
      const g = await groupEvents(db, [
        input('spam', ATTR.web1, '2026-11-20T00:00:00Z', { reportId: 1 }),
        input('copyright', ATTR.vps1, '2026-11-20T00:00:00Z', { reportId: 2 }),
      ], groupingOptions(env, new Date('2026-11-20T01:00:00Z')));
      numbers = g.map((c) => c.number);
      await transitionCase(env, g[0].id, { actor: 'op', roles: ['operator'], customerId: null }, null, 'notified', undefined, new Date('2026-11-20T03:00:00Z'));
      await createManualCase(env, { actor: 'legal', roles: ['legal'], customerId: null }, { title: 'Warrant', description: 'court order', channel: 'court', legal_kind: 'warrant' }, new Date('2026-11-21T00:00:00Z'));
    } finally { await db.close(); }
  });

  test('cases list and transition', async () => {
    const l = await cli('cases', 'list', '--json');
    assert.equal(l.code, 0, l.stderr);
    const rows = l.stdout.trim().split('\n').map((x) => JSON.parse(x));
    assert.equal(rows.length, 3);
    const t = await cli('cases', 'transition', numbers[1], 'resolved', '--as', 'op:sato', '--reason', 'taken down');
    assert.equal(t.code, 0, t.stderr);
    assert.match(t.stderr, /is now resolved/);
    const bad = await cli('cases', 'transition', numbers[1], 'notified');
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /cannot go from resolved to notified/);
    const shown = JSON.parse((await cli('cases', 'show', numbers[1])).stdout);
    assert.equal(shown.state, 'resolved');
  });

  test('stats for a year: text, JSON and CSV', async () => {
    const j = await cli('stats', '--year', '2026', '--json');
    assert.equal(j.code, 0, j.stderr);
    const s = JSON.parse(j.stdout);
    assert.equal(s.case_numbers_issued, 3);
    assert.equal(s.categories.spam_phishing.reports, 1);
    assert.equal(s.categories.rights_infringement.reports, 1);
    assert.equal(s.legal_requests.warrant, 1);
    assert.equal(s.medians.to_first_notice_s, 7200);
    const c = await cli('stats', '--year', '2026', '--csv');
    assert.match(c.stdout, /\ncategory,rights_infringement,reports,1\n/);
    const txt = await cli('stats', '--year', '2026');
    assert.match(txt.stdout, /case numbers issued\s+3/);
    assert.equal((await cli('stats', '--year', 'soon')).code, 2);
  });

  test('audit verify passes on an intact trail and names the entry someone changed', async () => {
    const ok = await cli('audit', 'verify');
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    assert.match(ok.stdout, /^ok: \d+ entries, head [0-9a-f]{64}\n$/);
    const db = await store().open();
    try {
      await db.exec(`ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only;
        UPDATE audit_log SET actor = 'someone else' WHERE seq = 2;
        ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only;`);
    } finally { await db.close(); }
    const bad = await cli('audit', 'verify');
    assert.equal(bad.code, 1);
    assert.match(bad.stdout, /^entry 2: content changed since it was written \(case\.opened, case \d+, by someone else\)$/m);
    assert.match(bad.stdout, /TAMPERED/);
    const json = JSON.parse((await cli('audit', 'verify', '--json')).stdout);
    assert.equal(json.ok, false);
    assert.deepEqual(json.problems.map((p: { seq: number }) => p.seq), [2]);
  });
});
