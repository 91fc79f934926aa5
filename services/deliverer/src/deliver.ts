import { deliveryMessage, type AttemptOutcome, type EventStore, type DeliveryRecord, type DeliveryStore, type MetadataStore, type Queue, type DeliveryMessage, type ReplayStore } from '@triggers/core/ports';
import { classifyError, classifyResponse, countsAgainstOrigin, computeRetryDelay, effectiveRetryPolicy, honoursRetryAfter, parseRetryAfter, webhookSignatureHeaders, CircuitOpenError, type Subscription, type AttemptStatus, type StoredEvent, type Clock, type DeliveryOutcome } from '@triggers/core/domain';
import { originOf, contextOfSpan, inSpanPassedOn, markSpanError, SpanKind, traceLogFieldsOf, traceparentOf, tracingActive, type Span, type Logger, type CircuitBreakers, type DetachedMessage, type MessageControl, type WebhookResponse, type WebhookSender } from '@triggers/core/runtime';
import { webhookBody } from './webhook-body.ts';
import { batchIdFor } from './batch-id.ts';
import type { Batcher } from './batcher.ts';
import type { FairShare, Slot } from './fair-share.ts';
import type { DelivererMetrics } from './metrics.ts';
import type { SubscriptionCache } from './subscription-cache.ts';

export interface DelivererDeps {
  eventStore: EventStore;
  deliveryStore: DeliveryStore;
  metadataStore: MetadataStore;
  /** The subscription reads of `metadataStore`, shared by a backlog's first attempts for a bounded time. */
  subscriptions: SubscriptionCache;
  /** Where a replay's delivered / failed counts go. */
  replayStore: ReplayStore;
  queue: Queue;
  sender: WebhookSender;
  breakers: CircuitBreakers;
  clock: Clock;
  log: Logger;
  metrics: DelivererMetrics;
  random: () => number;
  settings: {
    /** The defaults of every subscription's retry policy (`effectiveRetryPolicy`). */
    maxAttempts: number;
    retryBaseMs: number;
    retryMaxDelayMs: number;
    /** The webhook timeout of a subscription without its own `timeout_ms` (TRIGGERS_WEBHOOK_TIMEOUT_MS). */
    timeoutMs: number;
    /**
     * The lease of a claimed attempt (`TRIGGERS_DELIVERER_CLAIM_LEASE_MS`, default 5 s), renewed
     * every third of it while the webhook request runs. Past it without a recorded outcome, the
     * claimer is taken for dead and a redelivered message makes the next attempt: a crash costs
     * at most this much, however long the webhook timeout.
     */
    attemptLeaseMs?: number;
    /** Send the attempt span's `traceparent` header to the receiver (TRIGGERS_WEBHOOK_TRACEPARENT). */
    webhookTraceparent?: boolean;
  };
  /** Collects first attempts of subscriptions that ask for batching. */
  batcher: Batcher;
  /** Caps the requests in flight per subscription and per origin. */
  fairShare: FairShare;
  /** Sends of messages held for their fair-share turn (`stop` waits for them). */
  holding?: Set<Promise<void>>;
  /**
   * The span this delivery runs in (its message's `process deliveries` span, or the batch's
   * parent), passed on explicitly — to the attempt's outcome attributes, the client span, the
   * messages it sends and its log lines — never made active (no AsyncLocalStorage: see
   * `inSpanPassedOn`). Set per message by `inSpanOf`; absent while tracing is off.
   */
  span?: Span;
}

/** `deps` for work that runs in `span` (itself while tracing is off: nothing is copied). */
export function inSpanOf(deps: DelivererDeps, span: Span | undefined): DelivererDeps {
  return span && tracingActive() ? { ...deps, span } : deps;
}

/** Sets attributes on the delivery's span (nothing without one). */
function annotate(deps: DelivererDeps, attributes: Record<string, string | number | boolean>): void {
  deps.span?.setAttributes(attributes);
}

/** The longest delay before a held message that failed is received again (as the consumer's nack). */
const RELEASE_MAX_DELAY_MS = 60_000;
/** A message may arrive this much before its delivery's due time and still go (timer granularity). */
const EARLY_TOLERANCE_MS = 5;
/** Spread deferred deliveries over this much past the breaker's reset so they don't stampede the probe. */
const BREAKER_DEFER_SPREAD_MS = 1000;
/** `settings.attemptLeaseMs` when not set. */
const DEFAULT_ATTEMPT_LEASE_MS = 5000;
/**
 * A FIFO delivery waiting behind its subscription's head is put back for at least this long (and
 * until the head's next attempt is due, at most MAX_HOLD_MS). It normally goes sooner: whoever
 * ends the head releases the next one at once; the hold only bounds the wait when that release
 * was lost (a crash between recording the head's outcome and sending the release).
 */
export const MIN_HOLD_MS = 30_000;
export const MAX_HOLD_MS = 300_000;

/**
 * Handles one `deliveries` message: attempt `message.attempt` of one delivery, or of the members
 * of one batched request. Recognises what must not be sent:
 * - a finished delivery (a duplicated message, or one whose handler died after recording the
 *   outcome) → its event settled again, nothing sent; a later attempt already made → nothing;
 * - this message's own attempt claimed but never recorded (its handler died, or threw, after the
 *   claim) → the next attempt once the claim's lease has passed (by the "not due yet" rule), so a
 *   crash mid-attempt never strands the delivery;
 * - not due yet (a duplicate of a delayed retry) → put back until it is;
 * - the origin's circuit is open → put back until the breaker may let it through, attempt unspent;
 * - its subscription or origin holds its share of the deliverer → held (detached from the
 *   consumer) until a slot frees while few of its subscription's wait, else put back for its turn
 *   (`FairShare.waitOrDefer`), attempt unspent; it never waits in a consumer slot.
 * First attempts for a batching subscription wait in the batcher (their message detached from the
 * consumer through `control`) and go out as one request.
 * A FIFO subscription (`ordering: "fifo"`) sends only its head (`deliverInOrder`).
 */
export async function deliver(deps: DelivererDeps, message: DeliveryMessage, control?: MessageControl): Promise<void> {
  const ids = message.batch ? message.batch.deliveryIds : [message.deliveryId];
  const found = await Promise.all(ids.map((id) => deps.deliveryStore.getDelivery(id)));
  // `<=`, not `<`: attemptsMade === message.attempt means this message's attempt was claimed and
  // its outcome never recorded (a recorded retry has moved nextAttemptAt and sent attempt + 1).
  // Dropping it would strand the delivery; it goes on as attempt attemptsMade + 1 when due.
  const members = found.filter((d): d is DeliveryRecord => d !== null && d.status === 'pending' && d.attemptsMade <= message.attempt);
  if (members.length === 0) {
    const ended = found.filter((d): d is DeliveryRecord => d !== null && d.status !== 'pending');
    // Where ending a delivery and settling its event are two writes (DynamoDB), a deliverer killed
    // between them left the event `pending` for good: nothing else looks at it again (the sweeper
    // only finds pending deliveries). Its message, never acked, comes back here: finishing the
    // delivery again settles the event from its counters (a no-op where it is settled already).
    for (const d of ended) await deps.deliveryStore.finishDelivery(d.deliveryId, { status: d.status as 'succeeded' | 'failed', now: deps.clock.now() });
    // A replay's delivery that ended before its outcome was counted (the counting process died): count it now.
    await countReplayOutcomes(deps, ended);
    return;
  }
  const webhookId = message.batch?.batchId ?? members[0].deliveryId;

  const now = deps.clock.now();
  const dueAt = Math.max(...members.map((m) => m.nextAttemptAt));
  // Released by the end of its FIFO predecessor and never attempted: its due time only recorded its hold.
  const released = message.released === true && members.every((m) => m.attemptsMade === 0);
  if (!released && dueAt > now + EARLY_TOLERANCE_MS) {
    await putBack(deps, members, webhookId, dueAt - now);
    return;
  }

  // A batch message's members share one subscription: the read must be fresh enough for each.
  const subscription = await deps.subscriptions.forDelivery({
    customerId: members[0].customerId,
    workflowId: members[0].workflowId,
    attemptsMade: Math.max(...members.map((m) => m.attemptsMade)),
    createdAt: Math.max(...members.map((m) => m.createdAt)),
  });
  if (!subscription || subscription.status !== 'active') {
    const reason = subscription ? 'subscription disabled' : 'subscription deleted';
    for (const m of members) await deps.deliveryStore.finishDelivery(m.deliveryId, { status: 'failed', reason, now });
    await countReplayOutcomes(deps, members.map((m) => ({ ...m, status: 'failed' as const })));
    return;
  }
  if (subscription.ordering === 'fifo') {
    await deliverInOrder(deps, subscription, message, members, webhookId, control);
    return;
  }
  // A replay's deliveries go one per request (their outcome is counted for the replay), never into a batch window.
  if (!message.batch && subscription.batching && message.attempt === 1 && control && !members[0].replayId) {
    deps.batcher.add(subscription, members[0], control.detach(), deps.span);
    return;
  }
  await sendInShare(deps, subscription, { members, webhookId, control }, { group: members, groupId: webhookId });
}

/**
 * Sends `send.group` (under `send.groupId`) within its subscription's and origin's fair share: at
 * once when a slot is free; else the message (`received`) waits for its turn detached from the
 * consumer's slots (`FairShare.waitOrDefer`), or is put back for it, its attempt unspent.
 */
async function sendInShare(
  deps: DelivererDeps,
  subscription: Subscription,
  received: { members: DeliveryRecord[]; webhookId: string; control?: MessageControl },
  send: { group: DeliveryRecord[]; groupId: string; ordered?: boolean },
): Promise<void> {
  const origin = originOf(subscription.webhookUrl);
  let slot = deps.fairShare.tryAcquire(subscription.workflowId, origin);
  if (!slot) {
    const turn = deps.fairShare.waitOrDefer(subscription.workflowId, origin);
    if ('deferMs' in turn) {
      deps.metrics.deferredByFairShare.inc(received.members.length);
      annotate(deps, { 'triggers.outcome': 'deferred_by_fair_share' });
      // No due-time write: a deferral is at most a minute, far inside the sweeper's grace.
      // The message comes back as it was (a FIFO group is formed again then).
      await putBack(deps, received.members, received.webhookId, turn.deferMs);
      return;
    }
    if (received.control) {
      // Wait for the turn holding the message outside the consumer's slots (it stays invisible),
      // so other subscriptions' messages keep coming, rather than send it round the queue again.
      const held = received.control.detach();
      const sending = sendInTurn(deps, subscription, send, turn.slot, held);
      deps.holding?.add(sending);
      void sending.finally(() => deps.holding?.delete(sending));
      return;
    }
    slot = await turn.slot;
  }
  try {
    // An unordered send is of the received message's own deliveries: its control may ack it with their outcome.
    await sendToSubscription(deps, subscription, send.group, send.groupId, { ordered: send.ordered, control: send.ordered ? undefined : received.control });
  } finally {
    slot.release();
  }
}

/** A message waiting (detached) for its fair-share turn: sent when the slot comes, then acked; a failure releases it. */
async function sendInTurn(deps: DelivererDeps, subscription: Subscription, send: { group: DeliveryRecord[]; groupId: string; ordered?: boolean }, turn: Promise<Slot>, held: DetachedMessage): Promise<void> {
  const slot = await turn;
  const webhookId = send.groupId;
  try {
    await sendToSubscription(deps, subscription, send.group, webhookId, { ordered: send.ordered });
  } catch (error) {
    deps.log.warn({ ...traceLogFieldsOf(deps.span), err: error, workflowId: subscription.workflowId, webhookId, receiveCount: held.receiveCount }, 'Failed to process a held delivery; will retry');
    await held.release(Math.min(RELEASE_MAX_DELAY_MS, 250 * 2 ** Math.min(held.receiveCount - 1, 10))).catch(() => undefined);
    return;
  } finally {
    slot.release();
  }
  await held.ack().catch((error: unknown) => deps.log.warn({ ...traceLogFieldsOf(deps.span), err: error, webhookId }, 'Failed to acknowledge a held delivery message'));
}

/**
 * One message of a FIFO subscription. Only the head (its first pending delivery in event order)
 * is sent; a message of any other delivery is put back, its due time moved so the sweeper does
 * not take it for lost, until the head's next attempt is due (MIN_HOLD_MS..MAX_HOLD_MS). The
 * head's first attempt takes the never-attempted deliveries right behind it into one request
 * when the subscription batches (up to `max_events`, without waiting for a window): a batch keeps
 * event order inside, and the next batch starts after its last member. Whoever ends the head
 * (success, or failure after the last attempt) releases the next delivery at once
 * (`releaseNext`). Several deliverers may run: the head's attempt is claimed by compare-and-set,
 * and nothing behind it is sent before its outcome is recorded.
 */
async function deliverInOrder(deps: DelivererDeps, subscription: Subscription, message: DeliveryMessage, members: DeliveryRecord[], webhookId: string, control?: MessageControl): Promise<void> {
  const maxGroup = !message.batch && subscription.batching && members[0].attemptsMade === 0 ? subscription.batching.maxEvents : 1;
  let inOrder = await deps.deliveryStore.pendingInOrder(subscription.workflowId, maxGroup);
  if (!leads(inOrder, members)) {
    if (inOrder.length === 0) return; // finished meanwhile
    await holdBehind(deps, members, webhookId, inOrder[0]);
    // The head may have ended between the read and the hold, and its release found this delivery
    // before the hold moved its due time: read again, so such a release is never lost.
    inOrder = await deps.deliveryStore.pendingInOrder(subscription.workflowId, maxGroup);
    if (!leads(inOrder, members)) return;
  }
  let group = members;
  let groupId = webhookId;
  if (maxGroup > 1) {
    const behind = inOrder.findIndex((d) => d.attemptsMade !== 0);
    group = behind === -1 ? inOrder : inOrder.slice(0, behind);
    groupId = group.length === 1 ? group[0].deliveryId : batchIdFor(group.map((d) => d.deliveryId));
  }
  await sendInShare(deps, subscription, { members, webhookId, control }, { group, groupId, ordered: true });
}

/** Whether these members hold the subscription's head. */
function leads(inOrder: DeliveryRecord[], members: DeliveryRecord[]): boolean {
  return inOrder.length > 0 && members.some((m) => m.deliveryId === inOrder[0].deliveryId);
}

/** Puts back deliveries waiting behind `head` (see MIN_HOLD_MS), their due time moved with them. */
async function holdBehind(deps: DelivererDeps, deliveries: DeliveryRecord[], webhookId: string, head: DeliveryRecord): Promise<void> {
  deps.metrics.heldInOrder.inc(deliveries.length);
  annotate(deps, { 'triggers.outcome': 'held_in_order' });
  const now = deps.clock.now();
  const untilHead = Math.min(MAX_HOLD_MS, Math.max(MIN_HOLD_MS, head.nextAttemptAt - now));
  const delayMs = Math.round(untilHead * (1 + 0.1 * deps.random()));
  for (const d of deliveries) await deps.deliveryStore.scheduleNextAttempt(d.deliveryId, now + delayMs);
  await putBack(deps, deliveries, webhookId, delayMs);
}

/**
 * After the head of a FIFO subscription ended: a message for the next pending delivery in order,
 * due now if it was never attempted (else when its next attempt is due). Duplicates of it are
 * harmless (the attempt is claimed by compare-and-set).
 */
async function releaseNext(deps: DelivererDeps, subscription: Subscription): Promise<void> {
  const [next] = await deps.deliveryStore.pendingInOrder(subscription.workflowId, 1);
  if (!next) return;
  const delayMs = next.attemptsMade === 0 ? 0 : Math.max(0, next.nextAttemptAt - deps.clock.now());
  await deps.queue.send('deliveries', deliveryMessage(next, { delayMs, released: true, traceparent: traceparentOf(deps.span) }));
}

/**
 * The batcher's flush: one request for the group, under a `webhook-id` derived from its members.
 * It holds no consumer slot, so it waits for its subscription's and origin's share.
 */
export async function sendBatch(deps: DelivererDeps, subscription: Subscription, deliveries: DeliveryRecord[], span?: Span): Promise<void> {
  deps = inSpanOf(deps, span);
  const webhookId = deliveries.length === 1 ? deliveries[0].deliveryId : batchIdFor(deliveries.map((d) => d.deliveryId));
  const slot = await deps.fairShare.acquire(subscription.workflowId, originOf(subscription.webhookUrl));
  try {
    await sendToSubscription(deps, subscription, deliveries, webhookId);
  } finally {
    slot.release();
  }
}

/**
 * Makes one attempt for a group of deliveries to one subscription (usually a group of one).
 * Each member's attempt is claimed with compare-and-set inside the breaker, so two consumers of
 * one message cannot both send it; the outcome is recorded on every member sent.
 */
async function sendToSubscription(
  deps: DelivererDeps,
  subscription: Subscription,
  candidates: DeliveryRecord[],
  webhookId: string,
  options: { ordered?: boolean; control?: MessageControl } = {},
): Promise<void> {
  const log = deps.log.child({ ...traceLogFieldsOf(deps.span), workflowId: subscription.workflowId, webhookId });
  const loaded = await Promise.all(candidates.map((d) => deps.eventStore.getEvent(d.customerId, d.eventId)));
  const members: { delivery: DeliveryRecord; event: StoredEvent }[] = [];
  for (const [i, delivery] of candidates.entries()) {
    const event = loaded[i];
    if (event) members.push({ delivery, event });
    else {
      await deps.deliveryStore.finishDelivery(delivery.deliveryId, { status: 'failed', reason: 'event not found', now: deps.clock.now() });
      await countReplayOutcomes(deps, [{ ...delivery, status: 'failed' }]);
    }
  }
  if (members.length === 0) {
    if (options.ordered) await releaseNext(deps, subscription);
    return;
  }

  const origin = originOf(subscription.webhookUrl);
  if (!deps.breakers.canRequest(origin)) {
    await deferForBreaker(deps, members.map((m) => m.delivery), webhookId, origin);
    return;
  }

  const policy = retryPolicyOf(deps, subscription);
  const startedAt = deps.clock.now();
  let sent: { members: typeof members; response: WebhookResponse } | 'not-claimed';
  try {
    sent = await deps.breakers.run(
      origin,
      async () => {
        const claimUntil = startedAt + (deps.settings.attemptLeaseMs ?? DEFAULT_ATTEMPT_LEASE_MS);
        const claim = (m: (typeof members)[number]) => deps.deliveryStore.incrementAttempts(m.delivery.deliveryId, m.delivery.attemptsMade, startedAt, claimUntil);
        // In order, the head first: only its claimer may send what follows it, so two deliverers
        // building a batch from one head never send its members apart.
        const claims = options.ordered ? await claimHeadFirst(members, claim) : await Promise.all(members.map(claim));
        const claimed = members.filter((_, i) => claims[i]);
        if (claimed.length === 0) return 'not-claimed' as const;
        const body = webhookBody(claimed.map((m) => m.event));
        const attempt = claimed[0].delivery.attemptsMade + 1;
        const renewal = renewClaims(deps, claimed.map((m) => m.delivery.deliveryId));
        try {
          const response = await sendWebhook(deps, subscription, attempt, policy.timeoutMs, { url: subscription.webhookUrl, body, headers: signedHeaders(subscription, webhookId, body, startedAt) });
          return { members: claimed, response };
        } finally {
          // Before the outcome is recorded: a late renewal would overwrite the retry's due time.
          await renewal.stop();
        }
      },
      { isFailure: (r) => r !== 'not-claimed' && countsAgainstOrigin(outcomeOf(r.response)), sentNothing: (r) => r === 'not-claimed' },
    );
  } catch (error) {
    if (error instanceof CircuitOpenError) {
      await deferForBreaker(deps, members.map((m) => m.delivery), webhookId, origin);
      return;
    }
    throw error;
  }
  if (sent === 'not-claimed') return;

  const { response } = sent;
  const outcome = outcomeOf(response);
  deps.metrics.attempts.inc({ outcome });
  deps.metrics.attemptDuration.observe({ origin: deps.metrics.origins.labelFor(origin), outcome }, response.durationMs / 1000);
  const attempt = sent.members[0].delivery.attemptsMade + 1;
  const willRetry = outcome === 'retry' && attempt < policy.maxAttempts;
  annotate(deps, { 'triggers.attempt': attempt, 'triggers.outcome': outcome, 'triggers.will_retry': willRetry });
  const finishedAt = deps.clock.now();
  const reason = describe(response);
  let next: AttemptOutcome['next'];
  let delayMs = 0;
  if (outcome === 'succeeded') next = { status: 'succeeded' };
  else if (outcome === 'retry' && willRetry) {
    delayMs = computeRetryDelay({
      attempt,
      baseMs: policy.baseMs,
      maxDelayMs: policy.maxDelayMs,
      scheduleMs: policy.scheduleMs,
      retryAfterMs: honoursRetryAfter(response.statusCode) ? parseRetryAfter(response.headers['retry-after'], finishedAt) : undefined,
      random: deps.random,
    });
    next = { status: 'retrying', nextAttemptAt: finishedAt + delayMs };
  } else next = { status: 'failed', reason: outcome === 'retry' ? `gave up after ${attempt} attempts: ${reason}` : reason };

  if (outcome === 'disable') {
    await deps.metadataStore.updateSubscription(subscription.customerId, subscription.workflowId, {
      status: 'disabled',
      disabledReason: `The webhook answered 410 Gone on ${new Date(finishedAt).toISOString()}`,
      updatedAt: finishedAt,
    });
    deps.subscriptions.forget(subscription.customerId, subscription.workflowId);
    log.warn('Disabled subscription after 410 Gone');
  }
  // One store call for the whole outcome: the attempts, the deliveries' end or next due time, and
  // the events' counters and status, in one transaction.
  const record = () => deps.deliveryStore.recordAttempts(
    sent.members.map(({ delivery }) => ({
      deliveryId: delivery.deliveryId,
      attempt: {
        eventId: delivery.eventId,
        customerId: delivery.customerId,
        workflowId: delivery.workflowId,
        deliveryId: webhookId,
        attempt: delivery.attemptsMade + 1,
        status: attemptStatus(outcome, willRetry),
        statusCode: response.statusCode,
        error: response.error ? response.error.message : null,
        durationMs: Math.round(response.durationMs),
        timestamp: startedAt,
        responseBody: response.bodyPrefix || null,
      },
      next,
      now: finishedAt,
    })),
  );
  // A final outcome of live deliveries leaves the message nothing to do: it is acked with the
  // outcome (in its transaction on embedded SQLite). A retry still sends its next message, and a
  // replay's outcome still has to be counted, after the record: those ack when the handler returns.
  if (options.control && next.status !== 'retrying' && sent.members.every((m) => !m.delivery.replayId)) await options.control.ackWith(record);
  else await record();
  if (next.status !== 'retrying') {
    const ended = next.status === 'succeeded' ? ('succeeded' as const) : ('failed' as const);
    await countReplayOutcomes(deps, sent.members.map((m) => ({ ...m.delivery, status: ended })));
  }
  if (outcome === 'succeeded') {
    // An event's timestamp is when ingest accepted it (its UUIDv7 time).
    for (const { event } of sent.members) deps.metrics.deliveryLatency.observe(Math.max(0, finishedAt - event.timestamp) / 1000);
  } else if (next.status === 'retrying') {
    const deliveries = sent.members.map((m) => ({ ...m.delivery, attemptsMade: m.delivery.attemptsMade + 1 }));
    await putBack(deps, deliveries, webhookId, delayMs);
    log.debug({ attempt, delayMs }, 'Scheduled retry');
  }
  if (options.ordered && next.status !== 'retrying') await releaseNext(deps, subscription);
}

/** Claims the first member, and the others only if it was claimed. */
async function claimHeadFirst<T>(members: T[], claim: (member: T) => Promise<boolean>): Promise<boolean[]> {
  if (!(await claim(members[0]))) return members.map(() => false);
  return [true, ...(await Promise.all(members.slice(1).map(claim)))];
}

/**
 * The webhook request in a CLIENT span (OTel HTTP conventions: method, server address and port,
 * status code; never the URL's path or query, which may hold a receiver's token, nor the body).
 * With `webhookTraceparent` on, the receiver gets the span's `traceparent` header.
 */
function sendWebhook(deps: DelivererDeps, subscription: Subscription, attempt: number, timeoutMs: number, request: { url: string; body: string; headers: Record<string, string> }): Promise<WebhookResponse> {
  const options = { timeoutMs };
  if (!tracingActive()) return deps.sender.send(request, options); // no URL parse, no attribute object
  const url = new URL(request.url);
  return inSpanPassedOn(
    'POST',
    {
      kind: SpanKind.CLIENT,
      parent: contextOfSpan(deps.span),
      attributes: {
        'http.request.method': 'POST',
        'server.address': url.hostname,
        'server.port': Number(url.port || (url.protocol === 'https:' ? 443 : 80)),
        'url.scheme': url.protocol.slice(0, -1),
        'triggers.customer_id': subscription.customerId,
        'triggers.subscription_id': subscription.workflowId,
        'triggers.attempt': attempt,
      },
    },
    async (span) => {
      const traceparent = deps.settings.webhookTraceparent ? traceparentOf(span) : undefined;
      const response = await deps.sender.send(traceparent ? { ...request, headers: { ...request.headers, traceparent } } : request, options);
      if (response.statusCode !== null) span.setAttribute('http.response.status_code', response.statusCode);
      const outcome = outcomeOf(response);
      span.setAttribute('triggers.outcome', outcome);
      if (response.error) markSpanError(span, response.error.name);
      else if (response.statusCode !== null && response.statusCode >= 400) markSpanError(span, String(response.statusCode));
      return response;
    },
  );
}

/** The subscription's retry policy over the settings' defaults. */
function retryPolicyOf(deps: DelivererDeps, subscription: Subscription) {
  return effectiveRetryPolicy(subscription, deps.settings);
}

function outcomeOf(response: WebhookResponse): DeliveryOutcome {
  if (response.error) return classifyError(response.error);
  return response.statusCode === null ? 'retry' : classifyResponse(response.statusCode);
}

function attemptStatus(outcome: DeliveryOutcome, willRetry: boolean): AttemptStatus {
  if (outcome === 'succeeded') return 'succeeded';
  return willRetry ? 'retrying' : 'failed';
}

function describe(response: WebhookResponse): string {
  if (response.error) return response.error.message;
  return `HTTP ${response.statusCode}`;
}

function signedHeaders(subscription: Subscription, webhookId: string, body: string, now: number): Record<string, string> {
  const secrets = [subscription.secret];
  if (subscription.previousSecret && (subscription.previousSecretExpiresAt ?? 0) > now) secrets.push(subscription.previousSecret);
  return {
    'content-type': 'application/json',
    ...webhookSignatureHeaders({ id: webhookId, timestampSeconds: Math.floor(now / 1000), body, secrets }),
  };
}

/**
 * Enqueues the next attempt of these deliveries after `delayMs`: one message for a single
 * delivery, or one batch message that keeps the members together under `webhookId`.
 */
async function putBack(deps: DelivererDeps, deliveries: DeliveryRecord[], webhookId: string, delayMs: number): Promise<void> {
  // The next attempt continues this trace (a child of this attempt's span).
  await deps.queue.send('deliveries', deliveryMessage(deliveries, { delayMs, batchId: webhookId, traceparent: traceparentOf(deps.span) }));
}

/**
 * Counts ended deliveries made by a replay in that replay's progress (once each, however often
 * called); live deliveries are skipped. Every path that ends a delivery calls it: the replay id
 * is on the delivery's row, so it holds whoever sent the message (retry, FIFO release, sweeper).
 */
async function countReplayOutcomes(deps: DelivererDeps, ended: Pick<DeliveryRecord, 'deliveryId' | 'status' | 'replayId'>[]): Promise<void> {
  const outcomes = ended.flatMap((d) => (d.replayId ? [{ replayId: d.replayId, deliveryId: d.deliveryId, outcome: d.status === 'succeeded' ? ('delivered' as const) : ('failed' as const) }] : []));
  if (outcomes.length > 0) await deps.replayStore.recordOutcomes(outcomes);
}

/**
 * Keeps the claims of an attempt in flight alive: every third of the lease, moves the claimed
 * deliveries' due time to a lease from now. `stop` ends it and waits for a renewal under way.
 */
function renewClaims(deps: DelivererDeps, deliveryIds: string[]): { stop(): Promise<void> } {
  const leaseMs = deps.settings.attemptLeaseMs ?? DEFAULT_ATTEMPT_LEASE_MS;
  let renewing: Promise<unknown> = Promise.resolve();
  const timer = setInterval(() => {
    const until = deps.clock.now() + leaseMs;
    renewing = renewing.then(() =>
      Promise.all(deliveryIds.map((id) => deps.deliveryStore.scheduleNextAttempt(id, until))).catch((error: unknown) =>
        deps.log.warn({ ...traceLogFieldsOf(deps.span), err: error }, 'Failed to renew an attempt claim'),
      ),
    );
  }, Math.max(10, Math.floor(leaseMs / 3)));
  return {
    async stop() {
      clearInterval(timer);
      await renewing;
    },
  };
}

async function deferForBreaker(deps: DelivererDeps, deliveries: DeliveryRecord[], webhookId: string, origin: string): Promise<void> {
  deps.metrics.deferredByBreaker.inc(deliveries.length);
  annotate(deps, { 'triggers.outcome': 'deferred_by_circuit' });
  const delayMs = Math.round(deps.breakers.retryInMs(origin) + deps.random() * BREAKER_DEFER_SPREAD_MS);
  // Moving the due time keeps the sweeper from taking a deferred delivery for a lost one.
  const dueAt = deps.clock.now() + delayMs;
  for (const d of deliveries) await deps.deliveryStore.scheduleNextAttempt(d.deliveryId, dueAt);
  await putBack(deps, deliveries, webhookId, delayMs);
}
