import { pino, type Logger } from 'pino';
import { traceLogFields } from './telemetry/tracing.ts';

export type { Logger };

/** JSON logs on stdout. Never log payloads, secrets or API keys. */
export function createLogger(options: { level: string; service: string; destination?: pino.DestinationStream }): Logger {
  const settings: pino.LoggerOptions = {
    level: options.level,
    base: { service: options.service },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    // A line written inside a span carries its trace_id and span_id (nothing when tracing is off).
    mixin: traceLogFields,
  };
  return options.destination ? pino(settings, options.destination) : pino(settings);
}
