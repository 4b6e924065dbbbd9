// Evidence on a case and who may forward it. Reading a case's events is itself recorded in the
// audit trail (who looked at which reporter's logs, and when), without changing the case.
import { appendAudit } from './audit.js';
import { getCase, type Viewer } from './cases.js';
import type { CaseEnv } from './env.js';
import { CaseRuleError } from './errors.js';

export interface EvidenceEntry {
  id: number; at: string; event: Record<string, unknown>; report_id: number | null; event_id: number | null;
  reporter: string | null; channel: string | null; consent: boolean;
}

export async function viewEvidence(env: CaseEnv, ref: string | number, viewer: Viewer, page: { limit: number; after?: number }): Promise<{ events: EvidenceEntry[]; next: number | null }> {
  const row = await getCase(env, ref, viewer);
  return env.db.transaction(async (tx) => {
    const r = await tx.query<{ id: string; at: Date; event: Record<string, unknown>; report_id: string | null; event_id: string | null; reporter: string | null; channel: string | null; consent: boolean }>(
      'SELECT id, at, event, report_id, event_id, reporter, channel, consent FROM case_evidence WHERE case_id = $1 AND id > $2 ORDER BY id LIMIT $3',
      [row.id, page.after ?? 0, page.limit + 1]);
    const rows = r.rows.slice(0, page.limit);
    const events = rows.map((e) => ({
      id: Number(e.id), at: new Date(e.at).toISOString(), event: e.event, report_id: e.report_id == null ? null : Number(e.report_id),
      event_id: e.event_id == null ? null : Number(e.event_id), reporter: e.reporter, channel: e.channel, consent: e.consent,
    }));
    if (events.length) {
      await appendAudit(tx, [{ caseId: Number(row.id), actor: viewer.actor, action: 'evidence.viewed', change: { first: events[0].id, last: events[events.length - 1].id, count: events.length } }]);
    }
    return { events, next: r.rows.length > page.limit ? events[events.length - 1].id : null };
  });
}

export interface ConsentDefault { reporter: string; channel: string; forward: boolean }

/** Sets a reporter's default (per channel, or '*' for all) for reports that do not say themselves. */
export async function setConsent(env: CaseEnv, viewer: Viewer, c: ConsentDefault): Promise<void> {
  if (!c.reporter.trim()) throw new CaseRuleError('reporter is required');
  await env.db.transaction(async (tx) => {
    await tx.query(
      `INSERT INTO evidence_consent (reporter, channel, forward, updated_at) VALUES ($1, $2, $3, now())
       ON CONFLICT (reporter, channel) DO UPDATE SET forward = EXCLUDED.forward, updated_at = now()`, [c.reporter, c.channel || '*', c.forward]);
    await appendAudit(tx, [{ caseId: null, actor: viewer.actor, action: 'consent.set', change: { reporter: c.reporter, channel: c.channel || '*', forward: c.forward } }]);
  });
}

export async function listConsent(env: CaseEnv, reporter?: string): Promise<ConsentDefault[]> {
  const r = await env.db.query<ConsentDefault>(
    'SELECT reporter, channel, forward FROM evidence_consent WHERE ($1::text IS NULL OR reporter = $1) ORDER BY reporter, channel LIMIT 1000', [reporter ?? null]);
  return r.rows;
}
