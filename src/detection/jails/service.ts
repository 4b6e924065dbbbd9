// The jail runner as a part of `madoguchi serve`, configured by the `detection` section: jails from
// fail2ban's jail files and from madoguchi.yaml, ban list files, outbound reports.
import type { Config } from '../../config/config.js';
import type { Desk } from '../../desk.js';
import type { DeskService } from '../../services.js';
import { jailsFromYaml, JailConfigError, type JailConfig } from './config.js';
import { readJailFile } from './jailfile.js';
import { JailRunner } from './runner.js';
import { OutboundReporter } from './outbound.js';

/** Every configured jail (enabled or not); a name given twice is an error, not a silent override. */
export function configuredJails(d: Config['detection']): JailConfig[] {
  const all = [...d.jail_files.flatMap((f) => readJailFile(f, d.fail2ban_dir)), ...jailsFromYaml(d.jails, d.fail2ban_dir)];
  const seen = new Set<string>();
  for (const j of all) {
    if (!j.enabled) continue;
    if (seen.has(j.name)) throw new JailConfigError(`jail ${j.name} is enabled twice (jail files and madoguchi.yaml)`);
    seen.add(j.name);
  }
  return all;
}

export function startRunner(desk: Desk, jails: JailConfig[], extra: { readFromStart?: boolean } = {}): { runner: JailRunner; outbound: OutboundReporter | null } {
  const d = desk.config.detection;
  const outbound = d.outbound.enabled ? new OutboundReporter(desk.db, d.outbound, desk.log) : null;
  const runner = new JailRunner(desk, jails, {
    fail2banDir: d.fail2ban_dir, journalctl: d.journalctl, readFromStart: extra.readFromStart ?? d.read_from_start,
    nftablesFile: d.nftables_file || undefined, ipsetFile: d.ipset_file || undefined, setName: d.set_name,
    onBan: outbound ? (ban, id, jail) => outbound.enqueue(ban, id, jail) : undefined,
  });
  return { runner, outbound };
}

export const jailService: DeskService = {
  name: 'jails',
  async start(desk) {
    if (!desk.config.detection.enabled) return null;
    const jails = configuredJails(desk.config.detection);
    if (!jails.some((j) => j.enabled)) {
      desk.log.warn('detection is enabled but no jail is');
      return null;
    }
    const { runner, outbound } = startRunner(desk, jails);
    await runner.start();
    return {
      async stop() {
        await runner.stop();
        await outbound?.idle();
      },
    };
  },
};
