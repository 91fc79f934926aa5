import type { Statement } from 'better-sqlite3';
import type { ApiKeyRecord, Customer, CustomerStatus } from '../../domain/customers.ts';
import type { Subscription, SubscriptionBatching, SubscriptionStatus } from '../../domain/subscriptions.ts';
import type { Selector } from '../../domain/selectors/types.ts';
import type { CustomerPatch, MetadataStore, SubscriptionPage, SubscriptionPatch } from '../../ports/metadata-store.ts';
import { TriggersError } from '../../errors.ts';
import { decodeCursor, encodeCursor, isRecord } from '../cursor.ts';
import type { SqliteDatabase } from './database.ts';
import { withSqlite } from './errors.ts';

interface CustomerRow {
  customer_id: string;
  name: string;
  email: string;
  status: CustomerStatus;
  rate_limit_per_second: number | null;
  is_test: number;
  created_at: number;
}

interface ApiKeyRow {
  key_id: string;
  customer_id: string;
  key_hash: string;
  prefix: string;
  created_at: number;
  revoked_at: number | null;
  expires_at: number | null;
}

interface ApiKeyWithCustomerRow extends ApiKeyRow {
  c_name: string;
  c_email: string;
  c_status: CustomerStatus;
  c_rate_limit_per_second: number | null;
  c_is_test: number;
  c_created_at: number;
}

interface SubscriptionRow {
  workflow_id: string;
  customer_id: string;
  event_selector: string;
  webhook_url: string;
  description: string | null;
  status: SubscriptionStatus;
  disabled_reason: string | null;
  secret: string;
  previous_secret: string | null;
  previous_secret_expires_at: number | null;
  batching: string | null;
  created_at: number;
  updated_at: number;
}

const CUSTOMER_COLUMNS = 'customer_id, name, email, status, rate_limit_per_second, is_test, created_at';
const API_KEY_COLUMNS = 'key_id, customer_id, key_hash, prefix, created_at, revoked_at, expires_at';
const SUBSCRIPTION_COLUMNS =
  'workflow_id, customer_id, event_selector, webhook_url, description, status, disabled_reason, secret, previous_secret, previous_secret_expires_at, batching, created_at, updated_at';

/** Patchable customer fields and their columns (a fixed list: patch keys never reach SQL). */
const CUSTOMER_PATCH_COLUMNS = {
  name: 'name',
  email: 'email',
  status: 'status',
  rateLimitPerSecond: 'rate_limit_per_second',
} as const satisfies Record<keyof CustomerPatch, string>;

const SUBSCRIPTION_PATCH_COLUMNS = {
  eventSelector: 'event_selector',
  webhookUrl: 'webhook_url',
  description: 'description',
  status: 'status',
  disabledReason: 'disabled_reason',
  secret: 'secret',
  previousSecret: 'previous_secret',
  previousSecretExpiresAt: 'previous_secret_expires_at',
  batching: 'batching',
  updatedAt: 'updated_at',
} as const satisfies Record<keyof SubscriptionPatch, string>;

function toCustomer(row: CustomerRow): Customer {
  return {
    customerId: row.customer_id,
    name: row.name,
    email: row.email,
    status: row.status,
    rateLimitPerSecond: row.rate_limit_per_second,
    isTest: row.is_test === 1,
    createdAt: row.created_at,
  };
}

function toApiKey(row: ApiKeyRow): ApiKeyRecord {
  return {
    keyId: row.key_id,
    customerId: row.customer_id,
    keyHash: row.key_hash,
    prefix: row.prefix,
    createdAt: row.created_at,
    revokedAt: row.revoked_at,
    expiresAt: row.expires_at,
  };
}

function toSubscription(row: SubscriptionRow): Subscription {
  return {
    workflowId: row.workflow_id,
    customerId: row.customer_id,
    eventSelector: JSON.parse(row.event_selector) as Selector,
    webhookUrl: row.webhook_url,
    description: row.description,
    status: row.status,
    disabledReason: row.disabled_reason,
    secret: row.secret,
    previousSecret: row.previous_secret,
    previousSecretExpiresAt: row.previous_secret_expires_at,
    batching: row.batching === null ? null : (JSON.parse(row.batching) as SubscriptionBatching),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** Converts a patch value to what the column stores. */
function subscriptionColumnValue(field: keyof SubscriptionPatch, value: unknown): unknown {
  if (field === 'eventSelector') return JSON.stringify(value);
  if (field === 'batching') return value === null ? null : JSON.stringify(value);
  return value;
}

interface SubscriptionCursor {
  createdAt: number;
  workflowId: string;
}

function isSubscriptionCursor(value: unknown): value is SubscriptionCursor {
  return (
    isRecord(value) &&
    typeof value.createdAt === 'number' &&
    Number.isSafeInteger(value.createdAt) &&
    typeof value.workflowId === 'string' &&
    value.workflowId.length > 0 &&
    value.workflowId.length <= 64
  );
}

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

  constructor(private readonly db: SqliteDatabase) {
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
    this.insertSubscription = db.prepare(`INSERT INTO subscriptions (${SUBSCRIPTION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
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
    if (!row) return null;
    return {
      key: toApiKey(row),
      customer: toCustomer({
        customer_id: row.customer_id,
        name: row.c_name,
        email: row.c_email,
        status: row.c_status,
        rate_limit_per_second: row.c_rate_limit_per_second,
        is_test: row.c_is_test,
        created_at: row.c_created_at,
      }),
    };
  }

  async revokeApiKey(keyId: string, revokedAt: number): Promise<boolean> {
    return withSqlite('revoking an API key', () => this.updateRevoked.run(revokedAt, keyId).changes > 0);
  }

  async createSubscription(s: Subscription): Promise<void> {
    const values = [
      s.workflowId,
      s.customerId,
      JSON.stringify(s.eventSelector),
      s.webhookUrl,
      s.description,
      s.status,
      s.disabledReason,
      s.secret,
      s.previousSecret,
      s.previousSecretExpiresAt,
      s.batching === null ? null : JSON.stringify(s.batching),
      s.createdAt,
      s.updatedAt,
    ];
    withSqlite('creating a subscription', () =>
      this.changeSubscriptions(s.customerId, () => this.insertSubscription.run(...values).changes > 0),
    );
  }

  async getSubscription(customerId: string, workflowId: string): Promise<Subscription | null> {
    const row = withSqlite('reading a subscription', () => this.selectSubscription.get(customerId, workflowId));
    return row ? toSubscription(row) : null;
  }

  async listSubscriptions(customerId: string, page: { limit: number; cursor?: string }): Promise<SubscriptionPage> {
    const limit = page.limit;
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
      throw new TriggersError('invalid_request', { detail: 'limit must be a whole number from 1 to 1000' });
    }
    const after = page.cursor === undefined ? null : decodeCursor(page.cursor, isSubscriptionCursor);
    const rows = withSqlite('listing subscriptions', () =>
      after === null
        ? this.selectSubscriptionsFirst.all(customerId, limit + 1)
        : this.selectSubscriptionsAfter.all(customerId, after.createdAt, after.workflowId, limit + 1),
    );
    const hasMore = rows.length > limit;
    const subscriptions = (hasMore ? rows.slice(0, limit) : rows).map(toSubscription);
    const last = subscriptions[subscriptions.length - 1];
    return {
      subscriptions,
      nextCursor: hasMore ? encodeCursor({ createdAt: last.createdAt, workflowId: last.workflowId } satisfies SubscriptionCursor) : null,
    };
  }

  async updateSubscription(customerId: string, workflowId: string, patch: SubscriptionPatch): Promise<Subscription | null> {
    const fields = (Object.keys(SUBSCRIPTION_PATCH_COLUMNS) as (keyof SubscriptionPatch)[]).filter((f) => patch[f] !== undefined);
    const values = fields.map((f) => subscriptionColumnValue(f, patch[f]));
    return withSqlite('updating a subscription', () => {
      const statement = this.updateStatement('subscriptions', 'customer_id = ? AND workflow_id = ?', fields.map((f) => SUBSCRIPTION_PATCH_COLUMNS[f]));
      let updated: Subscription | null = null;
      this.changeSubscriptions(customerId, () => {
        if (statement.run(...values, customerId, workflowId).changes === 0) return false;
        const row = this.selectSubscription.get(customerId, workflowId);
        updated = row ? toSubscription(row) : null;
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
    return withSqlite('listing active subscriptions', () => this.selectActive.all(customerId)).map(toSubscription);
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

export function createSqliteMetadataStore(db: SqliteDatabase): SqliteMetadataStore {
  return new SqliteMetadataStore(db);
}
