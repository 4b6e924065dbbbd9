// Jail settings with fail2ban's names, defaults and value syntax, from madoguchi.yaml
// (`detection.jails`, one mapping per jail) or from fail2ban's own jail.conf / jail.local (see
// jailfile.ts). Both end up as option maps that jailFromOptions() validates.
import { basename, isAbsolute, join } from 'node:path';
import { DEFAULT_FORMULA, type BanPolicy } from './bantime.js';
import { str2seconds } from './time.js';
import { splitList } from './ignore.js';
import { TAXONOMY } from '../../events/event.js';

export interface JailConfig {
  name: string;
  enabled: boolean;
  /** The filter as loadFilter() takes it: a path, optionally followed by [opts]. */
  filter: string;
  /** 'file' follows logpath like `tail -F`; 'systemd' follows the journal with journalctl. */
  backend: 'file' | 'systemd';
  logpath: string[];
  /** journalctl match arguments ("_SYSTEMD_UNIT=sshd.service", "+", ...). */
  journalmatch: string[];
  /** Journal files to read instead of the system journal (journalctl --file). */
  journalfiles: string[];
  maxretry: number;
  /** Seconds. */
  findtime: number;
  ban: BanPolicy;
  ignoreip: string[];
  ignoreself: boolean;
  /** How long past bans count for bantime.increment (fail2ban's dbpurgeage), seconds. */
  dbpurgeage: number;
  /** Event type when the offender is one of our own addresses (RSIT type, e.g. brute-force). */
  classification: string;
  /** Send an outbound X-ARF report for outside offenders (when outbound reporting is on). */
  report: boolean;
  /** Attacked service and port, for reports ("ssh", "22"). */
  service: string;
  port: string;
}

export class JailConfigError extends Error {}

export type Options = Record<string, string | number | boolean | string[] | undefined>;

// fail2ban's own defaults (jail.conf [DEFAULT]) where a jail leaves a key out.
const FAIL2BAN_DEFAULTS: Options = {
  enabled: 'false', maxretry: '5', findtime: '10m', bantime: '10m', backend: 'auto',
  ignoreip: '', ignoreself: 'true', 'bantime.increment': 'false', 'bantime.factor': '1',
  'bantime.formula': DEFAULT_FORMULA, 'bantime.multipliers': '', 'bantime.overalljails': 'false',
  dbpurgeage: '1d', port: '0',
};

const KNOWN = new Set([
  'name', 'enabled', 'filter', 'backend', 'logpath', 'journalmatch', 'journalfiles', 'maxretry', 'findtime', 'bantime',
  'bantime.increment', 'bantime.factor', 'bantime.formula', 'bantime.multipliers', 'bantime.maxtime', 'bantime.rndtime',
  'bantime.overalljails', 'ignoreip', 'ignoreself', 'dbpurgeage', 'classification', 'report', 'service', 'port',
  // fail2ban keys that mean something to fail2ban's own actions or backends, accepted and ignored here.
  'action', 'banaction', 'banaction_allports', 'protocol', 'chain', 'mta', 'sender', 'destemail', 'usedns',
  'logencoding', 'maxmatches', 'maxlines', 'ignorecommand', 'ignorecache', 'mode', 'fail2ban_agent', 'before', 'after',
  'datepattern', 'prefregex', 'failregex', 'ignoreregex', 'logtimezone', 'allowipv6', 'timezone', 'skip_if_nologs',
]);

function asBool(v: unknown, what: string): boolean {
  const s = String(v).trim().toLowerCase();
  if (['true', 'yes', 'on', '1'].includes(s)) return true;
  if (['false', 'no', 'off', '0', ''].includes(s)) return false;
  throw new JailConfigError(`${what}: expected true or false, got '${String(v)}'`);
}

function asSeconds(v: unknown, what: string): number {
  try {
    return str2seconds(typeof v === 'number' ? v : String(v).trim());
  } catch (e) {
    throw new JailConfigError(`${what}: ${(e as Error).message}`);
  }
}

/** Resolves a fail2ban filter reference ("sshd[mode=aggressive]") to a filter.d path spec. */
export function filterSpec(filter: string, fail2banDir: string): string {
  const m = /^([^[]+?)\s*(\[.*\])?\s*$/s.exec(filter.trim());
  if (!m) throw new JailConfigError(`bad filter '${filter}'`);
  const [, name, opts = ''] = m;
  const path = isAbsolute(name) || name.includes('/') ? name : join(fail2banDir, 'filter.d', name.endsWith('.conf') ? name : `${name}.conf`);
  return path + opts;
}

/**
 * Builds a jail from fail2ban-style options (strings as in jail.conf, or YAML scalars/lists).
 * Unknown keys are an error so that a misspelt `findtme` does not silently fall back to 10m.
 */
export function jailFromOptions(name: string, given: Options, fail2banDir: string): JailConfig {
  if (!/^[\w.-]{1,64}$/.test(name)) throw new JailConfigError(`jail name '${name}' must be 1-64 letters, digits, '.', '_' or '-'`);
  for (const k of Object.keys(given)) {
    if (!KNOWN.has(k) && !k.startsWith('known/') && !k.startsWith('_')) throw new JailConfigError(`jail ${name}: unknown option '${k}'`);
  }
  const o: Options = { ...FAIL2BAN_DEFAULTS, ...Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined)) };
  const w = (k: string) => `jail ${name}: ${k}`;
  const str = (k: string) => (o[k] === undefined ? '' : Array.isArray(o[k]) ? (o[k] as string[]).join('\n') : String(o[k]).trim());

  const backendRaw = str('backend').toLowerCase();
  const backend = backendRaw.startsWith('systemd') ? 'systemd' : 'file';
  if (!['auto', 'polling', 'pyinotify', 'gamin', 'file'].includes(backendRaw) && backend !== 'systemd') {
    throw new JailConfigError(`${w('backend')}: '${backendRaw}' (use auto, polling or systemd)`);
  }
  const logpath = (Array.isArray(o.logpath) ? o.logpath : str('logpath').split('\n')).map((s) => String(s).trim()).filter(Boolean);
  const journalmatch = Array.isArray(o.journalmatch) ? o.journalmatch.map(String) : str('journalmatch').split(/\s+/).filter(Boolean);
  const journalfiles = Array.isArray(o.journalfiles) ? o.journalfiles.map(String) : splitList(str('journalfiles'));
  const filter = str('filter') || name;
  const enabled = asBool(o.enabled, w('enabled'));
  if (enabled && backend === 'file' && logpath.length === 0) throw new JailConfigError(`jail ${name}: logpath is required with backend ${backendRaw}`);

  const maxretry = Number(str('maxretry'));
  if (!Number.isInteger(maxretry) || maxretry < 1) throw new JailConfigError(`${w('maxretry')}: expected a whole number >= 1, got '${str('maxretry')}'`);
  const findtime = asSeconds(o.findtime, w('findtime'));
  if (findtime <= 0) throw new JailConfigError(`${w('findtime')}: must be positive`);
  const bantime = asSeconds(o.bantime, w('bantime'));
  const multipliers = splitList(str('bantime.multipliers')).map((m) => {
    if (!/^\d+$/.test(m)) throw new JailConfigError(`${w('bantime.multipliers')}: '${m}' is not a whole number`);
    return Number(m);
  });
  const ban: BanPolicy = {
    bantime,
    increment: asBool(o['bantime.increment'], w('bantime.increment')) ? {
      factor: str('bantime.factor') || '1',
      formula: str('bantime.formula') || DEFAULT_FORMULA,
      multipliers,
      maxtime: str('bantime.maxtime') ? asSeconds(o['bantime.maxtime'], w('bantime.maxtime')) : null,
      rndtime: str('bantime.rndtime') ? asSeconds(o['bantime.rndtime'], w('bantime.rndtime')) : null,
      overalljails: asBool(o['bantime.overalljails'], w('bantime.overalljails')),
    } : null,
  };
  const classification = str('classification') || classificationFor(filter);
  if (!TAXONOMY[classification]) throw new JailConfigError(`${w('classification')}: unknown event type '${classification}'`);

  return {
    name, enabled, filter: filterSpec(filter, fail2banDir), backend, logpath, journalmatch, journalfiles,
    maxretry, findtime, ban,
    ignoreip: Array.isArray(o.ignoreip) ? o.ignoreip.map(String) : splitList(str('ignoreip')),
    ignoreself: asBool(o.ignoreself, w('ignoreself')),
    dbpurgeage: asSeconds(o.dbpurgeage, w('dbpurgeage')),
    classification,
    report: o.report === undefined ? true : asBool(o.report, w('report')),
    service: str('service') || name,
    port: str('port'),
  };
}

// What a filter's hits say about the offender when a jail does not say it (RSIT types). Filters
// not named here find failed logins and guesses: brute-force.
const FILTER_KINDS: [RegExp, string][] = [
  [/botsearch|noscript|badbots|fakegooglebot|portsentry|scan/, 'scanner'],
  [/overflows|php-url-fopen|nginx-bad-request|apache-shellshock|modsecurity|suhosin/, 'exploit'],
  [/limit-req|dos/, 'dos'],
];

export function classificationFor(filter: string): string {
  const base = basename(filter.replace(/\[.*$/s, '')).replace(/\.(conf|local)$/, '');
  return FILTER_KINDS.find(([re]) => re.test(base))?.[1] ?? 'brute-force';
}

/** Jails from madoguchi.yaml: a list of mappings, each with a `name`. */
export function jailsFromYaml(list: unknown[], fail2banDir: string): JailConfig[] {
  return list.map((item, i) => {
    if (!item || typeof item !== 'object' || Array.isArray(item)) throw new JailConfigError(`detection.jails[${i}] must be a mapping`);
    const { name, ...rest } = item as Record<string, unknown>;
    if (typeof name !== 'string') throw new JailConfigError(`detection.jails[${i}]: a name is required`);
    const opts: Options = {};
    for (const [k, v] of Object.entries(rest)) {
      if (Array.isArray(v)) opts[k] = v.map(String);
      else if (v == null) opts[k] = undefined;
      else if (typeof v === 'object') throw new JailConfigError(`jail ${name}: ${k} must be a value or a list`);
      else opts[k] = v as string | number | boolean;
    }
    // A jail written in madoguchi.yaml is meant to run unless it says otherwise.
    if (opts.enabled === undefined) opts.enabled = true;
    return jailFromOptions(name, opts, fail2banDir);
  });
}
