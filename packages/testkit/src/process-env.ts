/**
 * Sets variables in process.env (for code that reads them there, like the OpenTelemetry SDK's
 * OTEL_* settings) and returns what restores them: each to its earlier value, or unset again.
 */
export function withEnv(values: Record<string, string>): () => void {
  const saved = Object.fromEntries(Object.keys(values).map((k) => [k, process.env[k]]));
  Object.assign(process.env, values);
  return () => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
}
