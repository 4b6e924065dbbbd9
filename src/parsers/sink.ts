// Where a format module puts its events: collected in memory up to the limit, or handed to the
// intake's ctx.onEvents in batches so a million-row feed never sits in memory at once.
import type { Event } from '../events/event.js';
import { ParseRefusal } from './mail/mime.js';
import type { ParseContext } from './types.js';

const BATCH = 1000;

export class EventSink {
  readonly events: Event[] = [];
  count = 0;

  constructor(private readonly ctx: ParseContext) {}

  add(e: Event): void {
    this.count++;
    if (!this.ctx.onEvents && this.count > this.ctx.limits.maxEvents) {
      throw new ParseRefusal('too-many-events', `more than ${this.ctx.limits.maxEvents} events; feed it through the streaming CSV reader`);
    }
    this.events.push(e);
  }

  /** True when the caller should await flush() before adding more. */
  get full(): boolean {
    return this.ctx.onEvents !== undefined && this.events.length >= BATCH;
  }

  async flush(): Promise<void> {
    if (!this.ctx.onEvents || this.events.length === 0) return;
    const batch = this.events.splice(0, this.events.length);
    await this.ctx.onEvents(batch);
  }
}
