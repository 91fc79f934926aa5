import type { ApiKeyRecord, Customer } from '../../domain/customers.ts';
import type { Subscription } from '../../domain/subscriptions.ts';
import type { CustomerPatch, MetadataStore, SubscriptionPage, SubscriptionPatch } from '../../ports/metadata-store.ts';
import { TriggersError } from '../../errors.ts';
import { decodeCursor, encodeCursor, checkPageLimit } from '../cursor.ts';
import { CUSTOMER_PATCH_COLUMNS, SUBSCRIPTION_PATCH_COLUMNS, isSubscriptionCursor, subscriptionColumnValue, toApiKeyWithCustomer, toCustomer, toSubscription, subscriptionRowValues, SUBSCRIPTION_COLUMNS, SUBSCRIPTION_PLACEHOLDERS } from '../sql/metadata-rows.ts';
import type { ApiKeyWithCustomerRow, CustomerRow, SubscriptionCursor, SubscriptionRow } from '../sql/metadata-rows.ts';
import type { PostgresDatabase } from './database.ts';
import { withPostgres } from './errors.ts';
import { query } from './sql.ts';
import type { SecretCipher } from '../../secret-cipher.ts';

const CUSTOMER_COLUMNS = 'customer_id, name, email, status, rate_limit_per_second, is_test, created_at';
const API_KEY_COLUMNS = 'key_id, customer_id, key_hash, prefix, created_at, revoked_at, expires_at';
const SELECT_CUSTOMER_SQL = `SELECT ${CUSTOMER_COLUMNS} FROM customers WHERE customer_id = ?`;
const INSERT_CUSTOMER_SQL = `INSERT INTO customers (${CUSTOMER_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)`;
const INSERT_API_KEY_SQL = `INSERT INTO api_keys (${API_KEY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)`;
const SELECT_KEY_BY_HASH_SQL = `
  SELECT k.key_id, k.customer_id, k.key_hash, k.prefix, k.created_at, k.revoked_at, k.expires_at,
         c.name AS c_name, c.email AS c_email, c.status AS c_status, c.rate_limit_per_second AS c_rate_limit_per_second,
         c.is_test AS c_is_test, c.created_at AS c_created_at
    FROM api_keys k JOIN customers c ON c.customer_id = k.customer_id
   WHERE k.key_hash = ?`;
const REVOKE_KEY_SQL = 'UPDATE api_keys SET revoked_at = ? WHERE key_id = ? AND revoked_at IS NULL';

/**
 * Every subscription write bumps the customer's version in the same statement (a data-modifying
 * CTE is one atomic write): the version upsert only sees a row when the write changed one.
 */
const BUMP_VERSION = (changed: string) => `
  INSERT INTO subscription_versions (customer_id, version)
  SELECT DISTINCT customer_id, 1 FROM ${changed}
  ON CONFLICT (customer_id) DO UPDATE SET version = subscription_versions.version + 1`;

const INSERT_SUBSCRIPTION_SQL = `
  WITH created AS (
    INSERT INTO subscriptions (${SUBSCRIPTION_COLUMNS}) VALUES (${SUBSCRIPTION_PLACEHOLDERS})
    RETURNING customer_id
  )
  ${BUMP_VERSION('created')}`;

const DELETE_SUBSCRIPTION_SQL = `
  WITH deleted AS (
    DELETE FROM subscriptions WHERE customer_id = ? AND workflow_id = ? RETURNING customer_id
  ), bumped AS (${BUMP_VERSION('deleted')})
  SELECT count(*) AS deleted FROM deleted`;

const SELECT_SUBSCRIPTION_SQL = `SELECT ${SUBSCRIPTION_COLUMNS} FROM subscriptions WHERE customer_id = ? AND workflow_id = ?`;
const SELECT_SUBSCRIPTIONS_FIRST_SQL = `
  SELECT ${SUBSCRIPTION_COLUMNS} FROM subscriptions WHERE customer_id = ?
   ORDER BY created_at DESC, workflow_id DESC LIMIT ?`;
const SELECT_SUBSCRIPTIONS_AFTER_SQL = `
  SELECT ${SUBSCRIPTION_COLUMNS} FROM subscriptions WHERE customer_id = ? AND (created_at, workflow_id) < (?, ?)
   ORDER BY created_at DESC, workflow_id DESC LIMIT ?`;
const SELECT_ACTIVE_SQL = `
  SELECT ${SUBSCRIPTION_COLUMNS} FROM subscriptions WHERE customer_id = ? AND status = 'active'
   ORDER BY created_at, workflow_id`;
const SELECT_VERSION_SQL = 'SELECT version FROM subscription_versions WHERE customer_id = ?';

export class PostgresMetadataStore implements MetadataStore {
  readonly kind = 'postgres';

  /** `cipher` encrypts webhook secrets on write and decrypts them on read. */
  constructor(
    private readonly db: PostgresDatabase,
    private readonly cipher: SecretCipher,
  ) {}

  async createCustomer(c: Customer): Promise<void> {
    await withPostgres('creating a customer', () =>
      query(this.db, INSERT_CUSTOMER_SQL, [c.customerId, c.name, c.email, c.status, c.rateLimitPerSecond, c.isTest, c.createdAt]),
    );
  }

  async getCustomer(customerId: string): Promise<Customer | null> {
    const { rows } = await withPostgres('reading a customer', () => query<CustomerRow>(this.db, SELECT_CUSTOMER_SQL, [customerId]));
    return rows[0] ? toCustomer(rows[0]) : null;
  }

  async updateCustomer(customerId: string, patch: CustomerPatch): Promise<Customer | null> {
    const fields = (Object.keys(CUSTOMER_PATCH_COLUMNS) as (keyof CustomerPatch)[]).filter((f) => patch[f] !== undefined);
    if (fields.length === 0) return this.getCustomer(customerId);
    const sql = `UPDATE customers SET ${fields.map((f) => `${CUSTOMER_PATCH_COLUMNS[f]} = ?`).join(', ')}
                  WHERE customer_id = ? RETURNING ${CUSTOMER_COLUMNS}`;
    const { rows } = await withPostgres('updating a customer', () =>
      query<CustomerRow>(this.db, sql, [...fields.map((f) => patch[f]), customerId]),
    );
    return rows[0] ? toCustomer(rows[0]) : null;
  }

  async createApiKey(k: ApiKeyRecord): Promise<void> {
    await withPostgres('creating an API key', () =>
      query(this.db, INSERT_API_KEY_SQL, [k.keyId, k.customerId, k.keyHash, k.prefix, k.createdAt, k.revokedAt, k.expiresAt]),
    );
  }

  async findApiKeyByHash(keyHash: string): Promise<{ key: ApiKeyRecord; customer: Customer } | null> {
    const { rows } = await withPostgres('finding an API key', () => query<ApiKeyWithCustomerRow>(this.db, SELECT_KEY_BY_HASH_SQL, [keyHash]));
    const row = rows[0];
    return row ? toApiKeyWithCustomer(row) : null;
  }

  async revokeApiKey(keyId: string, revokedAt: number): Promise<boolean> {
    const result = await withPostgres('revoking an API key', () => query<never>(this.db, REVOKE_KEY_SQL, [revokedAt, keyId]));
    return result.rowCount > 0;
  }

  async createSubscription(s: Subscription): Promise<void> {
    await withPostgres('creating a subscription', () =>
      query(this.db, INSERT_SUBSCRIPTION_SQL, subscriptionRowValues(s, this.cipher)),
    );
  }

  async getSubscription(customerId: string, workflowId: string): Promise<Subscription | null> {
    const { rows } = await withPostgres('reading a subscription', () => query<SubscriptionRow>(this.db, SELECT_SUBSCRIPTION_SQL, [customerId, workflowId]));
    return rows[0] ? toSubscription(rows[0], this.cipher) : null;
  }

  async listSubscriptions(customerId: string, page: { limit: number; cursor?: string }): Promise<SubscriptionPage> {
    const limit = checkPageLimit(page.limit);
    const after = page.cursor === undefined ? null : decodeCursor(page.cursor, isSubscriptionCursor);
    const { rows } = await withPostgres('listing subscriptions', () =>
      after === null
        ? query<SubscriptionRow>(this.db, SELECT_SUBSCRIPTIONS_FIRST_SQL, [customerId, limit + 1])
        : query<SubscriptionRow>(this.db, SELECT_SUBSCRIPTIONS_AFTER_SQL, [customerId, after.createdAt, after.workflowId, limit + 1]),
    );
    const hasMore = rows.length > limit;
    const subscriptions = (hasMore ? rows.slice(0, limit) : rows).map((row) => toSubscription(row, this.cipher));
    const last = subscriptions[subscriptions.length - 1];
    return {
      subscriptions,
      nextCursor: hasMore ? encodeCursor({ createdAt: last.createdAt, workflowId: last.workflowId } satisfies SubscriptionCursor) : null,
    };
  }

  async updateSubscription(customerId: string, workflowId: string, patch: SubscriptionPatch): Promise<Subscription | null> {
    const fields = (Object.keys(SUBSCRIPTION_PATCH_COLUMNS) as (keyof SubscriptionPatch)[]).filter((f) => patch[f] !== undefined);
    const sql = `
      WITH updated AS (
        UPDATE subscriptions SET ${fields.map((f) => `${SUBSCRIPTION_PATCH_COLUMNS[f]} = ?`).join(', ')}
         WHERE customer_id = ? AND workflow_id = ?
        RETURNING ${SUBSCRIPTION_COLUMNS}
      ), bumped AS (${BUMP_VERSION('updated')})
      SELECT ${SUBSCRIPTION_COLUMNS} FROM updated`;
    const { rows } = await withPostgres('updating a subscription', () =>
      query<SubscriptionRow>(this.db, sql, [...fields.map((f) => subscriptionColumnValue(f, patch[f], { customerId, workflowId }, this.cipher)), customerId, workflowId]),
    );
    return rows[0] ? toSubscription(rows[0], this.cipher) : null;
  }

  async deleteSubscription(customerId: string, workflowId: string): Promise<boolean> {
    const { rows } = await withPostgres('deleting a subscription', () =>
      query<{ deleted: number }>(this.db, DELETE_SUBSCRIPTION_SQL, [customerId, workflowId]),
    );
    return (rows[0]?.deleted ?? 0) > 0;
  }

  async getSubscriptionsVersion(customerId: string): Promise<number> {
    const { rows } = await withPostgres('reading the subscriptions version', () => query<{ version: number }>(this.db, SELECT_VERSION_SQL, [customerId]));
    return rows[0]?.version ?? 0;
  }

  async listActiveSubscriptions(customerId: string): Promise<Subscription[]> {
    const { rows } = await withPostgres('listing active subscriptions', () => query<SubscriptionRow>(this.db, SELECT_ACTIVE_SQL, [customerId]));
    return rows.map((row) => toSubscription(row, this.cipher));
  }

  async ping(): Promise<void> {
    await withPostgres('ping', () => query(this.db, 'SELECT 1'));
  }

  /** The pool is shared by every adapter; whoever opened it closes it. */
  async close(): Promise<void> {}
}

export function createPostgresMetadataStore(db: PostgresDatabase, cipher: SecretCipher): PostgresMetadataStore {
  return new PostgresMetadataStore(db, cipher);
}
