// The running desk: configuration, database, logger and the attribution index, shared by the web
// server, the long-running services and the commands that need more than one of them.
import type { Config } from './config/config.js';
import type { Logger } from './log.js';
import type { Db } from './store/db.js';
import { openDb } from './store/db.js';
import { migrate } from './store/migrate.js';
import { openAttribution, type AttributionService } from './attribution/service.js';

export interface Desk {
  config: Config;
  db: Db;
  log: Logger;
  attribution: AttributionService;
  dataDir: string;
}

export async function openDesk(config: Config, log: Logger, db?: Db): Promise<Desk> {
  const store = db ?? await openDb({
    dataDir: config.data_dir,
    databaseUrl: config.database_url || undefined,
    connectTimeoutMs: config.database_connect_timeout * 1000,
  });
  await migrate(store);
  const attribution = await openAttribution(store);
  return { config, db: store, log, attribution, dataDir: config.data_dir };
}
