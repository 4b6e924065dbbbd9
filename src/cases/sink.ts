// The event sink intake calls after storing events: group them into cases and acknowledge the
// report to its reporter. First notices that a playbook sends by itself are left to the scheduler
// (next_step_at = now), so intake never waits for rendering and mail.
import type { Desk } from '../desk.js';
import type { EventSink, SinkContext, SinkPart, SinkResult, StoredEvent } from '../intake/sinks.js';
import { acknowledgeReports, type ReportAcknowledgement } from '../notices/notices.js';
import type { CaseEnv } from './env.js';
import { caseEnv, groupingOptions } from './env.js';
import { groupEvents, type GroupedCase, type GroupInput } from './grouping.js';

export const caseSink: EventSink = async (desk, events, ctx) => (await groupParts(desk, [{ events, ctx }]))[0];

// The intake worker's batches: one grouping (one transaction) for the events of many reports.
caseSink.batch = groupParts;

async function groupParts(desk: Desk, parts: SinkPart[]): Promise<SinkResult[]> {
  const env = caseEnv(desk);
  const out: SinkResult[] = parts.map(() => ({ cases: [] }));
  const fresh: number[] = [];
  const acknowledge: ReportAcknowledgement[] = [];
  const acknowledgeLater = (report: NonNullable<ReportContext>, caseIds: number[]) => {
    if (report.reporterEmail && env.config.cases.acknowledge_reports) acknowledge.push({ id: report.id, reporter: report.reporterEmail, language: report.language, caseIds });
  };
  for (const [i, { ctx }] of parts.entries()) {
    if (ctx.report && ctx.reparse) {
      // A reparse replaces the events of a report already grouped: the cases keep what they have.
      const r = await env.db.query<{ id: string; number: string }>(
        'SELECT DISTINCT c.id, c.number FROM case_events e JOIN cases c ON c.id = e.case_id WHERE e.report_id = $1', [ctx.report.id]);
      if (r.rows.length) {
        out[i] = { cases: r.rows.map((x) => x.number) };
        // A stop between the grouping and the acknowledgement: the reporter is told now (once: the
        // claim is keyed on the report). A reparse after an upgrade tells nobody again.
        if (ctx.resumed) acknowledgeLater(ctx.report, r.rows.map((x) => Number(x.id)));
        continue;
      }
    }
    fresh.push(i);
  }
  const inputs = await groupInputs(env, fresh.flatMap((i) => parts[i].events.map((e) => ({ e, report: parts[i].ctx.report }))));
  const grouped = await groupEvents(env.db, inputs, groupingOptions(env));
  // Which cases each report's events went to: inputs are the parts' events in order.
  const partOf: number[] = fresh.flatMap((i) => parts[i].events.map(() => i));
  const reached = new Map<number, GroupedCase[]>();
  for (const g of grouped) {
    for (const i of new Set(g.inputs.map((n) => partOf[n]))) {
      const list = reached.get(i);
      if (list) list.push(g); else reached.set(i, [g]);
    }
  }
  for (const i of fresh) {
    const cases = reached.get(i) ?? [];
    const report = parts[i].ctx.report;
    if (report) acknowledgeLater(report, cases.map((g) => g.id));
    out[i] = { cases: cases.map((g) => g.number) };
  }
  await acknowledgeReports(env, acknowledge);
  return out;
}

type ReportContext = SinkContext['report'];

async function groupInputs(env: CaseEnv, events: { e: StoredEvent; report: ReportContext }[]): Promise<GroupInput[]> {
  const serviceIds = [...new Set(events.map(({ e }) => e.serviceId).filter((s): s is string => !!s))];
  const services = new Map<string, { type: string; brand_id: string }>();
  if (serviceIds.length) {
    const r = await env.db.query<{ id: string; type: string; brand_id: string }>(
      'SELECT s.id, s.type, c.brand_id FROM services s JOIN customers c ON c.id = s.customer_id WHERE s.id = ANY($1::text[])', [serviceIds]);
    for (const row of r.rows) services.set(row.id, row);
  }
  return events.map(({ e, report }) => {
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
