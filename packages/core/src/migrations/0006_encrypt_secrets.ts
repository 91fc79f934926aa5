import type { Knex } from 'knex';
import { decryptSubscriptionSecrets, encryptSubscriptionSecrets } from '../backends/sql/subscription-secrets.ts';
import type { MigrationContext } from './index.ts';

/**
 * Webhook signing secrets encrypted at rest (AES-256-GCM, src/secret-cipher.ts): every existing
 * `secret` and `previous_secret` is rewritten as `enc1:<key id>:<ciphertext>`. No column changes.
 */
export async function up(knex: Knex, context: MigrationContext): Promise<void> {
  await encryptSubscriptionSecrets(knex, context.secrets);
}

export async function down(knex: Knex, context: MigrationContext): Promise<void> {
  await decryptSubscriptionSecrets(knex, context.secrets);
}
