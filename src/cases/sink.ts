// The event sink intake calls after storing events: group them into cases and acknowledge the
// report to its reporter. First notices that a playbook sends by itself are left to the scheduler
// (next_step_at = now), so intake never waits for rendering and mail.
import type { Desk } from '../desk.js';
import type { EventSink, StoredEvent } from '../intake/sinks.js';
import { acknowledgeReport } from '../notices/notices.js';
import type { CaseEnv } from './env.js';
import { caseEnv, groupingOptions } from './env.js';
import { groupEvents, type GroupInput } from './grouping.js';

export const caseSink: EventSink = async (desk, events, ctx) => {
  const env = caseEnv(desk);
  const report = ctx.report;
  if (report && ctx.reparse) {
    // A reparse replaces the events of a report already grouped: the cases keep what they have.
    const r = await env.db.query<{ number: string }>(
      'SELECT DISTINCT c.number FROM case_events e JOIN cases c ON c.id = e.case_id WHERE e.report_id = $1', [report.id]);
    if (r.rows.length) return { cases: r.rows.map((x) => x.number) };
  }
  const inputs = await groupInputs(env, events, report);
  const grouped = await groupEvents(env.db, inputs, groupingOptions(env));
  if (report?.reporterEmail && env.config.cases.acknowledge_reports) {
    await acknowledgeReport(env, { id: report.id, reporter: report.reporterEmail, language: report.language }, grouped.map((g) => g.id));
  }
  return { cases: grouped.map((g) => g.number) };
};

async function groupInputs(env: CaseEnv, events: StoredEvent[], report: Parameters<EventSink>[2]['report']): Promise<GroupInput[]> {
  const serviceIds = [...new Set(events.map((e) => e.serviceId).filter((s): s is string => !!s))];
  const services = new Map<string, { type: string; brand_id: string }>();
  if (serviceIds.length) {
    const r = await env.db.query<{ id: string; type: string; brand_id: string }>(
      'SELECT s.id, s.type, c.brand_id FROM services s JOIN customers c ON c.id = s.customer_id WHERE s.id = ANY($1::text[])', [serviceIds]);
    for (const row of r.rows) services.set(row.id, row);
  }
  return events.map((e) => {
    const svc = e.serviceId ? services.get(e.serviceId) : undefined;
    return {
      event: e.event,
      attribution: e.customerId && e.serviceId ? { customer_id: e.customerId, service_id: e.serviceId, service_type: svc?.type ?? null, brand: svc?.brand_id ?? null } : null,
      time: new Date(e.time), eventId: e.id, reportId: e.reportId,
      reporter: report?.reporterEmail ?? (e.source === 'report' ? null : e.source),
      channel: report?.channel ?? e.source, consent: report?.forwardConsent ?? null,
    };
  });
}
