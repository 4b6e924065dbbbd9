import { parseArgs } from 'node:util';
import { statsCsv, yearStats, type YearStats } from '../../cases/stats.js';
import { yearIn } from '../../cases/numbering.js';
import { UsageError, type Command } from '../command.js';

export const stats: Command = {
  name: 'stats',
  summary: 'the annual abuse-desk figures: reports by category, case numbers, police and legal requests, median times',
  usage: `[--year YYYY] [--json | --csv]

The year is the case-number year in desk.timezone (default: this year).`,
  async run(ctx, argv) {
    const { values } = parseArgs({ args: argv, options: { year: { type: 'string' }, json: { type: 'boolean', default: false }, csv: { type: 'boolean', default: false } } });
    const year = values.year === undefined ? yearIn(new Date(), ctx.config.desk.timezone) : Number(values.year);
    if (!Number.isInteger(year) || year < 2000 || year > 2100) throw new UsageError(`--year: not a year: ${values.year}`);
    const s = await yearStats(await ctx.openStore(), year);
    ctx.stdout.write(values.json ? `${JSON.stringify(s)}\n` : values.csv ? statsCsv(s) : table(s));
    return 0;
  },
};

const duration = (s: number | null) => s === null ? '-' : s < 3600 ? `${Math.round(s / 60)} min` : s < 172800 ? `${(s / 3600).toFixed(1)} h` : `${(s / 86400).toFixed(1)} d`;

function table(s: YearStats): string {
  const lines = [`Abuse desk figures for ${s.year}`, '', `case numbers issued   ${s.case_numbers_issued}`, `cases still open      ${s.open_cases}`, '',
    'category              reports   cases  events  first notice  answer    resolution'];
  for (const [cat, c] of Object.entries(s.categories)) {
    lines.push(`${cat.padEnd(20)} ${String(c.reports).padStart(8)} ${String(c.cases).padStart(7)} ${String(c.events).padStart(7)}  ${duration(c.medians.to_first_notice_s).padEnd(12)}  ${duration(c.medians.to_customer_answer_s).padEnd(8)}  ${duration(c.medians.to_resolution_s)}`);
  }
  lines.push(`${'all (median)'.padEnd(45)}${duration(s.medians.to_first_notice_s).padEnd(14)}${duration(s.medians.to_customer_answer_s).padEnd(10)}${duration(s.medians.to_resolution_s)}`, '', 'police and legal requests');
  for (const [k, v] of Object.entries(s.legal_requests)) lines.push(`  ${k.padEnd(20)} ${v}`);
  return lines.join('\n') + '\n';
}
