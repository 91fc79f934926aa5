import type { Logger } from '../../log.ts';
import type { EventStore } from '../../ports/event-store.ts';
import type { DeliveryStore } from '../../ports/delivery-store.ts';
import type { MetadataStore } from '../../ports/metadata-store.ts';

export interface PostgresBackendsOptions {
  url: string;
  poolMax: number;
  log: Logger;
}

export interface PostgresBackends {
  eventStore: EventStore;
  deliveryStore: DeliveryStore;
  metadataStore: MetadataStore;
  ping(): Promise<void>;
  close(): Promise<void>;
}

// PLACEHOLDER (issue 4, in progress): replaced by the knex + pg adapters.
export async function openPostgresBackends(_options: PostgresBackendsOptions): Promise<PostgresBackends> {
  throw new Error('The PostgreSQL backend is not built yet');
}
