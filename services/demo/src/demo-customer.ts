import { TriggersError, type ApiKeyRecord, type Customer } from '@triggers/core/domain';
import type { Logger } from '@triggers/core/runtime';
import type { DemoStore, MetadataStore } from '@triggers/core/ports';
import { relayedError, type PublicApiClient, type PublicApiRequest, type PublicApiResponse } from './public-api.ts';
import type { SinkSettings, WebhookSink } from './webhook-sink.ts';

/** Kept in the demo store under `customer`. The key never leaves the server. */
export interface DemoAccount {
  customer_id: string;
  api_key: string;
  key_id: string;
}

export const DEMO_CUSTOMER = { name: 'Console demo', email: 'demo@example.com' } as const;
export const SINK_PATH = '/demo/webhook-sink';
/** What the default sink subscription receives: the composer's and the ticket analysis's events. */
export const SINK_SELECTOR = {
  type: 'any',
  selectors: [
    { type: 'event_type', value: 'document.*' },
    { type: 'event_type', value: 'ticket.*' },
  ],
} as const;

/** How customers and keys are made: the inbox's own admin functions, so the demo makes none its own way. */
export interface CustomerAccounts {
  /** A test customer (active, default rate limit) and its first key. */
  createTestCustomer(details: { name: string; email: string }): Promise<{ customer: Customer; record: ApiKeyRecord; apiKey: string }>;
  /** A new key that never expires. */
  issueApiKey(customer: Customer): Promise<{ record: ApiKeyRecord; apiKey: string }>;
}

export interface DemoCustomerOptions {
  log: Logger;
  metadataStore: MetadataStore;
  accounts: CustomerAccounts;
  demoStore: DemoStore;
  api: PublicApiClient;
  /** The public API's base URL (also where the deliverer reaches the sink). */
  baseUrl: () => string;
  sink: WebhookSink;
}

/**
 * The demo customer: created on first use (a test customer with an `sk_test_` key, kept in the
 * demo store so restarts reuse it), and every public API call the demo makes on its behalf.
 */
export class DemoCustomer {
  private loading: Promise<DemoAccount> | undefined;

  constructor(private readonly options: DemoCustomerOptions) {}

  /** The account, creating it (and its webhook sink subscription) the first time. */
  account(): Promise<DemoAccount> {
    this.loading ??= this.loadOrCreate().catch((error) => {
      this.loading = undefined;
      throw error;
    });
    return this.loading;
  }

  /**
   * Calls the public API as the demo customer. A 2xx answer resolves; any other is thrown as the
   * API's own error. A 401 (the key was revoked by an operator) renews the key once and retries.
   */
  async call(request: Omit<PublicApiRequest, 'apiKey'>): Promise<PublicApiResponse> {
    let account = await this.account();
    let response = await this.options.api.send({ ...request, apiKey: account.api_key });
    if (response.status === 401) {
      account = await this.renewKey(account);
      response = await this.options.api.send({ ...request, apiKey: account.api_key });
    }
    if (response.status < 200 || response.status > 299) throw relayedError(response);
    return response;
  }

  /**
   * Opens `GET /api/v1/events/stream` as the demo customer and returns the response unread (the
   * caller relays it and aborts `signal` when its own client leaves). A 401 renews the key once.
   */
  async openEventStream(query: string, lastEventId: string | undefined, signal: AbortSignal): Promise<Response> {
    const open = (account: DemoAccount) =>
      fetch(`${this.options.baseUrl()}/api/v1/events/stream${query}`, {
        headers: { authorization: `Bearer ${account.api_key}`, accept: 'text/event-stream', ...(lastEventId ? { 'last-event-id': lastEventId } : {}) },
        redirect: 'error',
        signal,
      });
    let account = await this.account();
    let response = await open(account);
    if (response.status === 401) {
      await response.body?.cancel();
      account = await this.renewKey(account);
      response = await open(account);
    }
    return response;
  }

  private async loadOrCreate(): Promise<DemoAccount> {
    const { demoStore, log } = this.options;
    const stored = await demoStore.get<DemoAccount>('customer');
    if (stored) {
      this.options.sink.configure(await demoStore.get<SinkSettings>('webhook_sink'));
      await this.followSinkAddress(stored);
      return stored;
    }
    const created = await this.options.accounts.createTestCustomer(DEMO_CUSTOMER);
    const candidate: DemoAccount = { customer_id: created.customer.customerId, api_key: created.apiKey, key_id: created.record.keyId };
    // Another replica may have won the race: everyone uses the first one stored.
    const account = await demoStore.setIfAbsent('customer', candidate);
    if (account.customer_id === candidate.customer_id) {
      log.info({ customerId: account.customer_id }, 'Created the demo customer');
      await this.createSink(account);
    } else {
      this.options.sink.configure(await demoStore.get<SinkSettings>('webhook_sink'));
    }
    return account;
  }

  /** A fresh key for the same customer while it is active; a new demo customer otherwise. */
  private async renewKey(stale: DemoAccount): Promise<DemoAccount> {
    const { log, demoStore, metadataStore } = this.options;
    const customer = await metadataStore.getCustomer(stale.customer_id);
    if (!customer || customer.status !== 'active') {
      throw new TriggersError('unavailable', { detail: 'The demo customer is disabled. An operator can enable it again with PATCH /admin/customers/{id}.' });
    }
    const { record, apiKey } = await this.options.accounts.issueApiKey(customer);
    const renewed: DemoAccount = { customer_id: customer.customerId, api_key: apiKey, key_id: record.keyId };
    await demoStore.set('customer', renewed);
    this.loading = Promise.resolve(renewed);
    log.warn({ customerId: customer.customerId, keyId: record.keyId }, 'Renewed the demo API key after a 401');
    return renewed;
  }

  /** Subscribes the sink. Best effort: where the SSRF policy forbids our own address, there is none. */
  private async createSink(account: DemoAccount): Promise<void> {
    const url = this.sinkUrl();
    const response = await this.options.api.send({
      method: 'POST',
      path: '/api/v1/subscriptions',
      apiKey: account.api_key,
      json: { event_selector: SINK_SELECTOR, webhook_url: url, description: 'Demo webhook sink (built in)' },
    });
    if (response.status !== 201) {
      this.options.log.warn({ status: response.status }, 'Skipped the demo webhook sink: its subscription was refused');
      return;
    }
    const body = response.body as { workflow_id: string; secret: string };
    const settings: SinkSettings = { workflow_id: body.workflow_id, url, secrets: [body.secret] };
    await this.options.demoStore.set('webhook_sink', settings);
    this.options.sink.configure(settings);
  }

  /** After a restart on another port, points the sink subscription at this process's address. */
  private async followSinkAddress(account: DemoAccount): Promise<void> {
    const settings = this.options.sink.current();
    const url = this.sinkUrl();
    if (!settings || settings.url === url) return;
    const response = await this.options.api.send({
      method: 'PATCH',
      path: `/api/v1/subscriptions/${settings.workflow_id}`,
      apiKey: account.api_key,
      json: { webhook_url: url },
    });
    if (response.status === 200) {
      const moved = { ...settings, url };
      await this.options.demoStore.set('webhook_sink', moved);
      this.options.sink.configure(moved);
    } else {
      this.options.log.warn({ status: response.status }, 'Failed to move the demo webhook sink to this address');
    }
  }

  /** Keeps the sink's secrets in step when its secret is rotated through the console. */
  async noteRotatedSecret(workflowId: string, secret: string): Promise<void> {
    const settings = this.options.sink.current();
    if (!settings || settings.workflow_id !== workflowId) return;
    const rotated = { ...settings, secrets: [secret, ...settings.secrets].slice(0, 2) };
    await this.options.demoStore.set('webhook_sink', rotated);
    this.options.sink.configure(rotated);
  }

  sinkUrl(): string {
    return `${this.options.baseUrl()}${SINK_PATH}`;
  }
}
