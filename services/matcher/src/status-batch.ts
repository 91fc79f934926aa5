import type { DeliveryStore, EventRef } from '@triggers/core/ports';

interface Waiting {
  event: EventRef;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * Batches the matcher's `unmatched` settles: the events settled during one turn of the event loop
 * (the messages of one receive, handled concurrently) go to the store in one `settleUnmatched`
 * call, i.e. one statement or transaction instead of one per event. Each caller's promise settles
 * with that call, so its message is acknowledged only once its status is written.
 */
export class UnmatchedBatch {
  private waiting: Waiting[] = [];
  private scheduled = false;

  constructor(private readonly store: Pick<DeliveryStore, 'settleUnmatched'>) {}

  settle(event: EventRef): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.waiting.push({ event, resolve, reject });
      if (this.scheduled) return;
      this.scheduled = true;
      setImmediate(() => this.flush());
    });
  }

  private flush(): void {
    this.scheduled = false;
    const group = this.waiting;
    this.waiting = [];
    this.store.settleUnmatched(group.map((w) => w.event)).then(
      () => group.forEach((w) => w.resolve()),
      (error: unknown) => group.forEach((w) => w.reject(error)),
    );
  }
}
