import type { DemoStore } from '../../ports/demo-store.ts';

/**
 * The demo's state in this process only: for deployments without the embedded SQLite file, where
 * each replica then keeps its own demo customer. Values are copied so callers never share objects.
 */
export class MemoryDemoStore implements DemoStore {
  private readonly values = new Map<string, string>();

  async get<T>(name: string): Promise<T | null> {
    const value = this.values.get(name);
    return value === undefined ? null : (JSON.parse(value) as T);
  }

  async setIfAbsent<T>(name: string, value: T): Promise<T> {
    if (!this.values.has(name)) this.values.set(name, JSON.stringify(value));
    return (await this.get<T>(name)) as T;
  }

  async set<T>(name: string, value: T): Promise<void> {
    this.values.set(name, JSON.stringify(value));
  }
}
