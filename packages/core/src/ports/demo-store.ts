/**
 * The demo back end's own small state (its customer and API key, its webhook sink): JSON values
 * under names. Server-side only: nothing in it is ever sent to a browser.
 *
 * Semantics: `setIfAbsent` is atomic across processes sharing the store: when two replicas race,
 * both get the first value written. Backend failures throw `DependencyError`.
 */
export interface DemoStore {
  get<T>(name: string): Promise<T | null>;
  /** Stores `value` unless `name` is set already; returns what is stored now. */
  setIfAbsent<T>(name: string, value: T): Promise<T>;
  set<T>(name: string, value: T): Promise<void>;
}
