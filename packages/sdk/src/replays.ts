import type { Replay, ReplayCreateBody } from './api.gen.ts';
import { sleep } from './retry.ts';
import { newIdempotencyKey, type RequestOptions, type Transport } from './transport.ts';

export interface ReplayCreateOptions extends RequestOptions {
  /**
   * 1–255 printable ASCII characters: the same key with the same filter answers with the first job
   * and creates nothing. One is generated per call when absent, so the SDK's own retries never
   * start a second job; pass your own to make your retries safe across processes.
   */
  idempotencyKey?: string;
}

export interface ReplayWaitOptions extends RequestOptions {
  /** How often the job is read (default 1000 ms). */
  intervalMs?: number;
  /** Called with each read of the job, the last one included. */
  onProgress?: (replay: Replay) => void;
}

/** Bulk replay: `/api/v1/replays`. */
export class ReplaysResource {
  constructor(private readonly transport: Transport) {}

  /**
   * `POST /api/v1/replays`: a durable job that matches every event the filter selects again and
   * delivers it to what matches now (202, `status: "running"`). Follow it with `get` or `wait`.
   */
  create(body: ReplayCreateBody, options: ReplayCreateOptions = {}): Promise<Replay> {
    const key = options.idempotencyKey ?? newIdempotencyKey();
    return this.transport.request({ method: 'POST', path: '/api/v1/replays', body, headers: { 'idempotency-key': key }, idempotent: true }, options);
  }

  /** `GET /api/v1/replays/{id}`: the job's status and counts (matched, enqueued, delivered, failed). */
  get(replayId: string, options: RequestOptions = {}): Promise<Replay> {
    return this.transport.request({ method: 'GET', path: `/api/v1/replays/${encodeURIComponent(replayId)}`, idempotent: true }, options);
  }

  /** `DELETE /api/v1/replays/{id}`: stops a running job at its next page (what it enqueued is still delivered); a finished one is left as it is. */
  cancel(replayId: string, options: RequestOptions = {}): Promise<void> {
    return this.transport.request({ method: 'DELETE', path: `/api/v1/replays/${encodeURIComponent(replayId)}`, idempotent: true }, options);
  }

  /**
   * Reads the job every `intervalMs` until it is no longer `running`, and returns it. Its
   * deliveries may still be ending then: `delivered + failed` keeps growing for a while.
   */
  async wait(replayId: string, options: ReplayWaitOptions = {}): Promise<Replay> {
    const { intervalMs = 1000, onProgress, ...requestOptions } = options;
    for (;;) {
      const replay = await this.get(replayId, requestOptions);
      onProgress?.(replay);
      if (replay.status !== 'running') return replay;
      await sleep(intervalMs, options.signal);
    }
  }
}
