// The blocklist watch inside `madoguchi serve`: a tick checks the lists that are due (each on its
// own schedule) and, every dnsbl.every seconds, the DNSBLs; listings the playbooks act on go to
// the desk through intake's event path, as events from source `blocklist:LIST`.
import type { Desk } from '../desk.js';
import { ingestEvents } from '../intake/ingest.js';
import type { DeskService } from '../services.js';
import { blocklistSettings } from './settings.js';
import { checkDnsbl, syncLists, type WatchDeps } from './watch.js';

/** The watch's dependencies on a running desk: listings become events through intake. */
export function watchDeps(desk: Desk): WatchDeps {
  return {
    db: desk.db, dataDir: desk.dataDir, settings: blocklistSettings(desk.config), log: desk.log,
    deliver: async (events, list) => { await ingestEvents(desk, events, `blocklist:${list}`); },
  };
}

export const blocklistService: DeskService = {
  name: 'blocklists',
  async start(desk) {
    const deps = watchDeps(desk);
    const s = deps.settings;
    const dnsbl = s.dnsbl.zones.length > 0 && s.dnsbl.addresses.length > 0;
    if (!s.sources.length && !dnsbl) return null;
    // Each list keeps its own schedule (next_due); the tick only has to be finer than the finest.
    const tickMs = Math.max(1000, Math.min(60_000, ...s.sources.map((x) => (x.every ?? s.every) * 1000), dnsbl ? s.dnsbl.every * 1000 : Infinity));
    let nextDnsbl = 0;
    let round: Promise<void> | null = null;
    const tick = async () => {
      await syncLists(deps);
      if (dnsbl && Date.now() >= nextDnsbl) {
        nextDnsbl = Date.now() + s.dnsbl.every * 1000;
        await checkDnsbl(deps);
      }
    };
    const run = () => {
      round ??= tick().catch((err) => desk.log.error({ err }, 'blocklist watch round failed')).finally(() => { round = null; });
    };
    const timer = setInterval(run, tickMs);
    run();
    return {
      async stop() {
        clearInterval(timer);
        await round;
      },
    };
  },
};
