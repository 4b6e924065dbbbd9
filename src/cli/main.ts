// The `madoguchi` command: global options, then a command and its own arguments.
import { readFileSync } from 'node:fs';
import { ConfigError, loadConfig } from '../config/config.js';
import { createLogger } from '../log.js';
import { DatabaseUnavailable, openDb, type Db } from '../store/db.js';
import { migrate } from '../store/migrate.js';
import { enableBacktrackFallback } from '../regexp-fallback.js';
import { UsageError, type CliContext, type Command } from './command.js';
import { allCommands, findCommand } from './commands/index.js';

const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };

const GLOBAL_HELP = `Usage: madoguchi [--data-dir DIR] [--config FILE] [--log-level LEVEL] COMMAND [ARGS]

Madoguchi (窓口) is an abuse desk for hosting providers.

Global options:
  --data-dir DIR     embedded database and stored files (default ./data, or data_dir in the config)
  --config FILE      configuration file (default ./madoguchi.yaml when present)
  --log-level LEVEL  trace, debug, info, warn, error (default info)
  --help, -h         this help; 'madoguchi COMMAND --help' for a command's own
  --version          the version
DATABASE_URL, when set, names a PostgreSQL server to use instead of the embedded database.

Commands:
`;

export async function main(argv: string[]): Promise<number> {
  enableBacktrackFallback();
  const overrides: Record<string, unknown> = {};
  let configFile: string | undefined;
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i];
    const [flag, inline] = a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = () => inline ?? argv[++i];
    if (flag === '--data-dir') overrides.data_dir = value();
    else if (flag === '--config') configFile = value();
    else if (flag === '--log-level') overrides.log = { level: value() };
    else if (flag === '--version' || flag === '-V') { process.stdout.write(`madoguchi ${pkg.version}\n`); return 0; }
    else if (flag === '--help' || flag === '-h') { process.stdout.write(await globalHelp()); return 0; }
    else break;
  }
  const rest = argv.slice(i);
  if (rest.length === 0) { process.stderr.write(await globalHelp()); return 2; }
  const cmd = await findCommand(rest);
  if (!cmd) { process.stderr.write(`madoguchi: unknown command '${rest[0]}'\n\n${await globalHelp()}`); return 2; }
  const args = rest.slice(cmd.name.split(' ').length);
  if (args.includes('--help') || args.includes('-h')) { process.stdout.write(commandHelp(cmd)); return 0; }

  let config;
  try {
    config = loadConfig({ file: configFile, overrides });
  } catch (e) {
    if (e instanceof ConfigError) { process.stderr.write(`madoguchi: config: ${e.message}\n`); return 2; }
    throw e;
  }
  let log: ReturnType<typeof createLogger> | undefined;
  const opened: Db[] = [];
  const ctx: CliContext = {
    config, stdout: process.stdout, stderr: process.stderr,
    // Made on first use: pino is a fifth of the start-up of a command that never logs (regex).
    get log() { return (log ??= createLogger(config.log.level)); },
    async openStore() {
      const db = await openDb({ dataDir: config.data_dir, databaseUrl: config.database_url || undefined, connectTimeoutMs: config.database_connect_timeout * 1000 });
      opened.push(db);
      await migrate(db);
      return db;
    },
  };
  try {
    return await cmd.run(ctx, args);
  } catch (e) {
    if (e instanceof UsageError) { process.stderr.write(`madoguchi ${cmd.name}: ${e.message}\n\n${commandHelp(cmd)}`); return 2; }
    if (e instanceof DatabaseUnavailable || e instanceof ConfigError) { process.stderr.write(`madoguchi: ${e.message}\n`); return 1; }
    process.stderr.write(`madoguchi ${cmd.name}: ${(e as Error).stack ?? e}\n`);
    return 1;
  } finally {
    for (const db of opened) await db.close().catch(() => undefined);
  }
}

async function globalHelp(): Promise<string> {
  const commands = await allCommands();
  const width = Math.max(...commands.map((c) => c.name.length)) + 2;
  return GLOBAL_HELP + commands.map((c) => `  ${c.name.padEnd(width)}${c.summary}\n`).join('');
}

function commandHelp(c: Command): string {
  return `Usage: madoguchi ${c.name} ${c.usage}\n`;
}
