import type { Knex } from 'knex';

/**
 * FIFO per subscription (issue 14): `subscriptions.ordering` (`unordered` | `fifo`), and an index that
 * finds a subscription's pending deliveries in event order (the head the deliverer releases).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('subscriptions', (t) => {
    t.string('ordering', 16).notNullable().defaultTo('unordered');
  });
  await knex.schema.alterTable('deliveries', (t) => {
    t.index(['workflow_id', 'status', 'event_id', 'delivery_id'], 'deliveries_in_order');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('deliveries', (t) => {
    t.dropIndex(['workflow_id', 'status', 'event_id', 'delivery_id'], 'deliveries_in_order');
  });
  await knex.schema.alterTable('subscriptions', (t) => {
    t.dropColumn('ordering');
  });
}
