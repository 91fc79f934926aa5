/**
 * The faults the drill injects while the load runs, each recorded with when it began and when
 * the thing it broke was back:
 *
 * - `kill`: every 5–10 s (uniformly random) one service process, picked at random among those
 *   running, gets SIGKILL and is started again on the same port; back = it answers `/health`.
 *   A start that fails (the process exits, e.g. because PostgreSQL is down at that moment) is
 *   tried again after `RESTART_BACKOFF_MS`, as Kubernetes restarts a crashed container, until
 *   `restartGiveUpMs` has passed; the fault records how many starts it took.
 * - `engine-restart`: once, the drill's own engine instance (never a shared one) is stopped and
 *   started again; back = the engine's start script saw it answer.
 * - `network-cut`: once, a TCP proxy in front of a receiver (or an engine) is cut for a while and
 *   restored.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { ServiceProcesses, TcpProxy } from '@triggers/testkit';

export type FaultKind = 'kill' | 'engine-restart' | 'network-cut';

export interface Fault {
  kind: FaultKind;
  /** `deliverer`, `postgres`, `steady receiver`, ... */
  target: string;
  startedAt: number;
  /** When the target was back (healthy, answering, reachable); undefined if it never came back. */
  backAt?: number;
  /** Starts it took to get a killed service answering /health again (1 = the first). */
  starts?: number;
  error?: string;
}

/** Pause between two failed starts of a killed service (Kubernetes begins its back-off at 10 s; the drill is shorter). */
export const RESTART_BACKOFF_MS = 1000;

export interface FaultPlanOptions {
  services: ServiceProcesses;
  durationMs: number;
  /** Range of the pause between two kills. */
  killEveryMs: readonly [number, number];
  /** The drill's own engine, restarted once at `engineRestartAt` (a share of the duration). */
  engine?: { name: string; stop(): Promise<void>; start(): Promise<void>; downMs: number };
  engineRestartAt?: number;
  /** Proxies cut once each, at their `at` (a share of the duration), for `forMs`. */
  cuts: readonly { name: string; proxy: TcpProxy; at: number; forMs: number }[];
  /** How long a killed service may take to start again, failed starts included. Default 120 s. */
  restartGiveUpMs?: number;
  /** Called for every fault as it begins and ends (progress lines). */
  onFault?: (fault: Fault, phase: 'begin' | 'end') => void;
}

export interface FaultRun {
  faults: Fault[];
  /** Stops injecting, waits for faults in progress to end (restarts finished, cuts restored). */
  stop(): Promise<void>;
}

const between = (low: number, high: number) => low + Math.random() * (high - low);

export function startFaults(options: FaultPlanOptions): FaultRun {
  const faults: Fault[] = [];
  const started = Date.now();
  const stopped = new AbortController();
  const pause = (ms: number) => sleep(ms, undefined, { signal: stopped.signal }).then(() => true, () => false);

  const track = async (kind: FaultKind, target: string, act: (fault: Fault) => Promise<void>) => {
    const fault: Fault = { kind, target, startedAt: Date.now() };
    faults.push(fault);
    options.onFault?.(fault, 'begin');
    try {
      await act(fault);
      fault.backAt = Date.now();
    } catch (error) {
      fault.error = (error as Error).message.split('\n')[0];
    }
    options.onFault?.(fault, 'end');
  };

  // A kill does not wait for the previous restart: the cadence holds even when a process takes
  // long to start, and two processes may be down at once (never the same one twice).
  const restarts = new Map<string, Promise<void>>();
  const kills = (async () => {
    const names = options.services.all.map((p) => p.name);
    for (;;) {
      if (!(await pause(between(...options.killEveryMs)))) break;
      if (Date.now() - started >= options.durationMs) break;
      const up = names.filter((name) => !restarts.has(name));
      if (up.length === 0) continue;
      const name = up[Math.floor(Math.random() * up.length)];
      const restart = track('kill', name, async (fault) => {
        const giveUpAt = Date.now() + (options.restartGiveUpMs ?? 120_000);
        for (fault.starts = 1; ; fault.starts++) {
          try {
            // The first call kills; a later one finds the failed start already gone and starts anew.
            await options.services.restart(name, { signal: 'SIGKILL' });
            return;
          } catch (error) {
            if (Date.now() + RESTART_BACKOFF_MS >= giveUpAt) throw error;
            await sleep(RESTART_BACKOFF_MS);
          }
        }
      }).finally(() => restarts.delete(name));
      restarts.set(name, restart);
    }
    await Promise.all(restarts.values());
  })();

  const engineRestart = (async () => {
    const engine = options.engine;
    if (!engine) return;
    if (!(await pause(options.durationMs * (options.engineRestartAt ?? 0.35)))) return;
    await track('engine-restart', engine.name, async () => {
      await engine.stop();
      await sleep(engine.downMs);
      await engine.start();
    });
  })();

  const cuts = options.cuts.map(async (cut) => {
    if (!(await pause(options.durationMs * cut.at))) return;
    await track('network-cut', cut.name, async () => {
      await cut.proxy.cut();
      await sleep(cut.forMs);
      await cut.proxy.restore();
    });
  });

  return {
    faults,
    async stop() {
      stopped.abort();
      await Promise.all([kills, engineRestart, ...cuts]);
    },
  };
}
