// The case parts of `madoguchi serve`: the outbox worker handing queued mail to the SMTP relay,
// and the scheduler running first notices, reminders and escalation steps when they fall due.
import type { Desk } from '../desk.js';
import type { DeskService, RunningService } from '../services.js';
import { deliverDue, relayTransport } from '../notices/outbox.js';
import { caseEnv } from './env.js';
import { runSchedule } from './schedule.js';

/** Runs `round` every `ms`, never two at once; stop() waits for the round in progress. */
function every(desk: Desk, what: string, ms: number, round: () => Promise<unknown>): RunningService {
  let running: Promise<void> | null = null;
  const run = () => {
    running ??= round().then(() => undefined, (err) => desk.log.error({ err }, `${what} round failed`)).finally(() => { running = null; });
  };
  const timer = setInterval(run, ms);
  run();
  return { async stop() { clearInterval(timer); await running; } };
}

export const outboxService: DeskService = {
  name: 'outbox',
  async start(desk) {
    if (!desk.config.notices.enabled) return null;
    const transport = relayTransport(desk.config);
    return every(desk, 'outbox', Math.max(1, desk.config.notices.poll_interval) * 1000,
      () => deliverDue(desk.db, transport, desk.config, desk.log));
  },
};

export const caseScheduler: DeskService = {
  name: 'case-scheduler',
  async start(desk) {
    if (desk.config.cases.scheduler_interval <= 0) return null;
    const env = caseEnv(desk);
    return every(desk, 'case scheduler', desk.config.cases.scheduler_interval * 1000, () => runSchedule(env));
  },
};
