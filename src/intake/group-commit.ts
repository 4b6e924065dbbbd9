// Group commit: callers submit one item each and wait; the items that arrive while a commit is
// in flight go together in the next one. Under load one transaction (and one fsync) serves many
// reports; when idle an item is written at once, without waiting for a timer. With `concurrency`
// above 1 the next batch is written while the previous one is still being flushed, so that the
// wait for the disk is not a wait for the database.

export class GroupCommit<I, O> {
  private queue: { item: I; resolve: (o: O) => void; reject: (e: unknown) => void }[] = [];
  private inFlight = 0;

  /** `write` must return one output per item, in order, and either commit all of them or none. */
  constructor(private readonly write: (items: I[]) => Promise<O[]>, private readonly maxBatch = 256, private readonly concurrency = 1) {}

  submit(item: I): Promise<O> {
    return this.submitAll([item])[0];
  }

  /** Several items queued at once, so that they go in the same commit (unless it would pass maxBatch). */
  submitAll(items: I[]): Promise<O>[] {
    const out = items.map((item) => new Promise<O>((resolve, reject) => { this.queue.push({ item, resolve, reject }); }));
    this.pump();
    return out;
  }

  /** Resolves when everything submitted so far has been written (or failed). */
  async idle(): Promise<void> {
    while (this.inFlight || this.queue.length) await new Promise((r) => setTimeout(r, 5));
  }

  private pump(): void {
    while (this.queue.length && this.inFlight < this.concurrency) {
      this.inFlight++;
      void this.writeBatch(this.queue.splice(0, this.maxBatch)).finally(() => { this.inFlight--; this.pump(); });
    }
  }

  private async writeBatch(batch: { item: I; resolve: (o: O) => void; reject: (e: unknown) => void }[]): Promise<void> {
    try {
      const out = await this.write(batch.map((b) => b.item));
      batch.forEach((b, i) => b.resolve(out[i]));
    } catch (e) {
      if (batch.length === 1) { batch[0].reject(e); return; }
      // One bad item must not fail the others: write them one by one to find it.
      for (const b of batch) {
        try { b.resolve((await this.write([b.item]))[0]); } catch (e1) { b.reject(e1); }
      }
    }
  }
}
