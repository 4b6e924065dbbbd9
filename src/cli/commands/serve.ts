import { parseArgs } from 'node:util';
import { openDesk } from '../../desk.js';
import { startDesk } from '../../serve.js';
import { loadDemo } from '../../demo.js';
import { UsageError, type Command } from '../command.js';

export const serve: Command = {
  name: 'serve',
  summary: 'run the desk: HTTP API and pages, SMTP listener, pollers and schedulers',
  usage: `[--http-port N] [--smtp-port N] [--demo]

Serves until SIGINT or SIGTERM. Flags override the config file. --demo loads the demo inventory
and reports first when the database is empty.`,
  async run(ctx, argv) {
    const { values } = parseArgs({ args: argv, options: {
      'http-port': { type: 'string' }, 'smtp-port': { type: 'string' }, demo: { type: 'boolean', default: false },
    } });
    const port = (v: string | undefined, what: string) => {
      if (v === undefined) return undefined;
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0 || n > 65535) throw new UsageError(`${what}: not a port: ${v}`);
      return n;
    };
    const http = port(values['http-port'], '--http-port');
    const smtp = port(values['smtp-port'], '--smtp-port');
    if (http !== undefined) ctx.config.http.port = http;
    if (smtp !== undefined) ctx.config.smtp.port = smtp;
    const db = await ctx.openStore();
    const desk = await openDesk(ctx.config, ctx.log, db);
    if (values.demo) await loadDemo(desk, { ifEmpty: true, log: (s) => ctx.stderr.write(s + '\n') });
    const running = await startDesk(desk);
    ctx.stderr.write(`madoguchi: serving on ${running.url} (${desk.db.kind} database${desk.db.kind === 'pglite' ? ` in ${ctx.config.data_dir}` : ''})\n`);
    await new Promise<void>((resolve) => {
      const stop = () => resolve();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    ctx.stderr.write('madoguchi: stopping\n');
    await running.stop();
    desk.attribution.close();
    return 0;
  },
};
