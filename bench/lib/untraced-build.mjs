/**
 * `node --import ./bench/lib/untraced-build.mjs …`: the server as if built without tracing. A
 * resolve hook swaps core's telemetry modules (tracing.ts, messaging.ts, http-tracing.ts) for the
 * stubs in bench/lib/untraced/, whose helpers only call the work they are given. The
 * `ingest-traced` scenario compares this build with the normal one (tracing compiled in, SDK not
 * started) to measure what tracing costs while off.
 */
import { register } from 'node:module';

register('./untraced/hooks.mjs', import.meta.url);
