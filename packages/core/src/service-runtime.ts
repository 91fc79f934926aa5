import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import { collectDefaultMetrics, register } from 'prom-client';
import { loadConfig, ConfigError, type Config } from './config.ts';
import { createLogger, type Logger } from './log.ts';
import { systemClock, type Clock } from './clock.ts';
import { createBackends } from './backends.ts';
import { resolveAdminToken } from './admin-token.ts';
import type { ServiceContext } from './service-context.ts';

let defaultMetricsStarted = false;

/** Builds the backends and the context every service's wiring receives. */
export async function createServiceContext(
  config: Config,
  options: { service: string; log?: Logger; clock?: Clock },
): Promise<ServiceContext & { adminTokenSource: string }> {
  const log = options.log ?? createLogger({ level: config.logLevel, service: options.service });
  const clock = options.clock ?? systemClock;
  if (!defaultMetricsStarted) {
    collectDefaultMetrics({ register });
    defaultMetricsStarted = true;
  }
  const backends = await createBackends(config, { clock, log });
  const admin = resolveAdminToken({ configured: config.adminToken, embedded: backends.embedded, dataDir: config.dataDir });
  return { config, log, clock, backends, adminToken: admin.token, adminTokenSource: admin.source };
}

export interface HttpListener {
  port: number;
  url: string;
  close(): Promise<void>;
}

export async function listen(app: Express, config: Config): Promise<HttpListener> {
  const server = http.createServer({ keepAliveTimeout: 65_000 }, app);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const shownHost = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
  return {
    port,
    url: `http://${shownHost}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Reads settings for a process's main; a bad setting exits with a message naming the variable. */
export function loadConfigOrExit(env: Record<string, string | undefined>): Config {
  try {
    return loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
}

/** Stops cleanly on SIGINT/SIGTERM. */
export function onShutdown(log: Logger, stop: () => Promise<void>): void {
  let stopping = false;
  const handler = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'Stopping');
    stop()
      .catch((error) => log.error({ err: error }, 'Failed to stop cleanly'))
      .finally(() => process.exit(0));
  };
  process.on('SIGINT', () => handler('SIGINT'));
  process.on('SIGTERM', () => handler('SIGTERM'));
}
