/** The label value for every origin past the limit. */
export const OTHER_ORIGIN = 'other';

/**
 * Bounds the `origin` label of the per-origin metrics: the first `limit` origins this process
 * attempts keep their own label (scheme, host and port: never a path, query or credentials), every
 * later one is counted as `other`. A label, once given, is kept, so series never flap; a process
 * restart re-admits the origins then busiest first.
 */
export class OriginLabels {
  private readonly admitted = new Set<string>();

  constructor(private readonly limit: number) {}

  /** `origin` is a URL origin (`https://hooks.example.com:8443`), as the breakers key it. */
  labelFor(origin: string): string {
    if (this.admitted.has(origin)) return origin;
    if (this.admitted.size >= this.limit) return OTHER_ORIGIN;
    this.admitted.add(origin);
    return origin;
  }
}
