import os from 'node:os';
import { z } from 'zod';
import type { SsrfAllow } from './domain/delivery/ssrf-policy.ts';
import { parseSecretKey } from './secret-cipher.ts';

/**
 * All settings, parsed once at start-up from `TRIGGERS_*` variables (and `PORT`).
 * Nothing else in the code base reads `process.env`: services receive this object.
 * A bad value stops the process with a message naming the variable.
 */

const int = (min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^-?\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

const bool = z
  .enum(['1', '0', 'true', 'false', 'yes', 'no', 'on', 'off'])
  .transform((v) => ['1', 'true', 'yes', 'on'].includes(v));

/** A Kubernetes object name (RFC 1123 subdomain) or namespace (RFC 1123 label). */
const kubeName = (what: 'name' | 'namespace') =>
  z
    .string()
    .trim()
    .max(what === 'name' ? 253 : 63)
    .regex(what === 'name' ? /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/ : /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, `must be a Kubernetes ${what}`);

const kubeNamespaces = z
  .string()
  .trim()
  .transform((value, ctx): string[] => {
    const names = value.split(',').map((s) => s.trim()).filter(Boolean);
    const bad = names.filter((n) => !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(n) || n.length > 63);
    if (bad.length > 0) {
      ctx.addIssue({ code: 'custom', message: `must be a comma-separated list of Kubernetes namespaces (bad: ${bad.join(', ')})` });
      return z.NEVER;
    }
    return [...new Set(names)];
  });

/** One AES-256 key (kept as its text: the config object is cloned into worker threads). */
const secretKey = z
  .string()
  .trim()
  .superRefine((value, ctx) => {
    try {
      parseSecretKey(value);
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: (error as Error).message });
    }
  });

/** Keys that only decrypt: a comma-separated list. */
const secretKeys = z
  .string()
  .trim()
  .transform((value, ctx): string[] => {
    const keys = value.split(',').map((s) => s.trim()).filter(Boolean);
    for (const [index, key] of keys.entries()) {
      try {
        parseSecretKey(key);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: `key ${index + 1} ${(error as Error).message}` });
        return z.NEVER;
      }
    }
    return keys;
  });

const SSRF_KEYWORDS = ['none', 'loopback', 'private'] as const;

const CIDR = /^([0-9.]+|[0-9a-fA-F:.]+)\/\d{1,3}$/;
const ssrfAllow = z
  .string()
  .trim()
  .transform((value, ctx): SsrfAllow => {
    if ((SSRF_KEYWORDS as readonly string[]).includes(value)) return { kind: value as 'none' | 'loopback' | 'private' };
    const cidrs = value.split(',').map((s) => s.trim()).filter(Boolean);
    const bad = cidrs.filter((c) => !CIDR.test(c));
    if (cidrs.length === 0 || bad.length > 0) {
      ctx.addIssue({ code: 'custom', message: `must be none, loopback, private or a comma-separated CIDR list (bad: ${bad.join(', ') || value})` });
      return z.NEVER;
    }
    return { kind: 'cidrs', cidrs };
  });

const VARIABLES = {
  PORT: int(0, 65535).default(8080),
  TRIGGERS_HOST: z.string().trim().min(1).default('0.0.0.0'),
  TRIGGERS_ENV: z.string().trim().regex(/^[a-z0-9-]{1,32}$/, 'must be a short lower-case word').default('dev'),
  TRIGGERS_DATA_DIR: z.string().trim().min(1).default('./data'),
  TRIGGERS_ADMIN_TOKEN: z.string().trim().min(16, 'must be at least 16 characters').optional(),
  TRIGGERS_SECRET_KEY: secretKey.optional(),
  TRIGGERS_SECRET_KEY_PREVIOUS: secretKeys.optional(),
  TRIGGERS_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  TRIGGERS_RATE_LIMIT_PER_SECOND: int(1, 10_000_000).default(1000),
  TRIGGERS_MAX_PAYLOAD_BYTES: int(1024, 64 * 1024 * 1024).default(262_144),
  TRIGGERS_IDEMPOTENCY_TTL_MS: int(1000, 30 * 24 * 3600_000).default(24 * 3600_000),
  TRIGGERS_API_KEY_CACHE_MS: int(0, 5000).default(1000),
  TRIGGERS_STREAM_MAX_PER_CUSTOMER: int(1, 10_000).default(10),
  TRIGGERS_STREAM_HEARTBEAT_MS: int(1000, 15_000).default(15_000),
  TRIGGERS_STREAM_SLOW_CLIENT_MS: int(100, 300_000).default(10_000),
  TRIGGERS_RETRY_BASE_MS: int(1, 24 * 3600_000).default(2000),
  TRIGGERS_RETRY_MAX_DELAY_MS: int(1, 7 * 24 * 3600_000).default(24 * 3600_000),
  TRIGGERS_MAX_ATTEMPTS: int(1, 100).default(5),
  TRIGGERS_WEBHOOK_TIMEOUT_MS: int(100, 10 * 60_000).default(30_000),
  // Off by default: a traceparent tells the receiver our internal trace and span ids.
  TRIGGERS_WEBHOOK_TRACEPARENT: bool.default(false),
  TRIGGERS_BREAKER_MIN_REQUESTS: int(1, 1_000_000).default(20),
  TRIGGERS_BREAKER_ERROR_PERCENT: int(1, 100).default(50),
  TRIGGERS_BREAKER_RESET_MS: int(100, 3600_000).default(30_000),
  TRIGGERS_SSRF_ALLOW: ssrfAllow.optional(),
  TRIGGERS_EMBEDDED_PIPELINE: z.enum(['inline', 'thread']).default('inline'),
  TRIGGERS_DELIVERER_CONCURRENCY: int(1, 10_000).default(128),
  TRIGGERS_DELIVERER_MAX_PER_SUBSCRIPTION: int(1, 10_000).default(16),
  TRIGGERS_DELIVERER_MAX_PER_ORIGIN: int(1, 10_000).default(16),
  TRIGGERS_DELIVERER_CLAIM_LEASE_MS: int(1000, 600_000).default(5000),
  TRIGGERS_MATCHER_CONCURRENCY: int(1, 10_000).default(64),
  TRIGGERS_REPLAY_EVENTS_PER_SECOND: int(1, 100_000).default(200),
  TRIGGERS_PENDING_SWEEP_AFTER_MS: int(1000, 7 * 24 * 3600_000).default(5 * 60_000),
  TRIGGERS_QUEUE_MAX_RECEIVES: int(1, 1000).default(25),
  TRIGGERS_QUEUE_VISIBILITY_TIMEOUT_MS: int(100, 12 * 3600_000).optional(),
  TRIGGERS_SQLITE_SYNCHRONOUS: z.enum(['full', 'normal']).default('full'),
  TRIGGERS_EVENT_STORE: z.enum(['sqlite', 'postgres', 'dynamodb']).default('sqlite'),
  TRIGGERS_METADATA_STORE: z.enum(['sqlite', 'postgres']).default('sqlite'),
  TRIGGERS_QUEUE: z.enum(['sqlite', 'sqs', 'kafka']).default('sqlite'),
  TRIGGERS_CACHE: z.enum(['memory', 'redis']).default('memory'),
  TRIGGERS_POSTGRES_URL: z.string().trim().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL').optional(),
  TRIGGERS_POSTGRES_POOL_MAX: int(1, 1000).default(20),
  TRIGGERS_REDIS_URL: z.string().trim().regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL').optional(),
  TRIGGERS_AWS_REGION: z.string().trim().min(1).default('us-east-1'),
  TRIGGERS_DYNAMODB_ENDPOINT: z.url().optional(),
  TRIGGERS_DYNAMODB_TABLE: z.string().trim().regex(/^[A-Za-z0-9_.-]{3,255}$/, 'must be a DynamoDB table name').default('triggers-events'),
  TRIGGERS_DYNAMODB_SHARDS: int(1, 1000).default(4),
  TRIGGERS_EVENT_TTL_DAYS: int(1, 3650).default(90),
  TRIGGERS_SQS_ENDPOINT: z.url().optional(),
  TRIGGERS_SQS_QUEUE_PREFIX: z.string().trim().regex(/^[A-Za-z0-9_-]{1,40}$/, 'letters, digits, - and _ only').default('triggers'),
  TRIGGERS_KAFKA_BROKERS: z.string().trim().min(1).optional(),
  TRIGGERS_KAFKA_TOPIC_PREFIX: z.string().trim().regex(/^[A-Za-z0-9._-]{1,100}$/, 'letters, digits, ., - and _ only').default('triggers'),
  TRIGGERS_KAFKA_SESSION_TIMEOUT_MS: int(1000, 1_800_000).default(10_000),
  TRIGGERS_DEMO: bool.optional(),
  TRIGGERS_DEMO_API_URL: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
  TRIGGERS_DEMO_EMAIL_FROM: z.string().trim().min(3).max(320).default('Triggers Demo <onboarding@resend.dev>'),
  TRIGGERS_RESEND_API_KEY: z.string().trim().min(1).optional(),
  TRIGGERS_CONTROLLER_NAMESPACES: kubeNamespaces.optional(),
  TRIGGERS_CONTROLLER_RESYNC_MS: int(1000, 24 * 3600_000).default(300_000),
  TRIGGERS_CONTROLLER_LEASE_NAME: kubeName('name').default('triggers-controller'),
  TRIGGERS_CONTROLLER_LEASE_NAMESPACE: kubeName('namespace').default('default'),
  TRIGGERS_CONTROLLER_LEASE_DURATION_MS: int(1000, 300_000).default(15_000),
  TRIGGERS_CONTROLLER_IDENTITY: z.string().trim().min(1).max(128).optional(),
  TRIGGERS_CONTROLLER_KUBECONFIG: z.string().trim().min(1).optional(),
  TRIGGERS_RESEND_BASE_URL: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).default('https://api.resend.com'),
} as const;

export type Config = ReturnType<typeof buildConfig>;

export class ConfigError extends Error {
  constructor(readonly variable: string, message: string) {
    super(`Invalid setting ${variable}: ${message}`);
    this.name = 'ConfigError';
  }
}

const CREDENTIALS = new Set(['TRIGGERS_ADMIN_TOKEN', 'TRIGGERS_SECRET_KEY', 'TRIGGERS_SECRET_KEY_PREVIOUS', 'TRIGGERS_RESEND_API_KEY']);

type Parsed = { [K in keyof typeof VARIABLES]: z.output<(typeof VARIABLES)[K]> };

function parseVariables(env: Record<string, string | undefined>): Parsed {
  const out: Record<string, unknown> = {};
  for (const [name, schema] of Object.entries(VARIABLES)) {
    const raw = env[name];
    const result = (schema as z.ZodType).safeParse(raw === '' ? undefined : raw);
    if (!result.success) {
      const message = result.error.issues.map((i) => i.message).join('; ');
      // A credential's value never reaches the message (it is printed and logged).
      const got = CREDENTIALS.has(name) ? `${raw?.length ?? 0} characters` : JSON.stringify(raw);
      throw new ConfigError(name, `${message} (got ${got})`);
    }
    out[name] = result.data;
  }
  return out as Parsed;
}

function buildConfig(v: Parsed) {
  const env = v.TRIGGERS_ENV;
  return {
    port: v.PORT,
    host: v.TRIGGERS_HOST,
    env,
    dataDir: v.TRIGGERS_DATA_DIR,
    adminToken: v.TRIGGERS_ADMIN_TOKEN,
    /**
     * The AES-256-GCM key that encrypts webhook signing secrets at rest, and older keys that still
     * decrypt (rotation). Unset in embedded mode: generated in the data folder (`secret-key`).
     */
    secretKeys: { current: v.TRIGGERS_SECRET_KEY, previous: v.TRIGGERS_SECRET_KEY_PREVIOUS ?? [] },
    logLevel: v.TRIGGERS_LOG_LEVEL,
    /**
     * Where the all-in-one runs the matcher and deliverer: on the HTTP thread (default), or in a worker
     * thread. Measured (docs/benchmarks.md): the thread adds ~4 % throughput, but its second SQLite
     * connection contends for the write lock and end-to-end p50 at 1,000 events/s rises from 9 ms to 190 ms.
     */
    embeddedPipeline: v.TRIGGERS_EMBEDDED_PIPELINE,
    // The demo routes are unauthenticated (they act as the demo customer): on by default only in dev.
    demoEnabled: v.TRIGGERS_DEMO ?? env === 'dev',
    demo: {
      /** The public API the demo back end calls; undefined: the process's own address. */
      apiUrl: v.TRIGGERS_DEMO_API_URL?.replace(/\/+$/, ''),
    },
    mail: {
      from: v.TRIGGERS_DEMO_EMAIL_FROM,
      /** Set: notifications go through Resend; unset: into the outbox table the console shows. */
      resend: v.TRIGGERS_RESEND_API_KEY ? { apiKey: v.TRIGGERS_RESEND_API_KEY, baseUrl: v.TRIGGERS_RESEND_BASE_URL.replace(/\/+$/, '') } : undefined,
    },
    ingest: {
      defaultRateLimitPerSecond: v.TRIGGERS_RATE_LIMIT_PER_SECOND,
      maxPayloadBytes: v.TRIGGERS_MAX_PAYLOAD_BYTES,
      idempotencyTtlMs: v.TRIGGERS_IDEMPOTENCY_TTL_MS,
      apiKeyCacheMs: v.TRIGGERS_API_KEY_CACHE_MS,
    },
    delivery: {
      retryBaseMs: v.TRIGGERS_RETRY_BASE_MS,
      retryMaxDelayMs: v.TRIGGERS_RETRY_MAX_DELAY_MS,
      maxAttempts: v.TRIGGERS_MAX_ATTEMPTS,
      timeoutMs: v.TRIGGERS_WEBHOOK_TIMEOUT_MS,
      /** Send the attempt's W3C `traceparent` to the receiver (only while tracing is on). */
      webhookTraceparent: v.TRIGGERS_WEBHOOK_TRACEPARENT,
      breaker: {
        minRequests: v.TRIGGERS_BREAKER_MIN_REQUESTS,
        errorPercent: v.TRIGGERS_BREAKER_ERROR_PERCENT,
        resetMs: v.TRIGGERS_BREAKER_RESET_MS,
      },
      ssrfAllow: v.TRIGGERS_SSRF_ALLOW ?? ({ kind: env === 'dev' ? 'loopback' : 'none' } as SsrfAllow),
      pendingSweepAfterMs: v.TRIGGERS_PENDING_SWEEP_AFTER_MS,
      concurrency: v.TRIGGERS_DELIVERER_CONCURRENCY,
      /**
       * Webhook requests one subscription, and one origin, may have in flight in one deliverer: a
       * slow or batching tenant never holds more of the `concurrency` slots than this.
       */
      maxPerSubscription: v.TRIGGERS_DELIVERER_MAX_PER_SUBSCRIPTION,
      maxPerOrigin: v.TRIGGERS_DELIVERER_MAX_PER_ORIGIN,
      /**
       * The lease on an attempt being made, renewed every third of it while the request runs: a
       * deliverer killed mid-attempt has its attempt taken over this soon after the kill.
       */
      claimLeaseMs: v.TRIGGERS_DELIVERER_CLAIM_LEASE_MS,
    },
    /** `GET /api/v1/events/stream` (Server-Sent Events). */
    stream: {
      /** Open streams per customer on one inbox process; the next one is `429`. */
      maxPerCustomer: v.TRIGGERS_STREAM_MAX_PER_CUSTOMER,
      /** A `: ping` comment this often keeps proxies (the ALB: 60 s idle) from closing a quiet stream. */
      heartbeatMs: v.TRIGGERS_STREAM_HEARTBEAT_MS,
      /** How long a write may wait for the client to read before the client is cut off (`event: overflow`). */
      slowClientMs: v.TRIGGERS_STREAM_SLOW_CLIENT_MS,
    },
    matcher: {
      concurrency: v.TRIGGERS_MATCHER_CONCURRENCY,
      /** How fast a bulk replay enqueues events, per running job (so live traffic keeps its share). */
      replayEventsPerSecond: v.TRIGGERS_REPLAY_EVENTS_PER_SECOND,
    },
    /** The Subscription operator (services/controller, docs/operator.md). */
    controller: {
      /** Namespaces whose Subscriptions it watches; empty: all namespaces. */
      namespaces: v.TRIGGERS_CONTROLLER_NAMESPACES ?? [],
      /** Every Subscription is reconciled again this often (and its status refreshed from the store). */
      resyncMs: v.TRIGGERS_CONTROLLER_RESYNC_MS,
      lease: {
        name: v.TRIGGERS_CONTROLLER_LEASE_NAME,
        namespace: v.TRIGGERS_CONTROLLER_LEASE_NAMESPACE,
        durationMs: v.TRIGGERS_CONTROLLER_LEASE_DURATION_MS,
      },
      /** This replica's name in the Lease; the pod's hostname (its name) by default. */
      identity: v.TRIGGERS_CONTROLLER_IDENTITY ?? os.hostname(),
      /** A kubeconfig file; unset: the pod's service account (in-cluster). */
      kubeconfig: v.TRIGGERS_CONTROLLER_KUBECONFIG,
    },
    queue: {
      maxReceives: v.TRIGGERS_QUEUE_MAX_RECEIVES,
      /**
       * SQS: 30 s by default (issue 10), since a crashed consumer's messages come back only when it
       * runs out; the consumer extends it every half while work runs, so a long request keeps its
       * message. SQLite reclaims a dead receiver's messages by its heartbeat within seconds and Kafka
       * by its session timeout, so there the timeout only bounds a live but stuck handler: 60 s.
       */
      visibilityTimeoutMs: v.TRIGGERS_QUEUE_VISIBILITY_TIMEOUT_MS ?? (v.TRIGGERS_QUEUE === 'sqs' ? 30_000 : 60_000),
    },
    backends: {
      eventStore: v.TRIGGERS_EVENT_STORE,
      metadataStore: v.TRIGGERS_METADATA_STORE,
      queue: v.TRIGGERS_QUEUE,
      cache: v.TRIGGERS_CACHE,
      sqlite: { synchronous: v.TRIGGERS_SQLITE_SYNCHRONOUS },
      postgres: { url: v.TRIGGERS_POSTGRES_URL, poolMax: v.TRIGGERS_POSTGRES_POOL_MAX },
      redis: { url: v.TRIGGERS_REDIS_URL },
      aws: { region: v.TRIGGERS_AWS_REGION },
      dynamodb: {
        endpoint: v.TRIGGERS_DYNAMODB_ENDPOINT,
        table: v.TRIGGERS_DYNAMODB_TABLE,
        shards: v.TRIGGERS_DYNAMODB_SHARDS,
        ttlDays: v.TRIGGERS_EVENT_TTL_DAYS,
      },
      sqs: { endpoint: v.TRIGGERS_SQS_ENDPOINT, queuePrefix: v.TRIGGERS_SQS_QUEUE_PREFIX },
      kafka: {
        brokers: v.TRIGGERS_KAFKA_BROKERS?.split(',').map((b) => b.trim()).filter(Boolean),
        topicPrefix: v.TRIGGERS_KAFKA_TOPIC_PREFIX,
        /** A member killed without leaving loses its partitions this long after its last heartbeat (docs/crash-safety.md). */
        sessionTimeoutMs: v.TRIGGERS_KAFKA_SESSION_TIMEOUT_MS,
      },
    },
  };
}

/** Settings that only make sense together: a chosen backend needs its connection setting. */
function checkBackendSettings(v: Parsed): void {
  const needs: [boolean, keyof Parsed, string][] = [
    [v.TRIGGERS_EVENT_STORE === 'postgres' || v.TRIGGERS_METADATA_STORE === 'postgres', 'TRIGGERS_POSTGRES_URL', 'PostgreSQL is chosen'],
    [v.TRIGGERS_CACHE === 'redis', 'TRIGGERS_REDIS_URL', 'TRIGGERS_CACHE=redis'],
    [v.TRIGGERS_QUEUE === 'kafka', 'TRIGGERS_KAFKA_BROKERS', 'TRIGGERS_QUEUE=kafka'],
  ];
  for (const [chosen, variable, why] of needs) {
    if (chosen && v[variable] === undefined) throw new ConfigError(variable, `is required when ${why}`);
  }
  if (v.TRIGGERS_METADATA_STORE !== 'sqlite' && v.TRIGGERS_SECRET_KEY === undefined) {
    throw new ConfigError(
      'TRIGGERS_SECRET_KEY',
      `is required when TRIGGERS_METADATA_STORE=${v.TRIGGERS_METADATA_STORE}: it encrypts webhook signing secrets at rest and every process must share it ` +
        '(generate one with: openssl rand -base64 32; docs/operations.md)',
    );
  }
}

/**
 * Backend kinds that only make sense together. A SQLite store or the memory cache lives on one host
 * (the data folder, the process); PostgreSQL, DynamoDB, SQS, Kafka and Redis are shared.
 *   - Any shared store: the cache must be Redis, so idempotency keys and rate limits are the same
 *     for every process (the memory cache keeps them in this host's SQLite file and this process).
 *   - A shared queue (SQS, Kafka): ingest, matcher and deliverer may run on any host, so the event
 *     and metadata stores must be shared too.
 * Accepted: everything in the data folder (cache memory or redis); a SQLite queue (one host) with
 * any stores and Redis; SQS or Kafka with PostgreSQL or DynamoDB events, PostgreSQL metadata and
 * Redis. Everything else is refused here, naming the variables, instead of working differently per pod.
 */
function checkBackendCombination(v: Parsed): void {
  const { TRIGGERS_EVENT_STORE: events, TRIGGERS_METADATA_STORE: metadata, TRIGGERS_QUEUE: queue } = v;
  const shared = (
    [
      ['TRIGGERS_EVENT_STORE', events],
      ['TRIGGERS_METADATA_STORE', metadata],
      ['TRIGGERS_QUEUE', queue],
    ] as const
  ).filter(([, kind]) => kind !== 'sqlite');
  if (shared.length > 0 && v.TRIGGERS_CACHE === 'memory') {
    throw new ConfigError(
      'TRIGGERS_CACHE',
      `memory cannot be combined with ${shared.map(([name, kind]) => `${name}=${kind}`).join(', ')}: it keeps idempotency keys in this ` +
        "host's SQLite file and rate limits in this process, so a retried request that reaches another ingest would create a second " +
        'event and each process would allow the whole rate. Set TRIGGERS_CACHE=redis and TRIGGERS_REDIS_URL (shared by every process)',
    );
  }
  if (queue === 'sqlite') return;
  if (events === 'sqlite') {
    throw new ConfigError(
      'TRIGGERS_EVENT_STORE',
      `sqlite cannot be combined with TRIGGERS_QUEUE=${queue}: events would stay in this host's data folder while the queue hands them ` +
        'to matchers and deliverers on any host, which cannot read them. Set TRIGGERS_EVENT_STORE=postgres or dynamodb, or TRIGGERS_QUEUE=sqlite',
    );
  }
  if (metadata === 'sqlite') {
    throw new ConfigError(
      'TRIGGERS_METADATA_STORE',
      `sqlite cannot be combined with TRIGGERS_QUEUE=${queue}: customers, API keys and subscriptions would stay in this host's data folder ` +
        'while ingest, matcher and deliverer run on any host. Set TRIGGERS_METADATA_STORE=postgres (with TRIGGERS_POSTGRES_URL and TRIGGERS_SECRET_KEY), or TRIGGERS_QUEUE=sqlite',
    );
  }
}

/** Parses settings; throws ConfigError naming the first bad variable. */
export function loadConfig(env: Record<string, string | undefined>): Config {
  const parsed = parseVariables(env);
  checkBackendCombination(parsed);
  checkBackendSettings(parsed);
  return buildConfig(parsed);
}

/** The names of every setting, for documentation and the chart's values. */
export const SETTING_NAMES = Object.keys(VARIABLES);
