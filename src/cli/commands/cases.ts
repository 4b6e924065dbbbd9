import { parseArgs } from 'node:util';
import { userInfo } from 'node:os';
import { caseView, getCase, listCases, transitionCase, type Viewer } from '../../cases/cases.js';
import { makeCaseEnv } from '../../cases/env.js';
import { CaseNotFound, CaseRuleError } from '../../cases/errors.js';
import { InvalidTransition } from '../../cases/states.js';
import { UsageError, type Command, type CliContext } from '../command.js';

/** Whoever runs the CLI holds the database: a desk administrator, named in the audit trail. */
function cliViewer(as: string | undefined): Viewer {
  return { actor: as ?? `cli:${userInfo().username}`, roles: ['admin', 'legal'], customerId: null };
}

async function env(ctx: CliContext) {
  return makeCaseEnv(await ctx.openStore(), ctx.config, ctx.log);
}

const refused = (ctx: CliContext, e: unknown): number => {
  if (e instanceof CaseNotFound || e instanceof CaseRuleError || e instanceof InvalidTransition) { ctx.stderr.write(`${e.message}\n`); return 1; }
  throw e;
};

export const casesList: Command = {
  name: 'cases list',
  summary: 'list cases by age (the triage queue with --state triage, the overdue queue with --overdue)',
  usage: `[--state STATE...] [--customer ID] [--category CATEGORY] [--overdue] [--newest] [--limit N] [--json]`,
  async run(ctx, argv) {
    const { values } = parseArgs({ args: argv, options: {
      state: { type: 'string', multiple: true }, customer: { type: 'string' }, category: { type: 'string' }, overdue: { type: 'boolean', default: false },
      newest: { type: 'boolean', default: false }, limit: { type: 'string', default: '50' }, json: { type: 'boolean', default: false },
    } });
    const limit = Number(values.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 100000) throw new UsageError('--limit: a number from 1 to 100000');
    try {
      const r = await listCases(await env(ctx), cliViewer(undefined), { state: values.state, customer_id: values.customer, category: values.category, overdue: values.overdue },
        { limit, order: values.newest ? 'newest' : 'oldest' });
      for (const c of r.cases) {
        const v = caseView(c);
        ctx.stdout.write(values.json ? `${JSON.stringify(v)}\n`
          : `${v.number}  ${v.state.padEnd(16)} ${v.opened_at.slice(0, 16)}  ${(v.customer_id ?? '-').padEnd(12)} ${v.playbook.padEnd(20)} ${v.overdue ? 'OVERDUE ' : ''}${v.title}\n`);
      }
      return 0;
    } catch (e) { return refused(ctx, e); }
  },
};

export const casesShow: Command = {
  name: 'cases show',
  summary: 'one case as JSON, by number or id',
  usage: 'NUMBER',
  async run(ctx, argv) {
    if (argv.length !== 1) throw new UsageError('give one case number');
    try {
      ctx.stdout.write(`${JSON.stringify(caseView(await getCase(await env(ctx), argv[0], cliViewer(undefined))), null, 2)}\n`);
      return 0;
    } catch (e) { return refused(ctx, e); }
  },
};

export const casesTransition: Command = {
  name: 'cases transition',
  summary: 'move a case to another state (recorded in the audit trail under --as)',
  usage: 'NUMBER STATE [--reason TEXT] [--as NAME]',
  async run(ctx, argv) {
    const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { reason: { type: 'string' }, as: { type: 'string' } } });
    if (positionals.length !== 2) throw new UsageError('give a case number and a state');
    try {
      const c = await transitionCase(await env(ctx), positionals[0], cliViewer(values.as), null, positionals[1], values.reason);
      ctx.stderr.write(`${c.number} is now ${c.state}\n`);
      return 0;
    } catch (e) { return refused(ctx, e); }
  },
};

export const caseCommands = [casesList, casesShow, casesTransition];
