import type { Knex } from 'knex';

/** Deliveries: the matcher's decisions and the deliverer's progress (ports/delivery-store.ts). */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('deliveries', (table) => {
    table.string('delivery_id', 64).primary();
    table.uuid('event_id').notNullable();
    table.uuid('customer_id').notNullable();
    table.uuid('workflow_id').notNullable();
    table.string('status', 16).notNullable();
    table.integer('attempts_made').notNullable().defaultTo(0);
    table.bigInteger('next_attempt_at').notNullable();
    table.text('failure_reason').nullable();
    table.bigInteger('created_at').notNullable();
    table.bigInteger('updated_at').notNullable();
    table.index(['event_id'], 'deliveries_by_event');
    table.index(['status', 'next_attempt_at'], 'deliveries_by_due_time');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('deliveries');
}
