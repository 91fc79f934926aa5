/**
 * Caps how many webhook requests one subscription, and one origin, have in flight in this
 * deliverer (`TRIGGERS_DELIVERER_MAX_PER_SUBSCRIPTION`, `TRIGGERS_DELIVERER_MAX_PER_ORIGIN`), so a
 * slow or batching tenant cannot take every slot and stall the others.
 *
 * Where the queue can limit keys (SQLite, Kafka), a receive takes no more of a subscription's messages
 * than it has room for (`subscriptionRoom`): the rest wait in the queue, visible and in order, so
 * a slow subscription's backlog costs no put-backs and drains at the receiver's own pace.
 * Elsewhere (or for an origin shared by several subscriptions), a queue message whose subscription
 * or origin holds its share does not wait in a consumer slot: while fewer than `WAITING_SHARES`
 * shares of its subscription wait already (or its turn is near), the deliverer holds it detached
 * and sends it when a slot frees (`waitOrDefer`); beyond that it is put back for `deferralMs`, its
 * turn in an estimated schedule of that key (the key's share divided by its average request time
 * gives its pace; each deferral takes the next turn). So a backlog of
 * thousands of messages for one slow receiver is put back about once each instead of cycling
 * through the queue, and what the turns are wrong about is corrected on the message's return.
 * The batcher's flushes hold no queue slot, so they `acquire` and wait.
 */

export interface FairShareLimits {
  perSubscription: number;
  perOrigin: number;
}

export interface Slot {
  /** Gives the slot back; the time since it was taken feeds the key's average request time. */
  release(): void;
}

interface KeyState {
  inFlight: number;
  /** Queue messages of the key being handled (received, slot taken or not yet). */
  handling: number;
  /** Moving average of a request's time (ms). */
  averageMs: number;
  /** The last turn handed to a deferred message (epoch ms). */
  lastTurnAt: number;
}

interface Waiter {
  workflowId: string;
  origin: string;
  resolve: (slot: Slot) => void;
}

/** A guess for a key with no finished request yet. */
const INITIAL_AVERAGE_MS = 1000;
/** Weight of the newest request in the moving average. */
const AVERAGE_WEIGHT = 0.2;
/** A deferral is at least this long, so a saturated key is never polled in a tight loop. */
export const MIN_DEFERRAL_MS = 250;
/** And at most this long: a turn further out is handed out again when the message returns. */
export const MAX_DEFERRAL_MS = 60_000;
/** Turns are spread by ±this fraction so the messages of one turn do not all return at once. */
const JITTER = 0.1;
/** A subscription's refused messages wait for a slot, up to this many times its share; the rest are put back. */
export const WAITING_SHARES = 4;
/** Keys idle (nothing in flight, no turn ahead) are forgotten past this many. */
const MAX_IDLE_KEYS = 10_000;

export class FairShare {
  private readonly subscriptions = new Map<string, KeyState>();
  private readonly origins = new Map<string, KeyState>();
  private readonly waiters: Waiter[] = [];

  constructor(
    private readonly limits: FairShareLimits,
    private readonly now: () => number = Date.now,
    private readonly random: () => number = Math.random,
  ) {
    if (!(limits.perSubscription >= 1) || !(limits.perOrigin >= 1)) throw new RangeError('Fair-share limits must be at least 1');
  }

  /** A slot for one request now, or null while the subscription or its origin holds its share. */
  tryAcquire(workflowId: string, origin: string): Slot | null {
    // Flushes waiting for a slot of these keys go first.
    if (this.waiters.some((w) => w.workflowId === workflowId || w.origin === origin)) return null;
    return this.take(workflowId, origin);
  }

  /** Waits for a slot (for work that holds no queue slot while it waits). */
  acquire(workflowId: string, origin: string): Promise<Slot> {
    const slot = this.take(workflowId, origin);
    if (slot) return Promise.resolve(slot);
    return new Promise((resolve) => this.waiters.push({ workflowId, origin, resolve }));
  }

  /**
   * How long to put back a message that `tryAcquire` refused: the next turn of whichever of its
   * keys is saturated (the later one when both are).
   */
  deferralMs(workflowId: string, origin: string): number {
    return this.deferralFor(this.nextTurnIn(workflowId, origin));
  }

  /**
   * For a message `tryAcquire` refused: the slot to wait for, when its key's next turn is nearer
   * than a deferral's minimum or fewer than `WAITING_SHARES` shares of its subscription are
   * waiting already (putting a message back and receiving it again costs more than holding it;
   * the deliverer holds it outside the consumer's slots); otherwise how long to put it back for,
   * as `deferralMs`.
   */
  waitOrDefer(workflowId: string, origin: string): { slot: Promise<Slot> } | { deferMs: number } {
    const turnInMs = this.nextTurnIn(workflowId, origin);
    let waiting = 0;
    for (const w of this.waiters) if (w.workflowId === workflowId) waiting++;
    if (turnInMs < MIN_DEFERRAL_MS || waiting < WAITING_SHARES * this.limits.perSubscription) return { slot: this.acquire(workflowId, origin) };
    return { deferMs: this.deferralFor(turnInMs) };
  }

  private deferralFor(turnInMs: number): number {
    const jittered = turnInMs * (1 + JITTER * (2 * this.random() - 1));
    return Math.round(Math.min(MAX_DEFERRAL_MS, Math.max(MIN_DEFERRAL_MS, jittered)));
  }

  /** Takes the next turn of whichever of the keys is saturated (the later one when both are): ms from now. */
  private nextTurnIn(workflowId: string, origin: string): number {
    const now = this.now();
    let turnAt = now;
    const keys: [KeyState | undefined, number][] = [
      [this.subscriptions.get(workflowId), this.limits.perSubscription],
      [this.origins.get(origin), this.limits.perOrigin],
    ];
    for (const [state, limit] of keys) {
      if (!state || state.inFlight < limit) continue;
      // One turn per (average request time / share): the pace at which the key frees slots.
      const turn = Math.min(now + MAX_DEFERRAL_MS, Math.max(now, state.lastTurnAt) + state.averageMs / limit);
      state.lastTurnAt = turn;
      turnAt = Math.max(turnAt, turn);
    }
    return turnAt - now;
  }

  /**
   * The room each subscription with requests in flight (or a flush waiting) has left, and the
   * room of any other: a queue that honours it hands this deliverer no more of a subscription's
   * messages than it can send now, so a slow subscription's backlog waits in the queue, in order,
   * and follows the receiver's pace at once when it speeds up.
   */
  subscriptionRoom(): { perKey: number; keys: Map<string, number> } {
    const keys = new Map<string, number>();
    for (const [workflowId, state] of this.subscriptions) {
      // A message being handled takes its slot soon (or already holds it): count it once.
      const used = Math.max(state.inFlight, state.handling);
      if (used > 0) keys.set(workflowId, Math.max(0, this.limits.perSubscription - used));
    }
    for (const waiter of this.waiters) keys.set(waiter.workflowId, 0);
    return { perKey: this.limits.perSubscription, keys };
  }

  /**
   * Notes a received message of the subscription from the moment its handler starts (before it
   * asks for a slot) until it ends, so `subscriptionRoom` does not hand out its room twice.
   */
  handling(workflowId: string): () => void {
    const state = stateOf(this.subscriptions, workflowId);
    state.handling++;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      state.handling--;
    };
  }

  /** Requests in flight for a subscription and for an origin (metrics and tests). */
  inFlight(workflowId: string, origin: string): { subscription: number; origin: number } {
    return { subscription: this.subscriptions.get(workflowId)?.inFlight ?? 0, origin: this.origins.get(origin)?.inFlight ?? 0 };
  }

  private take(workflowId: string, origin: string): Slot | null {
    const subscription = stateOf(this.subscriptions, workflowId);
    const host = stateOf(this.origins, origin);
    if (subscription.inFlight >= this.limits.perSubscription || host.inFlight >= this.limits.perOrigin) return null;
    subscription.inFlight++;
    host.inFlight++;
    const startedAt = this.now();
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        const tookMs = Math.max(0, this.now() - startedAt);
        for (const state of [subscription, host]) {
          state.inFlight--;
          state.averageMs += AVERAGE_WEIGHT * (tookMs - state.averageMs);
        }
        this.wakeWaiters();
        this.forgetIdle();
      },
    };
  }

  private wakeWaiters(): void {
    for (let i = 0; i < this.waiters.length; ) {
      const waiter = this.waiters[i];
      const slot = this.take(waiter.workflowId, waiter.origin);
      if (!slot) {
        i++;
        continue;
      }
      this.waiters.splice(i, 1);
      waiter.resolve(slot);
    }
  }

  private forgetIdle(): void {
    const now = this.now();
    for (const map of [this.subscriptions, this.origins]) {
      if (map.size <= MAX_IDLE_KEYS) continue;
      for (const [key, state] of map) if (state.inFlight === 0 && state.handling === 0 && state.lastTurnAt < now) map.delete(key);
    }
  }
}

function stateOf(map: Map<string, KeyState>, key: string): KeyState {
  let state = map.get(key);
  if (!state) {
    state = { inFlight: 0, handling: 0, averageMs: INITIAL_AVERAGE_MS, lastTurnAt: 0 };
    map.set(key, state);
  }
  return state;
}
