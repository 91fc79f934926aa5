/**
 * Bounds that keep matching cheap and predictable: `matches` runs for every event × subscription,
 * so every selector is checked against these when it is saved, never when an event arrives.
 */

/** Longest `event_type` value, the same bound the ingest API puts on an event type. */
export const MAX_EVENT_TYPE_LENGTH = 255;

/** How deeply `all`/`any` may nest (the outermost combinator is level 1). */
export const MAX_COMBINATOR_DEPTH = 16;

/** Selector objects in one selector tree, counting combinators and leaves. */
export const MAX_SELECTOR_NODES = 256;

/** Characters in one `jsonpath` expression. */
export const MAX_EXPRESSION_LENGTH = 4096;

/** JSONPath queries (`$...`) in one `jsonpath` expression. */
export const MAX_QUERIES_PER_EXPRESSION = 64;

/** Nested parentheses in one `jsonpath` expression. */
export const MAX_PARENTHESIS_DEPTH = 32;

/**
 * A comparison whose query selects more nodes than this is false (so its `!=` is true): it bounds
 * the work of one comparison whatever the payload holds. (The node list itself is bounded by the
 * payload's size: see compileLibraryQuery.) A bare query (exists) has no such cap.
 */
export const MAX_NODES_PER_QUERY = 10_000;

/**
 * Comparing two queries compares every pair of their nodes; beyond this many pairs the comparison
 * is false, for the same reason as MAX_NODES_PER_QUERY.
 */
export const MAX_COMPARED_PAIRS = 100_000;

/**
 * `..` segments in one query, counting those in its filters. One `..` visits each payload node
 * once; two nested ones visit each node once per ancestor, which is quadratic in a deep payload.
 */
export const MAX_DESCENDANT_SEGMENTS_PER_QUERY = 1;

/**
 * Product of the selector counts of every `[a, b, ...]` in one query. A selection with k selectors
 * can select a node k times, and the factors multiply along the query (`$[*,*][*,*]...` doubles
 * the work at each step), so the product bounds how often one payload node is visited.
 */
export const MAX_QUERY_FANOUT = 16;

/** Characters in a `matches` pattern. */
export const MAX_PATTERN_LENGTH = 1024;

/** Characters in a custom selector's `field`. */
export const MAX_FIELD_LENGTH = 1024;

/** Nesting of the arrays and objects in a custom selector's `value`. */
export const MAX_VALUE_DEPTH = 32;
