import { coerceError } from '@triggers/core/domain';
import { backoffDelay, type Scheduler } from '../scheduler.ts';
import { KubeError, isGone, type WatchEvent, type WatchStream } from './kube-client.ts';

/**
 * A list + watch loop that keeps a cache of one resource and reports changes (client-go's
 * reflector and informer, small):
 * - lists, then watches from the list's resourceVersion with bookmarks, so the resourceVersion it
 *   resumes from stays recent even when nothing changes;
 * - when the server answers 410 Gone (the resourceVersion is too old, e.g. after etcd compaction
 *   or an API server restart) it lists again, and reports objects that disappeared meanwhile as
 *   deleted, so no change is lost;
 * - on any other failure (connection refused, 5xx, a cut stream) it retries with exponential
 *   backoff, resuming from the last resourceVersion it saw;
 * - a watch the server ends normally (its timeout) is resumed at once.
 * Handlers only get objects; what to do with them (enqueue a key) is the caller's.
 */

export interface KubeObject {
  metadata?: { name?: string; namespace?: string; resourceVersion?: string; uid?: string };
}

export interface ListResult<T> {
  items: T[];
  resourceVersion: string;
}

/** Where the informer gets its data: the Kubernetes API, or a scripted fake in the unit tests. */
export interface ListWatchSource<T> {
  list(): Promise<ListResult<T>>;
  watch(resourceVersion: string, onEvent: (event: WatchEvent<T>) => void): WatchStream;
}

export type InformerEvent = 'add' | 'update' | 'delete';

export interface InformerOptions<T> {
  source: ListWatchSource<T>;
  scheduler: Scheduler;
  onChange: (event: InformerEvent, object: T) => void;
  /** Each failed list or watch (before the backoff delay). */
  onError?: (error: Error, delayMs: number) => void;
  /** Each (re)list, with why. */
  onList?: (why: 'start' | 'gone') => void;
  /** Default 200 ms. */
  baseDelayMs?: number;
  /** Default 30 s. */
  maxDelayMs?: number;
}

export const objectKey = (object: KubeObject): string => {
  const { namespace, name } = object.metadata ?? {};
  return namespace ? `${namespace}/${name}` : (name ?? '');
};

/** The watch ended with a 410 ERROR event: list again. */
class ResourceVersionGone extends KubeError {
  constructor(message: string) {
    super(410, message, 'Expired');
  }
}

export class Informer<T extends KubeObject> {
  private readonly cache = new Map<string, T>();
  private resourceVersion = '';
  private synced = false;
  private stopped = false;
  private current: WatchStream | undefined;
  private readonly stopSignal = new AbortController();
  private loop: Promise<void> | undefined;
  private failures = 0;

  constructor(private readonly options: InformerOptions<T>) {}

  /** True once the first list has been applied. */
  get hasSynced(): boolean {
    return this.synced;
  }

  get lastResourceVersion(): string {
    return this.resourceVersion;
  }

  get(key: string): T | undefined {
    return this.cache.get(key);
  }

  list(): T[] {
    return [...this.cache.values()];
  }

  keys(): string[] {
    return [...this.cache.keys()];
  }

  start(): void {
    this.loop ??= this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.stopSignal.abort();
    this.current?.abort();
    await this.loop;
  }

  private async run(): Promise<void> {
    const { scheduler } = this.options;
    while (!this.stopped) {
      try {
        if (!this.resourceVersion) {
          this.options.onList?.(this.synced ? 'gone' : 'start');
          const listed = await this.options.source.list();
          if (this.stopped) return;
          this.replace(listed.items);
          this.resourceVersion = listed.resourceVersion;
          this.synced = true;
        }
        const started = scheduler.now();
        const sawEvents = await this.watchOnce();
        // A watch the server ends at once with nothing in it is treated as a failure, so a
        // misbehaving server or proxy cannot make this loop spin.
        if (!sawEvents && scheduler.now() - started < 1000) throw new KubeError(0, 'the watch ended at once without events');
        this.failures = 0;
      } catch (thrown) {
        if (this.stopped) return;
        if (isGone(thrown)) {
          // Too old to resume from: start over from a fresh list (no backoff: the server is fine).
          this.resourceVersion = '';
          continue;
        }
        this.failures++;
        const delay = backoffDelay(this.failures, { baseMs: this.options.baseDelayMs ?? 200, maxMs: this.options.maxDelayMs ?? 30_000, jitter: 0.2 });
        this.options.onError?.(coerceError(thrown), delay);
        await scheduler.sleep(delay, this.stopSignal.signal);
      }
    }
  }

  /** One watch until it ends; resolves with whether any event (bookmarks included) arrived. */
  private async watchOnce(): Promise<boolean> {
    let gone: ResourceVersionGone | undefined;
    let failure: Error | undefined;
    let sawEvents = false;
    const stream = this.options.source.watch(this.resourceVersion, (event) => {
      if (gone || failure || this.stopped) return;
      sawEvents = true;
      // The watch works: a later failure starts its backoff from the base delay again.
      this.failures = 0;
      try {
        this.apply(event);
      } catch (error) {
        if (error instanceof ResourceVersionGone) gone = error;
        else failure = coerceError(error);
        stream.abort();
      }
    });
    this.current = stream;
    try {
      await stream.done;
    } finally {
      this.current = undefined;
    }
    if (gone) throw gone;
    if (failure) throw failure;
    return sawEvents;
  }

  private apply(event: WatchEvent<T>): void {
    const object = event.object;
    if (event.type === 'ERROR') {
      const status = object as unknown as { code?: number; message?: string; reason?: string };
      if (status.code === 410) throw new ResourceVersionGone(status.message ?? 'resource version too old');
      throw new KubeError(status.code ?? 500, `watch error: ${status.message ?? 'unknown'}`, status.reason);
    }
    const resourceVersion = object.metadata?.resourceVersion;
    if (event.type === 'BOOKMARK') {
      if (resourceVersion) this.resourceVersion = resourceVersion;
      return;
    }
    const key = objectKey(object);
    if (event.type === 'DELETED') {
      const known = this.cache.get(key);
      this.cache.delete(key);
      if (resourceVersion) this.resourceVersion = resourceVersion;
      this.options.onChange('delete', known ?? object);
      return;
    }
    const existed = this.cache.has(key);
    this.cache.set(key, object);
    if (resourceVersion) this.resourceVersion = resourceVersion;
    this.options.onChange(existed ? 'update' : 'add', object);
  }

  /** Applies a full list: new and changed objects are reported, and those missing from it as deleted. */
  private replace(items: T[]): void {
    const seen = new Set<string>();
    for (const item of items) {
      const key = objectKey(item);
      seen.add(key);
      const previous = this.cache.get(key);
      this.cache.set(key, item);
      if (!previous) this.options.onChange('add', item);
      else if (previous.metadata?.resourceVersion !== item.metadata?.resourceVersion) this.options.onChange('update', item);
    }
    for (const [key, object] of [...this.cache]) {
      if (seen.has(key)) continue;
      this.cache.delete(key);
      this.options.onChange('delete', object);
    }
  }
}

// Metadata only (no `data`): what watching Secrets needs, without holding every Secret's value in memory.
const METADATA_ONLY_LIST = 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json';
const METADATA_ONLY_OBJECT = 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json';

/** A source over the Kubernetes API: `collectionPath` e.g. `/apis/triggers.dev/v1alpha1/subscriptions`. */
export function apiListWatchSource<T>(
  client: import('./kube-client.ts').KubeClient,
  collectionPath: string,
  options: { metadataOnly?: boolean; watchTimeoutSeconds?: () => number } = {},
): ListWatchSource<T> {
  return {
    async list() {
      const accept = options.metadataOnly ? METADATA_ONLY_LIST : undefined;
      const result = await client.request<{ items: T[]; metadata: { resourceVersion: string } }>('GET', collectionPath, { accept });
      return { items: result.items ?? [], resourceVersion: result.metadata.resourceVersion };
    },
    watch(resourceVersion, onEvent) {
      // The server ends each watch after this long (5–10 min, spread like client-go's) and the loop resumes it.
      const timeoutSeconds = options.watchTimeoutSeconds?.() ?? 300 + Math.floor(Math.random() * 300);
      const accept = options.metadataOnly ? METADATA_ONLY_OBJECT : undefined;
      return client.watch<T>(collectionPath, { resourceVersion, allowWatchBookmarks: true, timeoutSeconds }, onEvent, { accept, maxDurationMs: (timeoutSeconds + 30) * 1000 });
    },
  };
}
