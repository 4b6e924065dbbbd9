// A desk on a fresh test store, with its HTTP server built (not listening): `app.inject()` for
// API tests, or `app.listen({ host: '127.0.0.1', port: 0 })` for real clients.
import type { FastifyInstance } from 'fastify';
import { loadConfig, type Config } from '../../src/config/config.js';
import { createLogger } from '../../src/log.js';
import { openDesk, type Desk } from '../../src/desk.js';
import { buildServer } from '../../src/web/server.js';
import { createApiKey, type Role } from '../../src/web/auth.js';
import type { TestStore } from './stores.js';
import { stopIntake } from '../../src/intake/worker.js';

export interface TestDesk {
  desk: Desk;
  app: FastifyInstance;
  /** Makes an API key with the roles and returns headers that carry it. */
  keyFor(roles: Role[], extra?: { reporterId?: string; customerId?: string }): Promise<Record<string, string>>;
  close(): Promise<void>;
}

export async function makeDesk(store: TestStore, configure?: (c: Config) => void): Promise<TestDesk> {
  const config = loadConfig({ env: {}, file: undefined });
  config.data_dir = store.dataDir;
  config.http.port = 0;
  config.smtp.port = 0;
  configure?.(config);
  const log = createLogger(process.env.TEST_LOG_LEVEL ?? 'silent');
  const desk = await openDesk(config, log, await store.open());
  const app = await buildServer(desk);
  return {
    desk, app,
    async keyFor(roles, extra) {
      const k = await createApiKey(desk.db, { name: `test ${roles.join('+')}`, roles, ...extra });
      return { authorization: `Bearer ${k.key}` };
    },
    async close() {
      await app.close();
      await stopIntake(desk);
      desk.attribution.close();
      await desk.db.close();
    },
  };
}
