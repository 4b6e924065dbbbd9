// A small inventory and a case environment for the case and notice suites.
import type { Db } from '../../src/store/db.js';
import { loadConfig } from '../../src/config/config.js';
import { createLogger } from '../../src/log.js';
import { makeCaseEnv, type CaseEnv } from '../../src/cases/env.js';
import type { GroupInput } from '../../src/cases/grouping.js';
import type { Event } from '../../src/events/event.js';
import { classify } from '../../src/events/event.js';

export async function seedInventory(db: Db): Promise<void> {
  await db.exec(`
    INSERT INTO brands (id, name, from_address) VALUES ('sakura', 'さくらホスティング', 'abuse@sakura.example'), ('blue', 'Blue Cloud', NULL);
    INSERT INTO customers (id, name, language, emails, brand_id) VALUES
      ('c-ja', '山田商店', 'ja', '{"yamada@shop.example"}', 'sakura'),
      ('c-en', 'Acme Ltd', 'en', '{"ops@acme.example","cto@acme.example"}', 'blue'),
      ('c-none', 'Silent KK', 'ja', '{}', 'sakura');
    INSERT INTO services (id, customer_id, type, plan) VALUES
      ('web-1', 'c-ja', 'shared', 'standard'), ('vps-1', 'c-en', 'vps', 'v2'), ('vps-2', 'c-none', 'vps', 'v1');
  `);
}

export function testEnv(db: Db, overrides: Record<string, unknown> = {}): CaseEnv {
  return makeCaseEnv(db, loadConfig({ env: {}, overrides }), createLogger('silent'));
}

export const ATTR = {
  web1: { customer_id: 'c-ja', service_id: 'web-1', service_type: 'shared', brand: 'sakura' },
  vps1: { customer_id: 'c-en', service_id: 'vps-1', service_type: 'vps', brand: 'blue' },
  vps2: { customer_id: 'c-none', service_id: 'vps-2', service_type: 'vps', brand: 'sakura' },
};

export function ev(type: string, fields: Partial<Event> = {}): Event {
  return classify({ 'source.ip': '192.0.2.10', ...fields }, type);
}

export function input(type: string, attribution: GroupInput['attribution'], at: string, extra: Partial<GroupInput> = {}, fields: Partial<Event> = {}): GroupInput {
  return { event: ev(type, fields), attribution, time: new Date(at), ...extra };
}
