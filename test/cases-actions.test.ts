// Restrictions through real executors: a command on disk and a webhook on a local HTTP server,
// with approval by a second person, dry runs, recorded answers and one-step undo.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, writeFileSync, readFileSync, existsSync, rmSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { forEachStore } from './helpers/stores.js';
import { seedInventory, testEnv, ATTR, input } from './helpers/cases.js';
import type { Db } from '../src/store/db.js';
import type { CaseEnv } from '../src/cases/env.js';
import { groupingOptions } from '../src/cases/env.js';
import { groupEvents } from '../src/cases/grouping.js';
import { getCase, SYSTEM, type Viewer } from '../src/cases/cases.js';
import { approveAction, proposeAction, rejectAction, requestAction, undoAction } from '../src/cases/actions.js';
import { auditOf } from '../src/cases/audit.js';

const sato: Viewer = { actor: 'op:sato', roles: ['operator'], customerId: null };
const tanaka: Viewer = { actor: 'op:tanaka', roles: ['operator'], customerId: null };

forEachStore('case actions', (store) => {
  let db: Db;
  let env: CaseEnv;
  let dir: string;
  let hook: Server;
  const hits: { body: Record<string, unknown>; auth: string | undefined }[] = [];
  let hookStatus = 200;
  let vpsCase: number;
  let sharedCase: number;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'executor-'));
    // A network script as a provider would have one: records its arguments and answers.
    const script = join(dir, 'edge.sh');
    writeFileSync(script, `#!/bin/sh\necho "$@ case=$MADOGUCHI_CASE" >> "${dir}/edge.log"\necho "edge: $1 $2 ok"\n[ "$2" = "192.0.2.99" ] && { echo "router refused" >&2; exit 3; }\nexit 0\n`);
    chmodSync(script, 0o755);
    hook = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => { body += c; });
      req.on('end', () => {
        hits.push({ body: JSON.parse(body), auth: req.headers.authorization });
        res.writeHead(hookStatus, { 'content-type': 'application/json' }).end(JSON.stringify({ ticket: `NOC-${hits.length}` }));
      });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/restrict`;
    db = await store().open();
    await seedInventory(db);
    env = testEnv(db, { cases: { executors: [
      { action: 'null_route', command: [script, 'null_route', '{target}'] },
      { action: 'remove_null_route', command: [script, 'remove_null_route', '{target}'] },
      { action: 'suspend', command: [script, 'suspend', '{target}'] },
      { action: 'block_url', url, headers: { authorization: 'Bearer noc-token' } },
    ] } });
    const g = await groupEvents(db, [
      input('phishing', ATTR.vps1, '2026-11-20T00:00:00Z', {}, { 'source.ip': '192.0.2.50' }),
      input('phishing', ATTR.web1, '2026-11-20T00:00:00Z', {}, { 'source.url': 'http://shop.example/wp/login.php' }),
    ], groupingOptions(env, new Date('2026-11-20T01:00:00Z')));
    vpsCase = g.find((c) => c.inputs.includes(0))!.id;
    sharedCase = g.find((c) => c.inputs.includes(1))!.id;
  });
  after(async () => { await db?.close(); hook?.close(); rmSync(dir, { recursive: true, force: true }); });

  test('a null-route waits for a second person, runs the command, records its answer and escalates the case', async () => {
    const a = await requestAction(env, vpsCase, sato, { action: 'null_route', reason: 'phishing still online after the deadline' });
    assert.equal(a.status, 'pending_approval');
    assert.ok(!existsSync(join(dir, 'edge.log')), 'nothing ran before approval');
    await assert.rejects(approveAction(env, Number(a.id), sato), /needs a second person: op:sato asked for it/);
    const done = await approveAction(env, Number(a.id), tanaka);
    assert.equal(done.status, 'done');
    assert.equal(done.approved_by, 'op:tanaka');
    assert.equal(done.requested_by, 'op:sato');
    assert.equal(done.result?.ok, true);
    assert.equal((done.result?.answer as { exit_code: number }).exit_code, 0);
    assert.match((done.result?.answer as { stdout: string }).stdout, /edge: null_route 192\.0\.2\.50 ok/);
    const c = await getCase(env, vpsCase, SYSTEM);
    assert.match(readFileSync(join(dir, 'edge.log'), 'utf8'), new RegExp(`null_route 192\\.0\\.2\\.50 case=${c.number}`));
    assert.equal(c.state, 'escalated');
    const trail = (await auditOf(db, vpsCase)).filter((e) => e.action.startsWith('action.') || e.action === 'case.state');
    assert.deepEqual(trail.map((e) => `${e.action}:${e.actor}`), ['action.requested:op:sato', 'action.approved:op:tanaka', 'action.done:op:tanaka', 'case.state:op:tanaka']);
    assert.equal((trail[0].change as { reason: string }).reason, 'phishing still online after the deadline');

    // Undo is one call: the inverse runs at once and both actions point at each other.
    const undo = await undoAction(env, Number(a.id), tanaka, 'customer removed the kit');
    assert.equal(undo.action, 'remove_null_route');
    assert.equal(undo.status, 'done');
    assert.equal(Number(undo.undo_of), Number(a.id));
    assert.match(readFileSync(join(dir, 'edge.log'), 'utf8'), /remove_null_route 192\.0\.2\.50/);
    await assert.rejects(undoAction(env, Number(a.id), tanaka, 'again'), /already undone/);
    await assert.rejects(undoAction(env, Number(undo.id), tanaka, 'x'), /cannot be undone/);
  });

  test('a failing command is recorded as failed with its exit code and stderr', async () => {
    const a = await requestAction(env, vpsCase, sato, { action: 'null_route', target: '192.0.2.99', reason: 'test' });
    const r = await approveAction(env, Number(a.id), tanaka);
    assert.equal(r.status, 'failed');
    assert.equal((r.result?.answer as { exit_code: number }).exit_code, 3);
    assert.match((r.result?.answer as { stderr: string }).stderr, /router refused/);
  });

  test('a dry run records the command it would run and runs nothing', async () => {
    const before = readFileSync(join(dir, 'edge.log'), 'utf8');
    const a = await requestAction(env, vpsCase, sato, { action: 'suspend', reason: 'what would happen', dryRun: true });
    assert.equal(a.status, 'dry_run');
    assert.deepEqual((a.result?.request as { command: string[] }).command.slice(1), ['suspend', 'vps-1']);
    assert.equal(readFileSync(join(dir, 'edge.log'), 'utf8'), before);
  });

  test('on shared hosting the URL block runs at once through the webhook, whose answer is kept', async () => {
    const a = await requestAction(env, sharedCase, sato, { action: 'block_url', target: 'http://shop.example/wp/login.php', reason: 'phishing kit' });
    assert.equal(a.status, 'done');
    assert.equal(hits.length, 1);
    assert.equal(hits[0].auth, 'Bearer noc-token');
    assert.deepEqual({ ...hits[0].body, case: undefined }, { action: 'block_url', target: 'http://shop.example/wp/login.php', case: undefined, reason: 'phishing kit', requested_by: 'op:sato', approved_by: null, dry_run: false });
    assert.deepEqual(a.result?.answer, { status: 200, body: '{"ticket":"NOC-1"}' });
    hookStatus = 500;
    const b = await requestAction(env, sharedCase, sato, { action: 'block_url', target: 'http://shop.example/x', reason: 'again' });
    assert.equal(b.status, 'failed');
    assert.equal((b.result?.answer as { status: number }).status, 500);
  });

  test('what the playbook does not allow on a service type is refused; a missing executor is a recorded failure', async () => {
    await assert.rejects(requestAction(env, vpsCase, sato, { action: 'block_url', target: 'http://x/', reason: 'r' }), /allows no block_url on a vps service/);
    await assert.rejects(requestAction(env, vpsCase, sato, { action: 'explode', reason: 'r' }), /unknown action/);
    await assert.rejects(requestAction(env, vpsCase, sato, { action: 'suspend', reason: '  ' }), /needs a reason/);
    const a = await requestAction(env, sharedCase, sato, { action: 'unblock_url', target: 'http://shop.example/x', reason: 'r' });
    assert.equal(a.status, 'failed');
    assert.match(String((a.result?.answer as { error: string }).error), /no executor is configured for unblock_url/);
  });

  test('a proposal from an escalation step is taken up by one person and approved by another, or rejected', async () => {
    const c = await getCase(env, vpsCase, SYSTEM);
    const id = await db.transaction((tx) => proposeAction(tx, env, c, 'suspend', new Date()));
    const taken = await approveAction(env, id!, sato);
    assert.equal(taken.status, 'pending_approval');
    assert.equal(taken.requested_by, 'op:sato');
    const ran = await approveAction(env, id!, tanaka);
    assert.equal(ran.status, 'done');
    const id2 = await db.transaction((tx) => proposeAction(tx, env, c, 'suspend', new Date()));
    const no = await rejectAction(env, id2!, tanaka, 'customer answered');
    assert.equal(no.status, 'rejected');
    await assert.rejects(approveAction(env, id2!, sato), /rejected, not waiting for approval/);
  });
});
