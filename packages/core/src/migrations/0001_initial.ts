import type { Knex } from 'knex';

/**
 * The first schema. Written with the knex schema builder so that it runs unchanged on SQLite and
 * PostgreSQL. Append-only: never edit a released migration, add the next number instead.
 * Times are epoch milliseconds in bigint columns everywhere.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('customers', (t) => {
    t.string('customer_id', 64).primary();
    t.text('name').notNullable();
    t.text('email').notNullable();
    t.string('status', 16).notNullable();
    t.integer('rate_limit_per_second').nullable();
    t.boolean('is_test').notNullable();
    t.bigInteger('created_at').notNullable();
  });

  await knex.schema.createTable('api_keys', (t) => {
    t.string('key_id', 64).primary();
    t.string('customer_id', 64).notNullable();
    t.string('key_hash', 128).notNullable();
    t.string('prefix', 32).notNullable();
    t.bigInteger('created_at').notNullable();
    t.bigInteger('revoked_at').nullable();
    t.bigInteger('expires_at').nullable();
    t.unique(['key_hash'], { indexName: 'api_keys_key_hash_unique' });
    t.index(['customer_id'], 'api_keys_customer_idx');
  });

  await knex.schema.createTable('subscriptions', (t) => {
    t.string('workflow_id', 64).primary();
    t.string('customer_id', 64).notNullable();
    /** The selector JSON as the client sent it; compiled by the application, never by SQL. */
    t.text('event_selector').notNullable();
    t.text('webhook_url').notNullable();
    t.text('description').nullable();
    t.string('status', 16).notNullable();
    t.text('disabled_reason').nullable();
    t.text('secret').notNullable();
    t.text('previous_secret').nullable();
    t.bigInteger('previous_secret_expires_at').nullable();
    /** JSON `{maxEvents, windowMs}` or null. */
    t.text('batching').nullable();
    t.bigInteger('created_at').notNullable();
    t.bigInteger('updated_at').notNullable();
    // Keyset pagination (newest first) and the matcher's active list.
    t.index(['customer_id', 'created_at', 'workflow_id'], 'subscriptions_customer_created_idx');
    t.index(['customer_id', 'status'], 'subscriptions_customer_status_idx');
  });

  // Bumped in the same write as any change to a customer's subscriptions (the matcher's cache key).
  await knex.schema.createTable('subscription_versions', (t) => {
    t.string('customer_id', 64).primary();
    t.bigInteger('version').notNullable();
  });

  await knex.schema.createTable('events', (t) => {
    t.string('event_id', 36).primary();
    t.string('customer_id', 64).notNullable();
    t.text('event_type').nullable();
    t.text('payload').notNullable();
    t.string('status', 16).notNullable();
    t.bigInteger('timestamp').notNullable();
    t.integer('delivery_attempts').notNullable().defaultTo(0);
    t.bigInteger('last_delivery_timestamp').nullable();
    // The inbox: keyset pages on event_id (UUIDv7 sorts by time), newest first, per filter.
    t.index(['customer_id', 'event_id'], 'events_customer_event_idx');
    t.index(['customer_id', 'status', 'event_id'], 'events_customer_status_event_idx');
    t.index(['customer_id', 'event_type', 'event_id'], 'events_customer_type_event_idx');
    // The pending sweeper.
    t.index(['status', 'timestamp'], 'events_status_timestamp_idx');
  });

  await knex.schema.createTable('delivery_attempts', (t) => {
    t.bigIncrements('id');
    t.string('event_id', 36).notNullable();
    t.string('customer_id', 64).notNullable();
    t.string('workflow_id', 64).notNullable();
    t.string('delivery_id', 64).notNullable();
    t.integer('attempt').notNullable();
    t.string('status', 16).notNullable();
    t.integer('status_code').nullable();
    t.text('error').nullable();
    t.integer('duration_ms').notNullable();
    t.bigInteger('timestamp').notNullable();
    t.text('response_body').nullable();
    t.index(['customer_id', 'event_id', 'timestamp'], 'delivery_attempts_event_idx');
  });

  await knex.schema.createTable('queue_messages', (t) => {
    t.bigIncrements('id');
    t.string('topic', 32).notNullable();
    /** JSON. */
    t.text('body').notNullable();
    t.string('message_key', 255).nullable();
    t.bigInteger('enqueued_at').notNullable();
    /** Not deliverable before this time: the delay, or the visibility timeout of the current receive. */
    t.bigInteger('visible_at').notNullable();
    t.integer('receive_count').notNullable().defaultTo(0);
    /** The receipt of the latest receive; a stale receipt no longer matches. */
    t.string('receipt', 64).nullable();
    /** The dead-letter marker: set when the message exceeded the receive limit; null while live. */
    t.bigInteger('dead_lettered_at').nullable();
    t.index(['topic', 'dead_lettered_at', 'visible_at'], 'queue_messages_ready_idx');
  });

  await knex.schema.createTable('idempotency_keys', (t) => {
    t.string('customer_id', 64).notNullable();
    t.string('idem_key', 255).notNullable();
    t.string('request_hash', 128).notNullable();
    /** `in_progress` or `completed`. */
    t.string('state', 16).notNullable();
    /** JSON StoredResponse once completed. */
    t.text('response').nullable();
    /** While in progress: after this the claim is considered abandoned. */
    t.bigInteger('lease_expires_at').nullable();
    t.bigInteger('expires_at').notNullable();
    t.bigInteger('created_at').notNullable();
    t.primary(['customer_id', 'idem_key'], 'idempotency_keys_pkey');
    t.index(['expires_at'], 'idempotency_keys_expires_idx');
  });
}

/** Only for a developer's scratch database: released migrations are never rolled back. */
export async function down(knex: Knex): Promise<void> {
  for (const table of ['idempotency_keys', 'queue_messages', 'delivery_attempts', 'events', 'subscription_versions', 'subscriptions', 'api_keys', 'customers']) {
    await knex.schema.dropTableIfExists(table);
  }
}
