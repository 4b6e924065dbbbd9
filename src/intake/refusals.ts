// Input turned away at the door (too large, unreadable, not for us) is recorded with the reason,
// so that "did you get my report?" has an answer even when the answer is no.
import type { Desk } from '../desk.js';
import { storable } from './events-store.js';

export interface Refusal {
  channel: string;
  reason: string;
  size?: number;
  peer?: string;
  meta?: Record<string, unknown>;
}

/** Never throws: failing to record a refusal must not turn it into a crash. */
export async function recordRefusal(desk: Desk, r: Refusal): Promise<void> {
  desk.log.warn({ channel: r.channel, reason: r.reason, size: r.size, peer: r.peer }, 'intake refused');
  try {
    await desk.db.query('INSERT INTO intake_refusals (channel, reason, size, peer, meta) VALUES ($1, $2, $3, $4, $5::jsonb)',
      [r.channel, storable(r.reason.slice(0, 2000)), r.size ?? null, r.peer ?? null, storable(JSON.stringify(r.meta ?? {}))]);
  } catch (e) {
    desk.log.error({ err: e }, 'could not record an intake refusal');
  }
}
