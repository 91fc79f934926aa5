import type { Knex } from 'knex';

/**
 * What the matcher made of each replayed event (`replay_events`: one row per replay and event, the
 * number of deliveries it created), and its sums on the job's row (`replays.processed`,
 * `replays.unmatched`, `replays.deliveries`), kept by a trigger like 0013's: an event processed
 * again (a redelivered message) inserts nothing and fires nothing. With them a client can tell when
 * a job has settled: `processed = enqueued` and `delivered + failed = deliveries`; before, an event
 * that matched no subscription (e.g. outside the filter's `workflow_id`) was enqueued but never
 * added to `delivered + failed`. Jobs from before this migration keep zeros: they never settle by
 * these counts, which only tells a reader to look at `status`.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('replay_events', (t) => {
    t.string('replay_id', 36).notNullable();
    t.string('event_id', 36).notNullable();
    t.integer('deliveries').notNullable();
    t.primary(['replay_id', 'event_id']);
  });
  await knex.schema.alterTable('replays', (t) => {
    t.bigInteger('processed').notNullable().defaultTo(0);
    t.bigInteger('unmatched').notNullable().defaultTo(0);
    t.bigInteger('deliveries').notNullable().defaultTo(0);
  });
  if (isPostgres(knex)) {
    await knex.raw(`
      CREATE FUNCTION replay_event_counted() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        UPDATE replays SET processed = processed + 1,
                           unmatched = unmatched + CASE WHEN NEW.deliveries = 0 THEN 1 ELSE 0 END,
                           deliveries = deliveries + NEW.deliveries
         WHERE replay_id = NEW.replay_id;
        RETURN NULL;
      END $$`);
    await knex.raw('CREATE TRIGGER replay_event_counted AFTER INSERT ON replay_events FOR EACH ROW EXECUTE FUNCTION replay_event_counted()');
  } else {
    await knex.raw(`
      CREATE TRIGGER replay_event_counted AFTER INSERT ON replay_events
      BEGIN
        UPDATE replays SET processed = processed + 1, unmatched = unmatched + (NEW.deliveries = 0), deliveries = deliveries + NEW.deliveries
         WHERE replay_id = NEW.replay_id;
      END`);
  }
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(isPostgres(knex) ? 'DROP TRIGGER IF EXISTS replay_event_counted ON replay_events' : 'DROP TRIGGER IF EXISTS replay_event_counted');
  if (isPostgres(knex)) await knex.raw('DROP FUNCTION IF EXISTS replay_event_counted()');
  await knex.schema.alterTable('replays', (t) => {
    t.dropColumn('processed');
    t.dropColumn('unmatched');
    t.dropColumn('deliveries');
  });
  await knex.schema.dropTableIfExists('replay_events');
}

function isPostgres(knex: Knex): boolean {
  return knex.client.config.client === 'pg';
}
