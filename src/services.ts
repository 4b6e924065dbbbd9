// Long-running parts of `madoguchi serve` besides the HTTP server. Each returns null when the
// configuration disables it. One line per service.
import type { Desk } from './desk.js';
import { jailService } from './detection/jails/service.js';
import { intakeWorkerService } from './intake/worker.js';
import { smtpService } from './intake/smtp.js';
import { imapService } from './intake/imap.js';
import { blocklistService } from './blocklists/service.js';
import { outboxService, caseScheduler } from './cases/services.js';

export interface RunningService { stop(): Promise<void> }
export interface DeskService {
  name: string;
  start(desk: Desk): Promise<RunningService | null>;
}

export const services: DeskService[] = [
  intakeWorkerService,
  smtpService,
  imapService,
  jailService,
  blocklistService,
  outboxService,
  caseScheduler,
];
