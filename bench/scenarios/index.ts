/** Every scenario by its `--scenarios` name, in the order a full run measures them. */
import type { BenchContext } from '../lib/context.ts';
import type { ServerRun } from '../lib/servers.ts';
import { runIngest } from './ingest.ts';
import { runIngestTraced } from './ingest-traced.ts';
import { runBatch } from './batch.ts';
import { runBare } from './bare.ts';
import { runInbox } from './inbox.ts';
import { runDeliveryLatency } from './delivery-latency.ts';
import { runDeliveryThroughput } from './delivery-throughput.ts';
import { runScaleOut } from './scale-out.ts';
import { runMemory } from './memory.ts';
import { runSteady } from './steady.ts';

export const SCENARIOS = {
  ingest: runIngest,
  'ingest-traced': runIngestTraced,
  batch: runBatch,
  bare: runBare,
  inbox: runInbox,
  'delivery-latency': runDeliveryLatency,
  'delivery-throughput': runDeliveryThroughput,
  'scale-out': runScaleOut,
  memory: runMemory,
  steady: runSteady,
} satisfies Record<string, (ctx: BenchContext) => Promise<ServerRun<unknown>>>;

export type ScenarioName = keyof typeof SCENARIOS;
export const ALL_SCENARIOS = Object.keys(SCENARIOS) as ScenarioName[];
