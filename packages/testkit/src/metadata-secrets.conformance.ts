import assert from 'node:assert/strict';
import type { Subscription } from '@triggers/core/domain';
import type { MetadataStore } from '@triggers/core/ports';
import { createSecretCipher, generateSecretKeyText, storedSecretKeyId, type SecretCipher } from '@triggers/core/runtime';
import { uniqueId } from './helpers.ts';

/** One database of a metadata-store backend, opened the way a process opens it. */
export interface SecretsDatabase {
  store: MetadataStore;
  /**
   * Opens the same database again with `cipher` (or none), as a restarted process does: migrations
   * and the start-up re-encryption run, and a start-up failure rejects. The previous store is closed.
   */
  reopen(cipher: SecretCipher | undefined): Promise<MetadataStore>;
  /** A statement with `?` placeholders on the engine itself (what a database dump or an operator sees). */
  sql(statement: string, bindings?: unknown[]): Promise<Record<string, unknown>[]>;
  /** Every byte the engine shows of the database as text: the SQLite files, or every row of every table. */
  dump(): Promise<string>;
  close(): Promise<void>;
}

/**
 * Webhook secrets encrypted at rest (AES-256-GCM, packages/core/src/secret-cipher.ts), the same
 * tests for every metadata store: `open(cipher)` gives a fresh, migrated database.
 */
export function metadataSecretsConformance(open: (cipher: SecretCipher | undefined) => Promise<SecretsDatabase>): void {
  describe('webhook secrets at rest', function () {
    const opened: SecretsDatabase[] = [];
    const openDatabase = async (cipher: SecretCipher | undefined) => {
      const database = await open(cipher);
      opened.push(database);
      return database;
    };
    afterEach(async function () {
      for (const database of opened.splice(0)) await database.close();
    });

    const newKey = () => createSecretCipher({ current: generateSecretKeyText() });
    const secretOf = () => `whsec_${Buffer.from(uniqueId()).toString('base64')}`;

    async function subscribe(store: MetadataStore, overrides: Partial<Subscription> = {}): Promise<Subscription> {
      const customerId = uniqueId();
      await store.createCustomer({ customerId, name: 'Secrets', email: 'secrets@example.com', status: 'active', rateLimitPerSecond: null, isTest: false, createdAt: Date.now() });
      const now = Date.now();
      const subscription: Subscription = {
        workflowId: uniqueId(),
        customerId,
        eventSelector: { type: 'event_type', value: 'order.*' },
        webhookUrl: 'https://hooks.example.com/in',
        description: null,
        status: 'active',
        disabledReason: null,
        secret: secretOf(),
        previousSecret: secretOf(),
        previousSecretExpiresAt: now + 86_400_000,
        batching: null,
        retryPolicy: null,
        timeoutMs: null,
        createdAt: now,
        updatedAt: now,
        managedBy: null,
        ...overrides,
      };
      await store.createSubscription(subscription);
      return subscription;
    }

    const rowOf = async (database: SecretsDatabase, s: Subscription) =>
      (await database.sql('SELECT secret, previous_secret FROM subscriptions WHERE customer_id = ? AND workflow_id = ?', [s.customerId, s.workflowId]))[0] as {
        secret: string;
        previous_secret: string | null;
      };

    /** Neither the secret nor the HMAC key inside it (its base64 part, as base64 or hex) appears in the dump. */
    function assertNotInDump(dump: string, secret: string): void {
      const keyPart = secret.replace(/^whsec_/, '');
      for (const form of [secret, keyPart, Buffer.from(keyPart, 'base64').toString('hex'), Buffer.from(keyPart, 'base64').toString('latin1')]) {
        assert.ok(!dump.includes(form), `the database dump holds the webhook secret (as ${JSON.stringify(form.slice(0, 12))}...)`);
      }
    }

    it('stores neither the secret nor the previous secret: a dump of the database cannot sign a webhook', async function () {
      const cipher = newKey();
      const database = await openDatabase(cipher);
      const subscription = await subscribe(database.store);
      const rotated = { secret: secretOf(), previousSecret: subscription.secret, previousSecretExpiresAt: Date.now() + 1000, updatedAt: Date.now() };
      await database.store.updateSubscription(subscription.customerId, subscription.workflowId, rotated);

      const row = await rowOf(database, subscription);
      assert.ok(row.secret.startsWith(`enc1:${cipher.currentKeyId}:`), row.secret);
      assert.ok(row.previous_secret?.startsWith(`enc1:${cipher.currentKeyId}:`), String(row.previous_secret));
      const dump = await database.dump();
      assert.ok(dump.includes(row.secret), 'the dump is of this database (it holds the encrypted value)');
      for (const secret of [subscription.secret, subscription.previousSecret!, rotated.secret]) assertNotInDump(dump, secret);
      // Reads give the secrets back.
      const read = await database.store.getSubscription(subscription.customerId, subscription.workflowId);
      assert.equal(read?.secret, rotated.secret);
      assert.equal(read?.previousSecret, subscription.secret);
    });

    it('encrypts with a random IV: the same secret never gives the same stored value', async function () {
      const database = await openDatabase(newKey());
      const secret = secretOf();
      const a = await subscribe(database.store, { secret, previousSecret: secret });
      const row = await rowOf(database, a);
      assert.notEqual(row.secret, row.previous_secret);
    });

    it('refuses a stored value moved onto another subscription (the ids are authenticated)', async function () {
      const database = await openDatabase(newKey());
      const a = await subscribe(database.store);
      const b = await subscribe(database.store);
      const rowA = await rowOf(database, a);
      await database.sql('UPDATE subscriptions SET secret = ? WHERE customer_id = ? AND workflow_id = ?', [rowA.secret, b.customerId, b.workflowId]);
      await assert.rejects(database.store.getSubscription(b.customerId, b.workflowId), /failed authentication/);
      assert.equal((await database.store.getSubscription(a.customerId, a.workflowId))?.secret, a.secret);
    });

    it('rotates keys: the previous key still decrypts, and a restart re-encrypts every row with the current key', async function () {
      const oldKey = generateSecretKeyText();
      const newKeyText = generateSecretKeyText();
      const database = await openDatabase(createSecretCipher({ current: oldKey }));
      const subscription = await subscribe(database.store);
      const oldId = storedSecretKeyId((await rowOf(database, subscription)).secret);

      // A process with only the new key cannot decrypt the old rows: it refuses to start, naming the setting.
      await assert.rejects(database.reopen(createSecretCipher({ current: newKeyText })), /TRIGGERS_SECRET_KEY_PREVIOUS/);

      const rotated = createSecretCipher({ current: newKeyText, previous: [oldKey] });
      const store = await database.reopen(rotated);
      const row = await rowOf(database, subscription);
      assert.notEqual(storedSecretKeyId(row.secret), oldId);
      assert.equal(storedSecretKeyId(row.secret), rotated.currentKeyId);
      assert.equal(storedSecretKeyId(row.previous_secret!), rotated.currentKeyId);
      const read = await store.getSubscription(subscription.customerId, subscription.workflowId);
      assert.equal(read?.secret, subscription.secret);
      assert.equal(read?.previousSecret, subscription.previousSecret);

      // Re-encrypted: the old key is no longer needed.
      const newOnly = await database.reopen(createSecretCipher({ current: newKeyText }));
      assert.equal((await newOnly.getSubscription(subscription.customerId, subscription.workflowId))?.secret, subscription.secret);
    });

    it('migration 0006 encrypts secrets stored in plaintext, and a process without the key refuses to start on them', async function () {
      const cipher = newKey();
      const database = await openDatabase(cipher);
      const subscription = await subscribe(database.store);
      // As a version before 0006 left it: plaintext secrets, migration not applied.
      await database.sql('UPDATE subscriptions SET secret = ?, previous_secret = ? WHERE customer_id = ? AND workflow_id = ?', [
        subscription.secret,
        subscription.previousSecret,
        subscription.customerId,
        subscription.workflowId,
      ]);
      await database.sql("DELETE FROM knex_migrations WHERE name = '0006_encrypt_secrets'");

      await assert.rejects(database.reopen(undefined), /not encrypted.*TRIGGERS_SECRET_KEY/);
      const store = await database.reopen(cipher);
      const applied = await database.sql("SELECT name FROM knex_migrations WHERE name = '0006_encrypt_secrets'");
      assert.equal(applied.length, 1, 'migration 0006 ran');
      const row = await rowOf(database, subscription);
      assert.equal(storedSecretKeyId(row.secret), cipher.currentKeyId);
      assert.equal(storedSecretKeyId(row.previous_secret!), cipher.currentKeyId);
      assertNotInDump(await database.dump(), subscription.secret);
      assertNotInDump(await database.dump(), subscription.previousSecret!);
      assert.equal((await store.getSubscription(subscription.customerId, subscription.workflowId))?.secret, subscription.secret);
    });
  });
}
