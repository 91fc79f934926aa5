/** The label value for every origin without a label of its own. */
export const OTHER_ORIGIN = 'other';

export interface OriginLabelOptions {
  /** Each window ends by handing the labels to the window's busiest origins. Default 10 minutes. */
  windowMs?: number;
  /** Origins counted per window at most (the rest count as unseen); default 10 × the limit. */
  maxTracked?: number;
  now?: () => number;
  /** Told when an origin loses its label, so its series can be removed (they would only go stale). */
  onDemote?: (origin: string) => void;
}

/**
 * Bounds the `origin` label of the per-origin metrics to the busiest `limit` origins: origins
 * take free labels as they come; at the end of every window the labels go to that window's
 * `limit` busiest origins by attempts (a label kept while its origin stays among them), and every
 * other origin is counted as `other`. Values are URL origins (scheme, host and port): never a
 * path, query or credentials. At most `limit + 1` values exist at any time.
 */
export class OriginLabels {
  private readonly labelled = new Set<string>();
  private readonly counts = new Map<string, number>();
  private readonly windowMs: number;
  private readonly maxTracked: number;
  private readonly now: () => number;
  private windowStart: number;

  constructor(
    private readonly limit: number,
    private readonly options: OriginLabelOptions = {},
  ) {
    this.windowMs = options.windowMs ?? 10 * 60_000;
    this.maxTracked = options.maxTracked ?? limit * 10;
    this.now = options.now ?? Date.now;
    this.windowStart = this.now();
  }

  /** Counts one attempt to `origin` (as the breakers key it) and returns its label. */
  labelFor(origin: string): string {
    this.rollWindow();
    const count = this.counts.get(origin);
    if (count !== undefined || this.counts.size < this.maxTracked) this.counts.set(origin, (count ?? 0) + 1);
    if (this.labelled.has(origin)) return origin;
    if (this.labelled.size < this.limit) {
      this.labelled.add(origin);
      return origin;
    }
    return OTHER_ORIGIN;
  }

  private rollWindow(): void {
    const now = this.now();
    if (now - this.windowStart < this.windowMs) return;
    const busiest = new Set(
      [...this.counts]
        .sort((a, b) => b[1] - a[1])
        .slice(0, this.limit)
        .map(([origin]) => origin),
    );
    for (const origin of this.labelled) {
      if (busiest.has(origin)) continue;
      this.labelled.delete(origin);
      this.options.onDemote?.(origin);
    }
    for (const origin of busiest) if (this.labelled.size < this.limit) this.labelled.add(origin);
    this.counts.clear();
    this.windowStart = now;
  }
}
