import type { Knex } from 'knex';

/** The demo back end: its own state (demo customer, API key, webhook sink) and the mail outbox. */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('demo_state', (table) => {
    table.string('name', 64).primary();
    table.text('value').notNullable();
    table.bigInteger('updated_at').notNullable();
  });
  await knex.schema.createTable('mail_outbox', (table) => {
    table.string('message_id', 64).primary();
    table.string('from_address', 320).notNullable();
    table.string('to_address', 320).notNullable();
    table.text('subject').notNullable();
    table.text('text_body').notNullable();
    table.text('html_body').nullable();
    table.bigInteger('created_at').notNullable();
    table.index(['created_at'], 'mail_outbox_by_time');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('mail_outbox');
  await knex.schema.dropTableIfExists('demo_state');
}
