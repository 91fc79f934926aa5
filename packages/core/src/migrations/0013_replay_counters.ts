import type { Knex } from 'knex';

/**
 * A replay's delivered / failed counts kept on its row (`replays.delivered`, `replays.failed`), so
 * reading a job is one row instead of counting its `replay_outcomes` on every GET. A trigger adds
 * each outcome row as it is inserted: in the same statement, so a count can neither be lost nor be
 * counted twice (a repeated outcome inserts nothing and fires nothing). Existing counts are filled
 * in from `replay_outcomes`.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('replays', (t) => {
    t.bigInteger('delivered').notNullable().defaultTo(0);
    t.bigInteger('failed').notNullable().defaultTo(0);
  });
  await knex.raw(`
    UPDATE replays SET
      delivered = (SELECT COUNT(*) FROM replay_outcomes o WHERE o.replay_id = replays.replay_id AND o.outcome = 'delivered'),
      failed = (SELECT COUNT(*) FROM replay_outcomes o WHERE o.replay_id = replays.replay_id AND o.outcome = 'failed')`);
  if (isPostgres(knex)) {
    await knex.raw(`
      CREATE FUNCTION replay_outcome_counted() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        UPDATE replays SET delivered = delivered + CASE WHEN NEW.outcome = 'delivered' THEN 1 ELSE 0 END,
                           failed = failed + CASE WHEN NEW.outcome = 'failed' THEN 1 ELSE 0 END
         WHERE replay_id = NEW.replay_id;
        RETURN NULL;
      END $$`);
    await knex.raw('CREATE TRIGGER replay_outcome_counted AFTER INSERT ON replay_outcomes FOR EACH ROW EXECUTE FUNCTION replay_outcome_counted()');
  } else {
    await knex.raw(`
      CREATE TRIGGER replay_outcome_counted AFTER INSERT ON replay_outcomes
      BEGIN
        UPDATE replays SET delivered = delivered + (NEW.outcome = 'delivered'), failed = failed + (NEW.outcome = 'failed')
         WHERE replay_id = NEW.replay_id;
      END`);
  }
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(isPostgres(knex) ? 'DROP TRIGGER IF EXISTS replay_outcome_counted ON replay_outcomes' : 'DROP TRIGGER IF EXISTS replay_outcome_counted');
  if (isPostgres(knex)) await knex.raw('DROP FUNCTION IF EXISTS replay_outcome_counted()');
  await knex.schema.alterTable('replays', (t) => {
    t.dropColumn('delivered');
    t.dropColumn('failed');
  });
}

function isPostgres(knex: Knex): boolean {
  return knex.client.config.client === 'pg';
}
