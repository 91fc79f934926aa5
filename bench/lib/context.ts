/**
 * What every scenario is given: the parsed flags, the engines (with --backends), cancellation, and
 * the log. Built once by bench/run.ts.
 */
import type { EngineAddresses } from '@triggers/testkit';
import type { BackendPreset } from './backends.ts';

export const ADMIN_TOKEN = 'bench-admin-token-0123456789abcdef';
/** The most events one batch request may carry. */
export const MAX_BATCH = 500;

/** The flags, parsed and checked (written to the results JSON as they are). */
export interface BenchSettings {
  durationS: number;
  warmupS: number;
  connections: number;
  scenarios: string[];
  batchSize: number;
  inboxEvents: number;
  inboxRequests: number;
  inboxPages: number;
  inboxSettleS: number;
  inboxSeedTimeoutS: number;
  deliveryRate: number;
  deliverySettleS: number;
  deliveryMaxEvents: number;
  deliveryPreloadS: number;
  deliveryBatch: number;
  memoryEvents: number;
  memoryBurstS: number;
  memoryBurstRate: number;
  memorySoakS: number;
  memorySoakRate: number;
  deliveryConnections: number | undefined;
  steadyRate: number;
  steadyDurationS: number;
  steadyHistory: number;
  /** ingest-traced (--trace-cycles 0 or --trace-rate): rounds of its three fresh servers, one after another. */
  traceRounds: number;
  /** ingest-traced: cycles of interleaved slices over its three servers side by side (0: rounds instead). */
  traceCycles: number;
  /** ingest-traced: seconds of one interleaved slice, and of each server's warm-up before the cycles. */
  traceSliceS: number;
  traceWarmupS: number;
  /** ingest-traced: offer this many events/s open loop instead of saturating (0: closed loop, the target's figure). */
  traceRate: number;
  backends: string;
  url: string | undefined;
  cpuProf: boolean;
  /** Closed-loop scenarios' client: the in-process undici Pool, or Debian's wrk (bench/lib/wrk.ts). */
  loadGenerator: 'undici' | 'wrk';
  wrkThreads: number;
  /** --pin: taskset CPU lists for the servers under test and for everything else (this process, wrk, the receiver). */
  pin: { server: string; load: string } | undefined;
  serverEnv: Record<string, string>;
  keepData: boolean;
  echo: boolean;
}

export interface BenchContext {
  /** The repository's root. */
  root: string;
  resultsDir: string;
  settings: BenchSettings;
  preset: BackendPreset;
  /** For --url: the running server's; otherwise ADMIN_TOKEN, given to the servers the bench starts. */
  adminToken: string | undefined;
  /** Aborted on SIGINT/SIGTERM/SIGHUP: the loads stop at their next request. */
  signal: AbortSignal;
  /** Throws once the run was interrupted. */
  checkAborted(): void;
  /** Progress lines, to stderr (the tables go to stdout). */
  log(line: string): void;
  /** Temporary data folders still to remove (also on a forced exit). */
  tempDirs: Set<string>;
  /** Engine addresses, resolved (and checked) once when --backends names engines. */
  engineAddresses?: EngineAddresses;
  /** CPU seconds used so far by the engines' processes (and their children), when --backends names engines. */
  engineCpu?: () => number | undefined;
  /** The same per engine (postgres, redis, kafka, dynamodb, sqs), for the delivery scenarios' breakdown. */
  engineCpuByName: Record<string, () => number | undefined>;
}
