import type { Knex } from 'knex';

/**
 * Owners of received SQLite queue messages, so work a dead process held is taken over in seconds
 * rather than after its visibility timeout: each consuming queue instance heartbeats its row in
 * `queue_consumers`, a received message names its receiver in `queue_messages.owner`, and a
 * receiver whose heartbeat stopped has its messages made visible again by the others.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('queue_consumers', (t) => {
    t.string('consumer_id', 64).primary();
    t.bigInteger('heartbeat_at').notNullable();
  });
  await knex.schema.alterTable('queue_messages', (t) => {
    t.string('owner', 64).nullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('queue_messages', (t) => {
    t.dropColumn('owner');
  });
  await knex.schema.dropTableIfExists('queue_consumers');
}
