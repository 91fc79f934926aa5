import type { Config } from './config.ts';
import type { Clock } from './clock.ts';
import type { Logger } from './log.ts';
import type { Backends } from './backends.ts';

/** What every service's wiring receives from its main (or from the all-in-one launcher). */
export interface ServiceContext {
  config: Config;
  log: Logger;
  clock: Clock;
  backends: Backends;
  /** The operator token; undefined disables the admin endpoints. */
  adminToken: string | undefined;
}
