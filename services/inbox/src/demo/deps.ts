import type { MailOutbox, Mailer } from '@triggers/core/ports/mailer.ts';
import type { InboxDeps } from '../deps.ts';
import type { DemoCustomer } from './demo-customer.ts';
import type { WebhookSink } from './webhook-sink.ts';

/** What the demo routes use. */
export interface DemoDeps {
  inbox: InboxDeps;
  /** The demo customer and the public API calls made as it. */
  customer: DemoCustomer;
  sink: WebhookSink;
  mailer: Mailer;
  mailOutbox: MailOutbox;
  /** The sender address of notification emails. */
  mailFrom: string;
}
