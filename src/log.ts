// Structured logs (JSON lines on stderr, so that command output on stdout stays machine-readable).
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(level = 'info'): Logger {
  return pino({ level, base: { app: 'madoguchi' } }, pino.destination({ fd: 2, sync: true }));
}
