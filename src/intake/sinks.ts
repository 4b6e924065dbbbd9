// Event sinks: what happens to events once they are stored (opening or updating cases, ...).
// Other parts of the desk register here; intake calls every sink after each commit of events.
import type { Desk } from '../desk.js';
import type { EventRow } from './events-store.js';
import { caseSink } from '../cases/sink.js';

/** An event as stored in the `events` table, with the attribution intake gave it. */
export interface StoredEvent extends EventRow { id: number }

export interface SinkContext {
  /** The report the events came from, when they came from one. */
  report?: { id: number; channel: string; reporterEmail: string | null; subject: string | null; forwardConsent: boolean | null; language: string | null };
  /**
   * True when the report may have been handed to the sinks before: `madoguchi reparse` replaced
   * its events (the event ids are new, the report is not), or the desk stopped after storing them
   * and before the sinks were done. Sinks should key their work on the report id.
   */
  reparse: boolean;
  /**
   * True when the desk stopped after storing the report's events and before its sinks were done:
   * a sink may find its own work half done (the cases grouped, the reporter not yet told).
   */
  resumed?: boolean;
}

/** What a sink may tell intake back: case numbers are stored on the report and returned to the reporter. */
export interface SinkResult { cases?: string[] }

/** One report's stored events with its context: what a sink gets when it takes many reports at once. */
export interface SinkPart { events: StoredEvent[]; ctx: SinkContext }

export interface EventSink {
  (desk: Desk, events: StoredEvent[], ctx: SinkContext): Promise<SinkResult | void>;
  /** Optional: the same work for several reports at once (the intake worker's batches), one result per part. */
  batch?(desk: Desk, parts: SinkPart[]): Promise<(SinkResult | void)[]>;
}

/**
 * Registered sinks, called in order. A failing sink is logged and does not undo intake: the events
 * are stored and can be handed to the sink again (`madoguchi reparse`).
 */
export const eventSinks: EventSink[] = [caseSink];

export async function runSinks(desk: Desk, events: StoredEvent[], ctx: SinkContext): Promise<string[]> {
  const cases = new Set<string>();
  for (const sink of eventSinks) for (const c of await runSink(desk, sink, { events, ctx })) cases.add(c);
  return [...cases];
}

/** Runs every sink over several reports' events; a sink with a batch form gets them all at once. Case numbers per part. */
export async function runSinksBatch(desk: Desk, parts: SinkPart[]): Promise<string[][]> {
  if (!parts.length) return [];
  const cases = parts.map(() => new Set<string>());
  for (const sink of eventSinks) {
    if (!sink.batch) {
      for (const [i, p] of parts.entries()) for (const c of await runSink(desk, sink, p)) cases[i].add(c);
      continue;
    }
    try {
      const r = await sink.batch(desk, parts);
      r.forEach((x, i) => { for (const c of x?.cases ?? []) cases[i].add(c); });
    } catch (e) {
      desk.log.error({ err: e, sink: sink.name, reports: parts.map((p) => p.ctx.report?.id) }, 'event sink failed');
    }
  }
  return cases.map((c) => [...c]);
}

async function runSink(desk: Desk, sink: EventSink, { events, ctx }: SinkPart): Promise<string[]> {
  try {
    return (await sink(desk, events, ctx))?.cases ?? [];
  } catch (e) {
    desk.log.error({ err: e, sink: sink.name, report: ctx.report?.id, events: events.length }, 'event sink failed');
    return [];
  }
}
