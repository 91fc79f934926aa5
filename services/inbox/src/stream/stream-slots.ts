import { TriggersError } from '@triggers/core/domain';

/**
 * Counts the open streams of each customer on this process. `acquire` throws `429 rate_limited`
 * beyond the limit; the function it returns gives the slot back (once, however often called).
 */
export class CustomerStreamSlots {
  private readonly open = new Map<string, number>();

  constructor(private readonly maxPerCustomer: number) {}

  acquire(customerId: string): () => void {
    const count = this.open.get(customerId) ?? 0;
    if (count >= this.maxPerCustomer) {
      throw new TriggersError('rate_limited', {
        detail: `At most ${this.maxPerCustomer} event streams may be open at once; close one first.`,
        headers: { 'Retry-After': '1' },
      });
    }
    this.open.set(customerId, count + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.open.get(customerId) ?? 1) - 1;
      if (left <= 0) this.open.delete(customerId);
      else this.open.set(customerId, left);
    };
  }
}
