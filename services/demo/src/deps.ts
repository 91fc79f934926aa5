import type { Clock } from '@triggers/core/domain';
import type { Logger } from '@triggers/core/runtime';
import type { EventStore, MailOutbox, Mailer } from '@triggers/core/ports';
import type { DemoCustomer } from './demo-customer.ts';
import type { WebhookSink } from './webhook-sink.ts';

/** What the demo routes use. */
export interface DemoDeps {
  clock: Clock;
  log: Logger;
  /** Read directly only for the live chart's counts, which the public API does not offer. */
  eventStore: EventStore;
  /** The demo customer and the public API calls made as it. */
  customer: DemoCustomer;
  sink: WebhookSink;
  mailer: Mailer;
  mailOutbox: MailOutbox;
  /** The sender address of notification emails. */
  mailFrom: string;
}
