import { pino, type Logger } from 'pino';

export type { Logger };

/** JSON logs on stdout. Never log payloads, secrets or API keys. */
export function createLogger(options: { level: string; service: string }): Logger {
  return pino({
    level: options.level,
    base: { service: options.service },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  });
}
