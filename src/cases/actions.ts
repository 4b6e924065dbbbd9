// Restrictions (suspend, null-route, block URL, stop a program) and their undo. An executor is a
// configured command or webhook; what it answered is recorded on the action. Where the playbook
// asks for approval, a second person, not the requester, must approve before anything runs. A
// dry run records what would be run without running it.
import { spawn } from 'node:child_process';
import type { Db } from '../store/db.js';
import { appendAudit } from './audit.js';
import { getCase, mutateCase, statePatch, SYSTEM, variantOf, visibleTo, type CaseRow, type Viewer } from './cases.js';
import type { CaseEnv } from './env.js';
import { CaseNotFound, CaseRuleError } from './errors.js';
import { ACTIONS, UNDO, type ActionName } from './playbooks.js';
import { canTransition } from './states.js';

export interface ExecutorConfig {
  action: ActionName;
  /** argv; {case}, {target}, {action} are filled in. */
  command?: string[];
  url?: string;
  headers?: Record<string, string>;
}

export interface ActionRow {
  id: string; case_id: string; action: ActionName; target: string; reason: string; dry_run: boolean; needs_approval: boolean;
  status: 'proposed' | 'pending_approval' | 'done' | 'failed' | 'dry_run' | 'rejected';
  requested_by: string | null; requested_at: Date | null; approved_by: string | null; approved_at: Date | null;
  executed_at: Date | null; result: Record<string, unknown> | null; undo_of: string | null; undone_by: string | null; created_at: Date;
}

/** What the executor was given and what it answered, kept on the action. */
export interface ExecutorResult { ok: boolean; executor: string; request: unknown; answer: Record<string, unknown> }

const MAX_OUTPUT = 65536;
const RESTRICTIONS: ActionName[] = ['suspend', 'null_route', 'block_url', 'stop_program'];

export function executorsOf(env: CaseEnv): ExecutorConfig[] {
  return env.config.cases.executors.map((e, i) => {
    const x = e as unknown as ExecutorConfig;
    if (!ACTIONS.includes(x.action)) throw new CaseRuleError(`cases.executors[${i}]: unknown action '${String(x.action)}'`);
    if (!(Array.isArray(x.command) && x.command.length && x.command.every((a) => typeof a === 'string')) && typeof x.url !== 'string') {
      throw new CaseRuleError(`cases.executors[${i}]: needs command (a list of strings) or url`);
    }
    return x;
  });
}

/** The default target of an action on a case: the service for suspensions, the reported resource otherwise. */
function defaultTarget(row: CaseRow, action: ActionName): string | null {
  return action === 'suspend' || action === 'unsuspend' ? row.service_id : row.resource;
}

export async function actionsOf(env: CaseEnv, row: CaseRow): Promise<ActionRow[]> {
  return (await env.db.query<ActionRow>('SELECT * FROM case_actions WHERE case_id = $1 ORDER BY id', [row.id])).rows;
}

async function actionFor(env: CaseEnv, id: number, viewer: Viewer, tx: Db): Promise<{ action: ActionRow; row: CaseRow }> {
  const params: unknown[] = [id];
  const r = await tx.query<ActionRow & { c: CaseRow }>(
    `SELECT a.*, to_jsonb(c) AS c FROM case_actions a JOIN cases c ON c.id = a.case_id WHERE a.id = $1 AND ${visibleTo(viewer, params, 'c')} FOR UPDATE OF a`, params);
  if (!r.rows.length) throw new CaseNotFound(`action ${id}`);
  const { c, ...action } = r.rows[0];
  return { action: action as ActionRow, row: c };
}

export interface ActionRequest { action: string; target?: string | null; reason: string; dryRun?: boolean }

/**
 * Asks for a restriction on a case. It runs at once unless the playbook wants a second person's
 * approval (and it is not a dry run); then it waits in pending_approval.
 */
export async function requestAction(env: CaseEnv, ref: string | number, viewer: Viewer, req: ActionRequest, now = new Date()): Promise<ActionRow> {
  const row = await getCase(env, ref, viewer);
  const name = req.action as ActionName;
  if (!ACTIONS.includes(name)) throw new CaseRuleError(`unknown action '${req.action}' (actions: ${ACTIONS.join(', ')})`);
  const policy = variantOf(env, row).actions[name];
  if (!policy) {
    throw new CaseRuleError(`the playbook ${row.playbook} allows no ${name} on a ${row.service_type ?? 'unattributed'} service (allowed: ${Object.keys(variantOf(env, row).actions).join(', ') || 'none'})`);
  }
  const target = req.target ?? defaultTarget(row, name);
  if (!target) throw new CaseRuleError(`${name} needs a target and the case has none`);
  if (!req.reason.trim()) throw new CaseRuleError('a restriction needs a reason: it is part of the record');
  const waits = policy.approval && !req.dryRun;
  const action = await insertAction(env, row, viewer, { action: name, target, reason: req.reason, dryRun: !!req.dryRun, needsApproval: policy.approval, status: waits ? 'pending_approval' : null }, now);
  return waits ? action : execute(env, action.id, viewer.actor);
}

async function insertAction(env: CaseEnv, row: CaseRow, viewer: Viewer,
  a: { action: ActionName; target: string; reason: string; dryRun: boolean; needsApproval: boolean; status: ActionRow['status'] | null; undoOf?: string }, now: Date): Promise<ActionRow> {
  return env.db.transaction(async (tx) => {
    const r = await tx.query<ActionRow>(
      `INSERT INTO case_actions (case_id, action, target, reason, dry_run, needs_approval, status, requested_by, requested_at, undo_of, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $9) RETURNING *`,
      [row.id, a.action, a.target, a.reason, a.dryRun, a.needsApproval, a.status ?? 'pending_approval', viewer.actor, now.toISOString(), a.undoOf ?? null]);
    await appendAudit(tx, [{ caseId: Number(row.id), actor: viewer.actor, action: 'action.requested',
      change: { action_id: Number(r.rows[0].id), action: a.action, target: a.target, reason: a.reason, dry_run: a.dryRun, needs_approval: a.needsApproval, ...(a.undoOf ? { undo_of: Number(a.undoOf) } : {}) } }], now);
    return r.rows[0];
  });
}

/** Records a restriction the scheduler proposes at an escalation step; an operator takes it up with approve. */
export async function proposeAction(tx: Db, env: CaseEnv, row: CaseRow, action: ActionName, now: Date): Promise<number | null> {
  const policy = variantOf(env, row).actions[action];
  const target = defaultTarget(row, action);
  if (!policy || !target) return null;
  const r = await tx.query<{ id: string }>(
    `INSERT INTO case_actions (case_id, action, target, reason, needs_approval, status, created_at)
     VALUES ($1, $2, $3, $4, $5, 'proposed', $6) RETURNING id`,
    [row.id, action, target, `escalation step of playbook ${row.playbook}: no answer by the deadline`, policy.approval, now.toISOString()]);
  return Number(r.rows[0].id);
}

/**
 * Approves an action. A proposal becomes a request by whoever approves it (and waits for a second
 * person if the playbook says so); a pending request needs someone other than its requester.
 */
export async function approveAction(env: CaseEnv, id: number, viewer: Viewer, now = new Date()): Promise<ActionRow> {
  const decided = await env.db.transaction(async (tx) => {
    const { action } = await actionFor(env, id, viewer, tx);
    if (action.status === 'proposed') {
      await tx.query(`UPDATE case_actions SET requested_by = $2, requested_at = $3, status = 'pending_approval' WHERE id = $1`, [id, viewer.actor, now.toISOString()]);
      await appendAudit(tx, [{ caseId: Number(action.case_id), actor: viewer.actor, action: 'action.requested', change: { action_id: id, action: action.action, target: action.target, from_proposal: true } }], now);
      return !action.needs_approval;
    }
    if (action.status !== 'pending_approval') throw new CaseRuleError(`action ${id} is ${action.status}, not waiting for approval`);
    if (action.requested_by === viewer.actor) throw new CaseRuleError(`action ${id} needs a second person: ${viewer.actor} asked for it and cannot also approve it`);
    await tx.query('UPDATE case_actions SET approved_by = $2, approved_at = $3 WHERE id = $1', [id, viewer.actor, now.toISOString()]);
    await appendAudit(tx, [{ caseId: Number(action.case_id), actor: viewer.actor, action: 'action.approved', change: { action_id: id, action: action.action, requested_by: action.requested_by } }], now);
    return true;
  });
  if (decided) return execute(env, id, viewer.actor);
  return (await env.db.query<ActionRow>('SELECT * FROM case_actions WHERE id = $1', [id])).rows[0];
}

export async function rejectAction(env: CaseEnv, id: number, viewer: Viewer, reason: string, now = new Date()): Promise<ActionRow> {
  return env.db.transaction(async (tx) => {
    const { action } = await actionFor(env, id, viewer, tx);
    if (action.status !== 'pending_approval' && action.status !== 'proposed') throw new CaseRuleError(`action ${id} is ${action.status}: nothing to reject`);
    const r = await tx.query<ActionRow>(`UPDATE case_actions SET status = 'rejected', approved_by = $2, approved_at = $3 WHERE id = $1 RETURNING *`, [id, viewer.actor, now.toISOString()]);
    await appendAudit(tx, [{ caseId: Number(action.case_id), actor: viewer.actor, action: 'action.rejected', change: { action_id: id, reason } }], now);
    return r.rows[0];
  });
}

/** Undoes a restriction that ran: one call, which runs the inverse action at once. */
export async function undoAction(env: CaseEnv, id: number, viewer: Viewer, reason: string, now = new Date()): Promise<ActionRow> {
  const { action, row } = await env.db.transaction((tx) => actionFor(env, id, viewer, tx));
  const inverse = UNDO[action.action];
  if (!inverse) throw new CaseRuleError(`${action.action} cannot be undone (undo exists for ${Object.keys(UNDO).join(', ')})`);
  if (action.status !== 'done') throw new CaseRuleError(`action ${id} is ${action.status}: only a restriction that ran can be undone`);
  if (action.undone_by) throw new CaseRuleError(`action ${id} was already undone by action ${action.undone_by}`);
  const undo = await insertAction(env, row, viewer, { action: inverse, target: action.target, reason: reason || `undo of action ${id}`, dryRun: false, needsApproval: false, status: null, undoOf: action.id }, now);
  await env.db.query('UPDATE case_actions SET undone_by = $2 WHERE id = $1', [id, undo.id]);
  return execute(env, undo.id, viewer.actor);
}

/** Runs (or, for a dry run, describes) an action and records the executor's answer. */
async function execute(env: CaseEnv, id: string | number, actor: string): Promise<ActionRow> {
  const a = (await env.db.query<ActionRow & { number: string }>('SELECT a.*, c.number FROM case_actions a JOIN cases c ON c.id = a.case_id WHERE a.id = $1', [id])).rows[0];
  const fill = (s: string) => s.replace(/\{(case|target|action)\}/g, (_, k: string) => k === 'case' ? a.number : k === 'target' ? a.target : a.action);
  const executor = executorsOf(env).find((e) => e.action === a.action);
  let result: ExecutorResult;
  if (!executor) {
    result = { ok: false, executor: 'none', request: null, answer: { error: `no executor is configured for ${a.action} (cases.executors)` } };
  } else {
    const payload = { action: a.action, target: a.target, case: a.number, reason: a.reason, requested_by: a.requested_by, approved_by: a.approved_by, dry_run: a.dry_run };
    const request = executor.command ? { command: executor.command.map(fill) } : { url: executor.url, body: payload };
    result = a.dry_run
      ? { ok: true, executor: executor.command ? 'command' : 'webhook', request, answer: { dry_run: true } }
      : executor.command
        ? await runCommand(executor.command.map(fill), payload, env.config.cases.executor_timeout * 1000)
        : await callWebhook(executor.url!, executor.headers ?? {}, payload, env.config.cases.executor_timeout * 1000);
  }
  const status = a.dry_run && result.ok ? 'dry_run' : result.ok ? 'done' : 'failed';
  const now = new Date();
  const done = await env.db.transaction(async (tx) => {
    const r = await tx.query<ActionRow>('UPDATE case_actions SET status = $2, result = $3, executed_at = $4 WHERE id = $1 RETURNING *',
      [a.id, status, JSON.stringify(result), now.toISOString()]);
    await appendAudit(tx, [{ caseId: Number(a.case_id), actor, action: `action.${status}`, change: { action_id: Number(a.id), action: a.action, target: a.target, executor: result.executor, answer: result.answer } }], now);
    return r.rows[0];
  });
  // A restriction in place is what "escalated" means.
  if (status === 'done' && RESTRICTIONS.includes(a.action)) {
    await mutateCase(env, a.case_id, { ...SYSTEM, actor }, null, (c, _tx, at) => canTransition(c.state, 'escalated')
      ? { set: statePatch(env, c, 'escalated', at), audit: [{ action: 'case.state', change: { from: c.state, to: 'escalated', action_id: Number(a.id) } }] }
      : { set: {}, audit: [] });
  }
  return done;
}

function runCommand(argv: string[], payload: Record<string, unknown>, timeoutMs: number): Promise<ExecutorResult> {
  return new Promise((resolve) => {
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let size = 0;
    const keep = (into: Buffer[]) => (b: Buffer) => { if (size < MAX_OUTPUT) { into.push(b); size += b.length; } };
    const child = spawn(argv[0], argv.slice(1), {
      stdio: ['pipe', 'pipe', 'pipe'], timeout: timeoutMs,
      env: { ...process.env, MADOGUCHI_ACTION: String(payload.action), MADOGUCHI_TARGET: String(payload.target), MADOGUCHI_CASE: String(payload.case) },
    });
    child.stdout.on('data', keep(out));
    child.stderr.on('data', keep(err));
    child.stdin.on('error', () => { /* the command need not read its input */ });
    child.stdin.end(JSON.stringify(payload));
    const text = (b: Buffer[]) => Buffer.concat(b).toString('utf8').slice(0, MAX_OUTPUT);
    child.on('error', (e) => resolve({ ok: false, executor: 'command', request: { command: argv }, answer: { error: e.message } }));
    child.on('close', (code, signal) => resolve({
      ok: code === 0, executor: 'command', request: { command: argv },
      answer: { exit_code: code, signal, stdout: text(out), stderr: text(err) },
    }));
  });
}

async function callWebhook(url: string, headers: Record<string, string>, payload: Record<string, unknown>, timeoutMs: number): Promise<ExecutorResult> {
  const request = { url, body: payload };
  try {
    const res = await fetch(url, {
      method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(payload),
      signal: AbortSignal.timeout(timeoutMs), redirect: 'manual',
    });
    const body = (await res.text()).slice(0, MAX_OUTPUT);
    return { ok: res.status >= 200 && res.status < 300, executor: 'webhook', request, answer: { status: res.status, body } };
  } catch (e) {
    return { ok: false, executor: 'webhook', request, answer: { error: (e as Error).message } };
  }
}
