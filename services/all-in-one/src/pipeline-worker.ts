import { Worker } from 'node:worker_threads';
import type { Config, Logger } from '@triggers/core/runtime';

export type PipelineRequest = { kind: 'metrics'; id: number } | { kind: 'stop' };
export type PipelineReply = { kind: 'started' } | { kind: 'stopped' } | { kind: 'metrics'; id: number; text: string };

export interface PipelineWorker {
  /** The worker's Prometheus text (matcher and deliverer metrics). */
  metrics(): Promise<string>;
  stop(): Promise<void>;
}

/** Starts the matcher and deliverer in a worker thread (see pipeline-thread.ts). */
export async function startPipelineWorker(config: Config, log: Logger): Promise<PipelineWorker> {
  const worker = new Worker(new URL('./pipeline-thread-entry.mjs', import.meta.url), { workerData: { config } });
  const pending = new Map<number, (text: string) => void>();
  let nextId = 0;
  let stopped: (() => void) | undefined;

  await new Promise<void>((resolve, reject) => {
    worker.once('error', reject);
    worker.on('message', function onStart(reply: PipelineReply) {
      if (reply.kind === 'started') {
        worker.off('message', onStart);
        worker.off('error', reject);
        resolve();
      }
    });
  });
  worker.on('message', (reply: PipelineReply) => {
    if (reply.kind === 'metrics') pending.get(reply.id)?.(reply.text);
    if (reply.kind === 'stopped') stopped?.();
  });
  worker.on('error', (error) => log.error({ err: error }, 'The pipeline worker thread failed'));
  worker.on('exit', (code) => {
    for (const resolve of pending.values()) resolve('');
    pending.clear();
    if (code !== 0 && !stopped) log.error({ code }, 'The pipeline worker thread exited');
  });

  return {
    metrics: () =>
      new Promise<string>((resolve) => {
        const id = nextId++;
        pending.set(id, (text) => {
          pending.delete(id);
          resolve(text);
        });
        worker.postMessage({ kind: 'metrics', id } satisfies PipelineRequest);
      }),
    stop: async () => {
      const done = new Promise<void>((resolve) => (stopped = resolve));
      worker.postMessage({ kind: 'stop' } satisfies PipelineRequest);
      await Promise.race([done, new Promise((resolve) => setTimeout(resolve, 10_000))]);
      await worker.terminate();
    },
  };
}
