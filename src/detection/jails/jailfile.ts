// Jails from fail2ban's own configuration, read as fail2ban reads it: jail.conf, jail.d/*.conf,
// jail.local, jail.d/*.local (later files win), with [INCLUDES] (paths-debian.conf and friends),
// [DEFAULT] and %(name)s interpolation, through the detection engine's configparser (ConfigSet).
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { ConfigSet, FilterConfigError } from '../config.js';
import { jailFromOptions, JailConfigError, type JailConfig, type Options } from './config.js';

// The options a jail section may set that mean something here (fail2ban's names).
const JAIL_KEYS = [
  'enabled', 'filter', 'backend', 'logpath', 'journalmatch', 'maxretry', 'findtime', 'bantime', 'bantime.increment',
  'bantime.factor', 'bantime.formula', 'bantime.multipliers', 'bantime.maxtime', 'bantime.rndtime', 'bantime.overalljails',
  'ignoreip', 'ignoreself', 'dbpurgeage', 'port', 'classification', 'report', 'service', 'journalfiles',
];

/** The files fail2ban reads for `jail.conf` (or any NAME.conf): NAME.conf, NAME.d/*.conf, NAME.local, NAME.d/*.local. */
export function jailFileSet(path: string): string[] {
  const stem = path.replace(/\.(conf|local)$/, '');
  const dDir = `${stem}.d`;
  let inD: string[] = [];
  try { if (statSync(dDir).isDirectory()) inD = readdirSync(dDir).sort().map((f) => join(dDir, f)); } catch { /* no .d */ }
  return [`${stem}.conf`, ...inD.filter((f) => f.endsWith('.conf')), `${stem}.local`, ...inD.filter((f) => f.endsWith('.local'))]
    .filter((f) => existsSync(f));
}

/**
 * Reads the jails of a fail2ban configuration (`/etc/fail2ban/jail.conf` and its companions).
 * Every section is a jail; disabled jails are returned too (enabled: false) so that callers can
 * list them. The filter directory is the configuration's own directory.
 */
export function readJailFile(path: string, fail2banDir = dirname(path)): JailConfig[] {
  const files = jailFileSet(path);
  if (!files.length) throw new JailConfigError(`no fail2ban jail configuration at ${path}`);
  const cs = new ConfigSet();
  try { cs.read(files); } catch (e) { throw new JailConfigError(`${basename(path)}: ${(e as Error).message}`); }
  const jails: JailConfig[] = [];
  for (const name of cs.sections.keys()) {
    if (name === 'INCLUDES' || name.startsWith('KNOWN/') || name === 'Definition' || name === 'Init') continue;
    const opts: Options = {};
    for (const k of JAIL_KEYS) {
      try {
        const v = cs.get(name, k);
        if (v !== undefined) opts[k] = v;
      } catch (e) {
        if (e instanceof FilterConfigError) throw new JailConfigError(`jail ${name}: ${k}: ${e.message}`);
        throw e;
      }
    }
    try {
      jails.push(jailFromOptions(name, opts, fail2banDir));
    } catch (e) {
      // A disabled jail with a broken option is fail2ban's problem only if someone enables it.
      if (['true', 'yes', 'on', '1'].includes(String(opts.enabled ?? '').trim().toLowerCase())) throw e;
    }
  }
  return jails;
}
