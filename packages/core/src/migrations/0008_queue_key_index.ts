import type { Knex } from 'knex';

/**
 * An index of the SQLite queue's live messages by key, so a receive that skips keys (the
 * deliverer leaves a saturated subscription's messages in the queue) finds the other keys' due
 * messages by a seek per key instead of reading past a skipped key's whole backlog: with one
 * busy subscription, that read cost ~a millisecond per thousand messages queued on every receive.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('queue_messages', (t) => {
    t.index(['topic', 'dead_lettered_at', 'message_key', 'visible_at'], 'queue_messages_key_idx');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('queue_messages', (t) => {
    t.dropIndex(['topic', 'dead_lettered_at', 'message_key', 'visible_at'], 'queue_messages_key_idx');
  });
}
