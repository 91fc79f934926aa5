import type { Knex } from 'knex';

/**
 * Subscriptions owned by a Kubernetes `Subscription` resource (services/controller): the owner's
 * reference, e.g. `triggers.dev/v1alpha1/Subscription/<namespace>/<name>`; null for subscriptions
 * made through the REST API. The REST API refuses to change or delete an owned one (409).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('subscriptions', (table) => {
    table.text('managed_by').nullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('subscriptions', (table) => {
    table.dropColumn('managed_by');
  });
}
