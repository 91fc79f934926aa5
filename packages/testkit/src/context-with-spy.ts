import { context } from '@opentelemetry/api';

/**
 * Counts calls of the global context manager's `with` (AsyncLocalStorage.run under the SDK) while
 * `work` runs: a path meant to pass its spans on explicitly must make none (on Node 20 the first
 * one turns async hooks on for every promise of the process).
 */
export async function countContextWithCalls(work: () => Promise<void>): Promise<number> {
  const manager = (context as unknown as { _getContextManager(): { with: (...args: unknown[]) => unknown } })._getContextManager();
  const original = manager.with;
  let calls = 0;
  manager.with = function (this: unknown, ...args: unknown[]) {
    calls++;
    return original.apply(this, args);
  };
  try {
    await work();
  } finally {
    manager.with = original;
  }
  return calls;
}
