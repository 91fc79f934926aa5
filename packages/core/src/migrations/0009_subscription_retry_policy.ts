import type { Knex } from 'knex';

/**
 * A subscription's own retry policy (JSON: `{maxAttempts?, scheduleMs? | baseMs?, maxDelayMs?}`)
 * and webhook timeout; null keeps the settings' defaults (TRIGGERS_MAX_ATTEMPTS ...).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('subscriptions', (table) => {
    table.text('retry_policy').nullable();
    table.integer('timeout_ms').nullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('subscriptions', (table) => {
    table.dropColumn('retry_policy');
    table.dropColumn('timeout_ms');
  });
}
