// What case work needs besides the database: playbooks, notice templates and the number format,
// loaded once per desk from the configuration (a bad playbook or template fails at start).
import type { Desk } from '../desk.js';
import type { Config } from '../config/config.js';
import type { Logger } from '../log.js';
import type { Db } from '../store/db.js';
import { loadTemplates, type TemplateSet } from '../notices/templates.js';
import { numberFormat, type NumberFormat } from './numbering.js';
import { loadPlaybooks, type PlaybookSet } from './playbooks.js';
import type { GroupingOptions } from './grouping.js';

export interface CaseEnv {
  db: Db;
  config: Config;
  log: Logger;
  playbooks: PlaybookSet;
  templates: TemplateSet;
  numbers: NumberFormat;
}

const envs = new WeakMap<Desk, CaseEnv>();

export function caseEnv(desk: Desk): CaseEnv {
  let env = envs.get(desk);
  if (!env) envs.set(desk, env = makeCaseEnv(desk.db, desk.config, desk.log));
  return env;
}

export function makeCaseEnv(db: Db, config: Config, log: Logger): CaseEnv {
  const c = config.cases;
  return {
    db, config, log,
    playbooks: c.playbooks_dir ? loadPlaybooks(c.playbooks_dir) : loadPlaybooks(),
    templates: c.templates_dir ? loadTemplates(c.templates_dir) : loadTemplates(),
    numbers: numberFormat(c.number_format),
  };
}

export function groupingOptions(env: CaseEnv, now?: Date): GroupingOptions {
  const c = env.config.cases;
  return {
    playbooks: env.playbooks, numbers: env.numbers, timeZone: env.config.desk.timezone,
    windowMs: c.group_window_hours * 3_600_000, firstNoticeMs: c.first_notice_hours * 3_600_000,
    defaultConsent: c.default_evidence_consent, now,
  };
}
