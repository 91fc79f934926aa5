import http from 'node:http';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import { collectDefaultMetrics, register } from 'prom-client';
import { loadConfig, ConfigError, type Config } from './config.ts';
import { TriggersError } from './errors.ts';
import { problemBody, PROBLEM_CONTENT_TYPE } from './http/problem.ts';
import { createLogger, type Logger } from './log.ts';
import { systemClock, type Clock } from './clock.ts';
import { createBackends, type BackendNeeds } from './backends.ts';
import { resolveAdminToken } from './admin-token.ts';
import type { ServiceContext } from './service-context.ts';
import { exportProcessQueueMetrics } from './telemetry/queue-metrics.ts';
import { startTracing } from './telemetry/tracing.ts';

let defaultMetricsStarted = false;

/** Builds the backends and the context every service's wiring receives. */
export async function createServiceContext(
  config: Config,
  options: {
    service: string;
    log?: Logger;
    clock?: Clock;
    needs?: BackendNeeds;
    /** Process metrics (CPU, memory, event loop); off in a worker thread, whose process the main thread reports. */
    processMetrics?: boolean;
  },
): Promise<ServiceContext & { adminTokenSource: string }> {
  const log = options.log ?? createLogger({ level: config.logLevel, service: options.service });
  // Once per process (or worker thread), and only when OTEL_* configures an exporter.
  if (await startTracing({ serviceName: `triggers-${options.service}` })) log.debug('Started OpenTelemetry tracing');
  const clock = options.clock ?? systemClock;
  if (!defaultMetricsStarted && options.processMetrics !== false) {
    collectDefaultMetrics({ register });
    defaultMetricsStarted = true;
  }
  const backends = await createBackends(config, { clock, log, needs: options.needs });
  if (options.processMetrics !== false && options.needs?.pipeline !== false) {
    // Queue depth and dead letters once per process (a worker thread's are the main thread's).
    const release = exportProcessQueueMetrics(backends.queue, { onError: (err) => log.debug({ err }, 'Failed to read queue depth for metrics') });
    const closeBackends = backends.close;
    backends.close = async () => {
      release();
      await closeBackends();
    };
  }
  const admin = resolveAdminToken({ configured: config.adminToken, embedded: backends.embedded, dataDir: config.dataDir });
  return { config, log, clock, backends, adminToken: admin.token, adminTokenSource: admin.source };
}

export interface HttpListener {
  port: number;
  url: string;
  /** An address this process can call itself on (loopback when listening on every interface). */
  selfUrl: string;
  close(): Promise<void>;
}

export async function listen(app: Express, config: Config): Promise<HttpListener> {
  const server = http.createServer({ keepAliveTimeout: 65_000 }, app);
  server.on('clientError', answerMalformedRequest);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const shownHost = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
  const selfHost = config.host === '0.0.0.0' ? '127.0.0.1' : config.host === '::' ? '[::1]' : config.host.includes(':') ? `[${config.host}]` : config.host;
  return {
    port,
    url: `http://${shownHost}:${port}`,
    selfUrl: `http://${selfHost}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/**
 * Node rejects a request it cannot parse (a control byte in a header, a bad request line) or whose
 * request line and headers exceed its limit (16 KiB) before Express sees it; answer it as RFC 9457
 * problem+json like every other error, not a bare 400 or 431.
 */
function answerMalformedRequest(error: NodeJS.ErrnoException, socket: import('node:stream').Duplex): void {
  if (!socket.writable || (error.code === 'ECONNRESET')) {
    socket.destroy();
    return;
  }
  const problem =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? new TriggersError('request_header_too_large', { detail: `The request line and headers are larger than the server's limit of ${http.maxHeaderSize} bytes.` })
      : new TriggersError('invalid_request', { detail: 'The request could not be parsed as HTTP.' });
  const body = JSON.stringify(problemBody(problem));
  socket.end(
    `HTTP/1.1 ${problem.status} ${http.STATUS_CODES[problem.status]}\r\n` +
      `Content-Type: ${PROBLEM_CONTENT_TYPE}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
      `X-Request-Id: ${randomUUID()}\r\nConnection: close\r\n\r\n${body}`,
  );
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
