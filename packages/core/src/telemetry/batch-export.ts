import { TraceFlags, diag, type Context } from '@opentelemetry/api';

/** What the processor hands finished spans to (the SDK's `SpanExporter`). */
export interface SpanBatchExporter<S> {
  export(spans: S[], done: (result: { code: number; error?: Error }) => void): void;
  shutdown(): Promise<void>;
}

/** `OTEL_BSP_*`, as the SDK's batch span processor reads them (unset or not > 0: the default). */
export interface BatchExportSettings {
  maxQueueSize: number;
  maxExportBatchSize: number;
  scheduledDelayMillis: number;
  exportTimeoutMillis: number;
}

type Env = Record<string, string | undefined>;

export function batchExportSettings(env: Env): BatchExportSettings {
  const positive = (name: string, fallback: number) => {
    const value = Number(env[name]?.trim() || NaN);
    return Number.isFinite(value) && value > 0 ? value : fallback;
  };
  const maxQueueSize = positive('OTEL_BSP_MAX_QUEUE_SIZE', 2048);
  return {
    maxQueueSize,
    maxExportBatchSize: Math.min(positive('OTEL_BSP_MAX_EXPORT_BATCH_SIZE', 512), maxQueueSize),
    scheduledDelayMillis: positive('OTEL_BSP_SCHEDULE_DELAY', 5000),
    exportTimeoutMillis: positive('OTEL_BSP_EXPORT_TIMEOUT', 30000),
  };
}

const SUCCESS = 0;

/**
 * The SDK's batch span processor, the same behaviour (`OTEL_BSP_*`: a queue of sampled finished
 * spans, exported in batches when one is full or after the schedule delay, one export at a time,
 * the excess dropped), less one thing: it does not run the export in `context.with(suppressTracing)`.
 * That call is AsyncLocalStorage.run, and on Node 20 the first one turns async hooks on for every
 * promise of the process for good (~0.4 µs each here): a traced ingest server paid it from its
 * first export on. Suppression only matters to auto-instrumentations, which we do not load
 * (`instrumentations: []`). Used with our default exporter; any other keeps the SDK's processor.
 */
export class BatchExportProcessor<S extends { spanContext(): { traceFlags: number } }> {
  private queue: S[] = [];
  private timer: NodeJS.Timeout | undefined;
  private exporting: Promise<void> | undefined;
  private dropped = 0;
  private stopped = false;

  constructor(
    private readonly exporter: SpanBatchExporter<S>,
    private readonly settings: BatchExportSettings,
  ) {}

  onStart(_span: S, _parent: Context): void {}

  onEnd(span: S): void {
    if (this.stopped || (span.spanContext().traceFlags & TraceFlags.SAMPLED) === 0) return;
    if (this.queue.length >= this.settings.maxQueueSize) {
      if (this.dropped++ === 0) diag.debug('maxQueueSize reached, dropping spans');
      return;
    }
    if (this.dropped > 0) {
      diag.warn(`Dropped ${this.dropped} spans because maxQueueSize reached`);
      this.dropped = 0;
    }
    this.queue.push(span);
    this.schedule();
  }

  /** Exports everything queued (waiting for an export in flight first). */
  async forceFlush(): Promise<void> {
    await this.exporting;
    this.clearTimer();
    while (this.queue.length > 0) await this.exportBatch();
  }

  async shutdown(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.forceFlush();
    await this.exporter.shutdown();
  }

  private schedule(): void {
    if (this.exporting) return;
    if (this.queue.length >= this.settings.maxExportBatchSize) {
      this.startExport();
      return;
    }
    if (this.timer) return;
    this.timer = setTimeout(() => this.startExport(), this.settings.scheduledDelayMillis);
    this.timer.unref();
  }

  private startExport(): void {
    this.clearTimer();
    this.exporting = this.exportBatch()
      .catch((error: unknown) => diag.error('Failed to export spans', error))
      .finally(() => {
        this.exporting = undefined;
        if (this.queue.length > 0) this.schedule();
      });
  }

  private exportBatch(): Promise<void> {
    const spans = this.queue.length <= this.settings.maxExportBatchSize ? this.queue : this.queue.splice(0, this.settings.maxExportBatchSize);
    if (spans === this.queue) this.queue = [];
    if (spans.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const timeout = setTimeout(() => reject(new Error('Timeout')), this.settings.exportTimeoutMillis);
      this.exporter.export(spans, (result) => {
        clearTimeout(timeout);
        if (result.code === SUCCESS) resolve();
        else reject(result.error ?? new Error('span export failed'));
      });
    });
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
