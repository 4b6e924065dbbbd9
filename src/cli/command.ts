// What every CLI command module exports. Commands are registered in ./commands/index.ts.
import type { Config } from '../config/config.js';
import type { Logger } from '../log.js';
import type { Db } from '../store/db.js';

export interface CliContext {
  config: Config;
  log: Logger;
  /** Opens the configured database (embedded or DATABASE_URL) with migrations applied. */
  openStore(): Promise<Db>;
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
}

export interface Command {
  /** One or more words: 'attribute', 'inventory import'. */
  name: string;
  summary: string;
  /** Usage text printed by --help after the command name. */
  usage: string;
  /** Returns the process exit code. */
  run(ctx: CliContext, argv: string[]): Promise<number>;
}

/** A usage mistake: printed with the command's usage, exit code 2. */
export class UsageError extends Error {}
