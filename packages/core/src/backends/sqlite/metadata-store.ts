import type { Statement } from 'better-sqlite3';
import type { ApiKeyRecord, Customer } from '../../domain/customers.ts';
import type { Subscription } from '../../domain/subscriptions.ts';
import type { CustomerPatch, MetadataStore, SubscriptionPage, SubscriptionPatch } from '../../ports/metadata-store.ts';
import { TriggersError } from '../../errors.ts';
import { decodeCursor, encodeCursor, checkPageLimit } from '../cursor.ts';
import { CUSTOMER_PATCH_COLUMNS, SUBSCRIPTION_PATCH_COLUMNS, isSubscriptionCursor, subscriptionColumnValue, toApiKeyWithCustomer, toCustomer, toSubscription, subscriptionRowValues, SUBSCRIPTION_COLUMNS, SUBSCRIPTION_PLACEHOLDERS } from '../sql/metadata-rows.ts';
import type { ApiKeyWithCustomerRow, CustomerRow, SubscriptionCursor, SubscriptionRow } from '../sql/metadata-rows.ts';
import type { SqliteDatabase } from './database.ts';
import { withSqlite } from './errors.ts';
import type { SecretCipher } from '../../secret-cipher.ts';

const CUSTOMER_COLUMNS = 'customer_id, name, email, status, rate_limit_per_second, is_test, created_at';
const API_KEY_COLUMNS = 'key_id, customer_id, key_hash, prefix, created_at, revoked_at, expires_at';
export class SqliteMetadataStore implements MetadataStore {
  readonly kind = 'sqlite';
  private readonly insertCustomer: Statement<unknown[]>;
  private readonly selectCustomer: Statement<[string], CustomerRow>;
  private readonly insertApiKey: Statement<unknown[]>;
  private readonly selectKeyByHash: Statement<[string], ApiKeyWithCustomerRow>;
  private readonly updateRevoked: Statement<[number, string]>;
  private readonly insertSubscription: Statement<unknown[]>;
  private readonly selectSubscription: Statement<[string, string], SubscriptionRow>;
  private readonly selectSubscriptionsFirst: Statement<[string, number], SubscriptionRow>;
  private readonly selectSubscriptionsAfter: Statement<[string, number, string, number], SubscriptionRow>;
  private readonly selectActive: Statement<[string], SubscriptionRow>;
  private readonly removeSubscription: Statement<[string, string]>;
  private readonly bumpVersion: Statement<[string]>;
  private readonly selectVersion: Statement<[string], { version: number }>;
  private readonly selectOne: Statement<[], unknown>;
  private readonly updateStatements = new Map<string, Statement<unknown[]>>();

  /** `cipher` encrypts webhook secrets on write and decrypts them on read. */
  constructor(
    private readonly db: SqliteDatabase,
    private readonly cipher: SecretCipher,
  ) {
    this.insertCustomer = db.prepare(`INSERT INTO customers (${CUSTOMER_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)`);
    this.selectCustomer = db.prepare(`SELECT ${CUSTOMER_COLUMNS} FROM customers WHERE customer_id = ?`);
    this.insertApiKey = db.prepare(`INSERT INTO api_keys (${API_KEY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)`);
    this.selectKeyByHash = db.prepare(`
      SELECT k.key_id, k.customer_id, k.key_hash, k.prefix, k.created_at, k.revoked_at, k.expires_at,
             c.name AS c_name, c.email AS c_email, c.status AS c_status, c.rate_limit_per_second AS c_rate_limit_per_second,
             c.is_test AS c_is_test, c.created_at AS c_created_at
        FROM api_keys k JOIN customers c ON c.customer_id = k.customer_id
       WHERE k.key_hash = ?`);
    this.updateRevoked = db.prepare('UPDATE api_keys SET revoked_at = ? WHERE key_id = ? AND revoked_at IS NULL');
    this.insertSubscription = db.prepare(`INSERT INTO subscriptions (${SUBSCRIPTION_COLUMNS}) VALUES (${SUBSCRIPTION_PLACEHOLDERS})`);
    this.selectSubscription = db.prepare(`SELECT ${SUBSCRIPTION_COLUMNS} FROM subscriptions WHERE customer_id = ? AND workflow_id = ?`);
    this.selectSubscriptionsFirst = db.prepare(`
      SELECT ${SUBSCRIPTION_COLUMNS} FROM subscriptions WHERE customer_id = ?
       ORDER BY created_at DESC, workflow_id DESC LIMIT ?`);
    this.selectSubscriptionsAfter = db.prepare(`
      SELECT ${SUBSCRIPTION_COLUMNS} FROM subscriptions WHERE customer_id = ? AND (created_at, workflow_id) < (?, ?)
       ORDER BY created_at DESC, workflow_id DESC LIMIT ?`);
    this.selectActive = db.prepare(`
      SELECT ${SUBSCRIPTION_COLUMNS} FROM subscriptions WHERE customer_id = ? AND status = 'active'
       ORDER BY created_at, workflow_id`);
    this.removeSubscription = db.prepare('DELETE FROM subscriptions WHERE customer_id = ? AND workflow_id = ?');
    this.bumpVersion = db.prepare(`
      INSERT INTO subscription_versions (customer_id, version) VALUES (?, 1)
      ON CONFLICT (customer_id) DO UPDATE SET version = subscription_versions.version + 1`);
    this.selectVersion = db.prepare('SELECT version FROM subscription_versions WHERE customer_id = ?');
    this.selectOne = db.prepare('SELECT 1');
  }

  async createCustomer(c: Customer): Promise<void> {
    withSqlite('creating a customer', () =>
      this.insertCustomer.run(c.customerId, c.name, c.email, c.status, c.rateLimitPerSecond, c.isTest ? 1 : 0, c.createdAt),
    );
  }

  async getCustomer(customerId: string): Promise<Customer | null> {
    const row = withSqlite('reading a customer', () => this.selectCustomer.get(customerId));
    return row ? toCustomer(row) : null;
  }

  async updateCustomer(customerId: string, patch: CustomerPatch): Promise<Customer | null> {
    const fields = (Object.keys(CUSTOMER_PATCH_COLUMNS) as (keyof CustomerPatch)[]).filter((f) => patch[f] !== undefined);
    return withSqlite('updating a customer', () =>
      this.db
        .transaction(() => {
          if (fields.length > 0) {
            const statement = this.updateStatement('customers', 'customer_id = ?', fields.map((f) => CUSTOMER_PATCH_COLUMNS[f]));
            if (statement.run(...fields.map((f) => patch[f]), customerId).changes === 0) return null;
          }
          const row = this.selectCustomer.get(customerId);
          return row ? toCustomer(row) : null;
        })
        .immediate(),
    );
  }

  async createApiKey(k: ApiKeyRecord): Promise<void> {
    withSqlite('creating an API key', () =>
      this.insertApiKey.run(k.keyId, k.customerId, k.keyHash, k.prefix, k.createdAt, k.revokedAt, k.expiresAt),
    );
  }

  async findApiKeyByHash(keyHash: string): Promise<{ key: ApiKeyRecord; customer: Customer } | null> {
    const row = withSqlite('finding an API key', () => this.selectKeyByHash.get(keyHash));
    return row ? toApiKeyWithCustomer(row) : null;
  }

  async revokeApiKey(keyId: string, revokedAt: number): Promise<boolean> {
    return withSqlite('revoking an API key', () => this.updateRevoked.run(revokedAt, keyId).changes > 0);
  }

  async createSubscription(s: Subscription): Promise<void> {
    const values = subscriptionRowValues(s, this.cipher);
    withSqlite('creating a subscription', () =>
      this.changeSubscriptions(s.customerId, () => this.insertSubscription.run(...values).changes > 0),
    );
  }

  async getSubscription(customerId: string, workflowId: string): Promise<Subscription | null> {
    const row = withSqlite('reading a subscription', () => this.selectSubscription.get(customerId, workflowId));
    return row ? toSubscription(row, this.cipher) : null;
  }

  async listSubscriptions(customerId: string, page: { limit: number; cursor?: string }): Promise<SubscriptionPage> {
    const limit = checkPageLimit(page.limit);
    const after = page.cursor === undefined ? null : decodeCursor(page.cursor, isSubscriptionCursor);
    const rows = withSqlite('listing subscriptions', () =>
      after === null
        ? this.selectSubscriptionsFirst.all(customerId, limit + 1)
        : this.selectSubscriptionsAfter.all(customerId, after.createdAt, after.workflowId, limit + 1),
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
    const values = fields.map((f) => subscriptionColumnValue(f, patch[f], { customerId, workflowId }, this.cipher));
    return withSqlite('updating a subscription', () => {
      const statement = this.updateStatement('subscriptions', 'customer_id = ? AND workflow_id = ?', fields.map((f) => SUBSCRIPTION_PATCH_COLUMNS[f]));
      let updated: Subscription | null = null;
      this.changeSubscriptions(customerId, () => {
        if (statement.run(...values, customerId, workflowId).changes === 0) return false;
        const row = this.selectSubscription.get(customerId, workflowId);
        updated = row ? toSubscription(row, this.cipher) : null;
        return true;
      });
      return updated;
    });
  }

  async deleteSubscription(customerId: string, workflowId: string): Promise<boolean> {
    return withSqlite('deleting a subscription', () =>
      this.changeSubscriptions(customerId, () => this.removeSubscription.run(customerId, workflowId).changes > 0),
    );
  }

  async getSubscriptionsVersion(customerId: string): Promise<number> {
    return withSqlite('reading the subscriptions version', () => this.selectVersion.get(customerId)?.version ?? 0);
  }

  async listActiveSubscriptions(customerId: string): Promise<Subscription[]> {
    return withSqlite('listing active subscriptions', () => this.selectActive.all(customerId)).map((row) => toSubscription(row, this.cipher));
  }

  async ping(): Promise<void> {
    withSqlite('ping', () => this.selectOne.get());
  }

  /** The connection is shared by every adapter; whoever opened it closes it. */
  async close(): Promise<void> {}

  /** Runs a subscription write and, when it changed something, bumps the customer's version in the same transaction. */
  private changeSubscriptions(customerId: string, write: () => boolean): boolean {
    return this.db
      .transaction(() => {
        const changed = write();
        if (changed) this.bumpVersion.run(customerId);
        return changed;
      })
      .immediate();
  }

  /** `UPDATE table SET a = ?, b = ? WHERE ...`, cached per column list (columns come from the fixed maps above). */
  private updateStatement(table: string, where: string, columns: string[]): Statement<unknown[]> {
    const key = `${table}:${columns.join(',')}`;
    let statement = this.updateStatements.get(key);
    if (!statement) {
      statement = this.db.prepare(`UPDATE ${table} SET ${columns.map((c) => `${c} = ?`).join(', ')} WHERE ${where}`);
      this.updateStatements.set(key, statement);
    }
    return statement;
  }
}

export function createSqliteMetadataStore(db: SqliteDatabase, cipher: SecretCipher): SqliteMetadataStore {
  return new SqliteMetadataStore(db, cipher);
}
