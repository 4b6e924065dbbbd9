// Structured logs (JSON lines on stderr, so that command output on stdout stays machine-readable).
import { createRequire } from 'node:module';
import type { Logger } from 'pino';

export type { Logger };

export function createLogger(level = 'info'): Logger {
  const { pino } = createRequire(import.meta.url)('pino') as typeof import('pino');
  return pino({ level, base: { app: 'madoguchi' } }, pino.destination({ fd: 2, sync: true }));
}
