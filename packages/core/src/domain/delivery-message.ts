/** The body of a `deliveries` queue message: attempt `attempt` of one delivery, or of one batch. */
export interface DeliveryMessage {
  deliveryId: string;
  eventId: string;
  customerId: string;
  workflowId: string;
  /** 1-based. The deliverer ignores a message whose attempt was already made. */
  attempt: number;
  /**
   * Set on the retry of a batched request: every member is re-sent together under the same
   * `webhook-id` (`batchId`). `deliveryId`/`eventId` then name the first member.
   */
  batch?: { batchId: string; deliveryIds: string[] };
  traceparent?: string;
}
