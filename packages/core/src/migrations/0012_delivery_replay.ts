import type { Knex } from 'knex';

/**
 * The replay that made a delivery (`deliveries.replay_id`, null for a live one), kept on the row so
 * that whoever sends its next message (the deliverer's retry, a FIFO release, the sweeper) needs no
 * message field to count its outcome for the replay.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('deliveries', (t) => {
    t.string('replay_id', 36).nullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('deliveries', (t) => {
    t.dropColumn('replay_id');
  });
}
