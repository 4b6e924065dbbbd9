// `madoguchi serve`: the HTTP server and every long-running service, until SIGINT or SIGTERM.
import type { Desk } from './desk.js';
import { buildServer } from './web/server.js';
import { services, type RunningService } from './services.js';

export interface RunningDesk { url: string; stop(): Promise<void> }

export async function startDesk(desk: Desk): Promise<RunningDesk> {
  const app = await buildServer(desk);
  const url = await app.listen({ host: desk.config.http.host, port: desk.config.http.port });
  desk.log.info({ url, database: desk.db.kind }, 'desk serving');
  const running: { name: string; svc: RunningService }[] = [];
  const poll = setInterval(() => { desk.attribution.refresh().catch((err) => desk.log.warn({ err }, 'inventory reload failed')); }, 5000);
  poll.unref();
  try {
    for (const s of services) {
      const r = await s.start(desk);
      if (r) { running.push({ name: s.name, svc: r }); desk.log.info({ service: s.name }, 'service started'); }
    }
  } catch (e) {
    await app.close();
    for (const r of running.reverse()) await r.svc.stop().catch(() => undefined);
    throw e;
  }
  return {
    url,
    async stop() {
      clearInterval(poll);
      await app.close();
      for (const r of running.reverse()) {
        await r.svc.stop().catch((err) => desk.log.warn({ err, service: r.name }, 'service did not stop cleanly'));
      }
    },
  };
}
