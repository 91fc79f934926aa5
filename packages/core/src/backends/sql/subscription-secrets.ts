import type { Knex } from 'knex';
import type { SecretCipher } from '../../secret-cipher.ts';

/** Rows converted per statement batch. */
const BATCH = 500;

interface SecretRow {
  customer_id: string;
  workflow_id: string;
  secret: string;
  previous_secret: string | null;
}

/**
 * Brings every subscription's webhook secrets under the current key: plaintext rows (written before
 * migration 0006, or by an older version during a rolling upgrade) are encrypted, rows of a
 * previous key re-encrypted. Runs in migration 0006 and at every start-up, under the migration lock.
 * Each row is updated only if it still holds what was read, so a concurrent write is never undone.
 * Throws when a row needs a key that is not configured (the process must not start then).
 * Returns how many rows it rewrote.
 */
export async function encryptSubscriptionSecrets(knex: Knex, cipher: SecretCipher | undefined): Promise<number> {
  if (!(await knex.schema.hasTable('subscriptions'))) return 0;
  const prefix = cipher?.currentPrefix() ?? 'enc1:';
  let rewritten = 0;
  let after: { customerId: string; workflowId: string } | null = null;
  for (;;) {
    const query = knex<SecretRow>('subscriptions')
      .select('customer_id', 'workflow_id', 'secret', 'previous_secret')
      .where((q) => q.whereNot('secret', 'like', `${prefix}%`).orWhere((p) => p.whereNotNull('previous_secret').whereNot('previous_secret', 'like', `${prefix}%`)))
      .orderBy([{ column: 'customer_id' }, { column: 'workflow_id' }])
      .limit(BATCH);
    if (after) {
      const { customerId, workflowId } = after;
      query.andWhere((q) => q.where('customer_id', '>', customerId).orWhere((same) => same.where('customer_id', customerId).where('workflow_id', '>', workflowId)));
    }
    const rows = (await query) as SecretRow[];
    if (rows.length === 0) return rewritten;
    if (!cipher) {
      throw new Error(
        `${rows.length === BATCH ? 'at least ' : ''}${rows.length} subscriptions hold webhook secrets that are not encrypted: this process needs the secret key (TRIGGERS_SECRET_KEY) to encrypt them`,
      );
    }
    // SQLite: the space a rewritten value frees is zeroed, so the file keeps no plaintext copy.
    if (isSqlite(knex)) await knex.raw('PRAGMA secure_delete = ON');
    for (const row of rows) {
      const owner = { customerId: row.customer_id, workflowId: row.workflow_id };
      const secret = cipher.encrypt(cipher.decrypt(row.secret, owner), owner);
      const previous = row.previous_secret === null ? null : cipher.encrypt(cipher.decrypt(row.previous_secret, owner), owner);
      const update = knex('subscriptions')
        .update({ secret, previous_secret: previous })
        .where({ customer_id: row.customer_id, workflow_id: row.workflow_id, secret: row.secret });
      if (row.previous_secret === null) update.whereNull('previous_secret');
      else update.where('previous_secret', row.previous_secret);
      rewritten += Number(await update);
    }
    const last = rows[rows.length - 1];
    after = { customerId: last.customer_id, workflowId: last.workflow_id };
  }
}

/** The reverse of `encryptSubscriptionSecrets` (migration 0006's `down`): every secret back to plaintext. */
export async function decryptSubscriptionSecrets(knex: Knex, cipher: SecretCipher | undefined): Promise<void> {
  const rows = (await knex<SecretRow>('subscriptions')
    .select('customer_id', 'workflow_id', 'secret', 'previous_secret')
    .where('secret', 'like', 'enc1:%')
    .orWhere('previous_secret', 'like', 'enc1:%')) as SecretRow[];
  if (rows.length === 0) return;
  if (!cipher) throw new Error(`${rows.length} subscriptions hold encrypted webhook secrets: decrypting them needs the secret key (TRIGGERS_SECRET_KEY)`);
  for (const row of rows) {
    const owner = { customerId: row.customer_id, workflowId: row.workflow_id };
    await knex('subscriptions')
      .update({
        secret: cipher.decrypt(row.secret, owner),
        previous_secret: row.previous_secret === null ? null : cipher.decrypt(row.previous_secret, owner),
      })
      .where({ customer_id: row.customer_id, workflow_id: row.workflow_id });
  }
}

function isSqlite(knex: Knex): boolean {
  return /sqlite/.test(String(knex.client.config.client));
}
