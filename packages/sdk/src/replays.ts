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
  /**
   * `'ended'` (default): until the job is no longer `running` (its deliveries may still be going
   * out). `'settled'`: until every webhook it caused has ended too (`settled: true`; retries can
   * make that hours later).
   */
  until?: 'ended' | 'settled';
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

  /** `GET /api/v1/replays/{id}`: the job's status, counts (matched, enqueued, processed, unmatched, deliveries, delivered, failed) and whether it has `settled`. */
  get(replayId: string, options: RequestOptions = {}): Promise<Replay> {
    return this.transport.request({ method: 'GET', path: `/api/v1/replays/${encodeURIComponent(replayId)}`, idempotent: true }, options);
  }

  /** `DELETE /api/v1/replays/{id}`: stops a running job at its next page (what it enqueued is still delivered); a finished one is left as it is. */
  cancel(replayId: string, options: RequestOptions = {}): Promise<void> {
    return this.transport.request({ method: 'DELETE', path: `/api/v1/replays/${encodeURIComponent(replayId)}`, idempotent: true }, options);
  }

  /**
   * Reads the job every `intervalMs` until it is no longer `running` (or, with `until: 'settled'`,
   * until it has settled), and returns it. Without `'settled'` its deliveries may still be ending:
   * `delivered + failed` keeps growing until it reaches `deliveries`.
   */
  async wait(replayId: string, options: ReplayWaitOptions = {}): Promise<Replay> {
    const { intervalMs = 1000, onProgress, until = 'ended', ...requestOptions } = options;
    for (;;) {
      const replay = await this.get(replayId, requestOptions);
      onProgress?.(replay);
      if (until === 'settled' ? replay.settled : replay.status !== 'running') return replay;
      await sleep(intervalMs, options.signal);
    }
  }
}
