// The playbook's clock. A new case whose playbook notifies by itself gets its first notice here;
// then reminders and escalation steps fall due counted from that notice while the case waits for
// the customer (notified). A step sends its notice and, where the playbook names one, proposes a
// restriction for an operator to take up: nothing disruptive runs without a person.
import { proposeAction } from './actions.js';
import { mutateCase, scheduleOf, SYSTEM, variantOf, type CaseRow } from './cases.js';
import type { CaseEnv } from './env.js';
import { sendNotice } from '../notices/notices.js';
import type { ActionName } from './playbooks.js';

const ACTOR = { ...SYSTEM, actor: 'system:scheduler' };

/** Runs every step that is due; returns how many were run. */
export async function runSchedule(env: CaseEnv, now = new Date(), limit = 200): Promise<number> {
  const due = await env.db.query<CaseRow>(
    `SELECT * FROM cases WHERE next_step_at <= $1 AND state IN ('new', 'notified') ORDER BY next_step_at LIMIT $2`, [now.toISOString(), limit]);
  let ran = 0;
  for (const row of due.rows) {
    try {
      await (row.state === 'new' ? firstNotice(env, row, now) : runStep(env, row, now));
      ran++;
    } catch (e) {
      env.log.error({ err: e, case: row.number, step: row.next_step }, 'playbook step failed');
    }
  }
  return ran;
}

async function firstNotice(env: CaseEnv, row: CaseRow, now: Date): Promise<void> {
  try {
    await sendNotice(env, row.id, ACTOR, null, { kind: 'notice' }, now);
  } catch (e) {
    // No contact address, say: the case waits in the queue for an operator, and the reason is on record.
    await mutateCase(env, row.id, ACTOR, null, () => ({
      set: { next_step_at: null }, audit: [{ action: 'notice.not_sent', change: { kind: 'notice', reason: (e as Error).message } }],
    }), now);
  }
}

async function runStep(env: CaseEnv, row: CaseRow, now: Date): Promise<void> {
  const steps = scheduleOf(variantOf(env, row));
  const step = steps[row.next_step];
  if (step?.reminder || step?.notice) {
    await sendNotice(env, row.id, ACTOR, null, step.reminder
      ? { kind: 'reminder' }
      : { kind: 'escalation', template: step.notice, action: steps.slice(row.next_step).find((s) => s.action)?.action }, now);
  }
  await mutateCase(env, row.id, ACTOR, null, async (c, tx) => {
    // Someone may have answered or moved the case since it was selected.
    if (c.state !== 'notified' || c.next_step !== row.next_step) return { set: {}, audit: [] };
    const proposed = step?.action ? await proposeAction(tx, env, c, step.action as ActionName, now) : null;
    const next = steps[c.next_step + 1];
    const start = new Date(c.first_notice_at ?? now).getTime();
    return {
      set: { next_step: c.next_step + 1, next_step_at: next ? new Date(start + next.atMs) : null },
      audit: [{ action: 'playbook.step', change: { step: c.next_step, reminder: !!step?.reminder, notice: step?.notice ?? null, proposed_action: proposed } }],
    };
  }, now);
}
