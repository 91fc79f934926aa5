import type { Knex } from 'knex';

/**
 * Bulk replay jobs (ports/replay-store.ts): the filter, where the job is (cursor and counts), who
 * runs it until when (lease), and the request's idempotency key; `replay_outcomes` counts each
 * delivery a replay made once, as delivered or failed.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('replays', (t) => {
    t.string('replay_id', 36).primary();
    t.string('customer_id', 36).notNullable();
    t.text('filter').notNullable();
    t.string('status', 16).notNullable();
    t.text('cursor').nullable();
    t.bigInteger('matched').notNullable().defaultTo(0);
    t.bigInteger('enqueued').notNullable().defaultTo(0);
    t.string('idempotency_key', 255).nullable();
    t.string('request_hash', 64).nullable();
    t.string('lease_owner', 64).nullable();
    t.bigInteger('lease_until').nullable();
    t.bigInteger('created_at').notNullable();
    t.bigInteger('updated_at').notNullable();
    t.bigInteger('finished_at').nullable();
    t.unique(['customer_id', 'idempotency_key'], { indexName: 'replays_by_idempotency_key' });
    t.index(['status', 'lease_until'], 'replays_runnable');
  });
  await knex.schema.createTable('replay_outcomes', (t) => {
    t.string('replay_id', 36).notNullable();
    t.string('delivery_id', 64).notNullable();
    t.string('outcome', 16).notNullable();
    t.primary(['replay_id', 'delivery_id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('replay_outcomes');
  await knex.schema.dropTableIfExists('replays');
}
