/** The body of a `deliveries` queue message: attempt `attempt` of one delivery. */
export interface DeliveryMessage {
  deliveryId: string;
  eventId: string;
  customerId: string;
  workflowId: string;
  /** 1-based. The deliverer ignores a message whose attempt was already made. */
  attempt: number;
  traceparent?: string;
}
