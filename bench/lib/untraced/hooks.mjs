/** The resolve hook of bench/lib/untraced-build.mjs (runs in the loader thread). */
const STUBBED = /\/packages\/core\/src\/telemetry\/(tracing|messaging|http-tracing)\.ts$/;

export async function resolve(specifier, context, nextResolve) {
  const resolved = await nextResolve(specifier, context);
  const match = STUBBED.exec(new URL(resolved.url).pathname);
  if (!match) return resolved;
  return { ...resolved, url: new URL(`./${match[1]}.ts`, import.meta.url).href, shortCircuit: true };
}
