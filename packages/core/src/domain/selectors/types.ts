/** Event selectors as API.md defines them (the JSON a client sends). */
export type CustomOperator =
  | 'equals'
  | 'not_equals'
  | 'greater_than'
  | 'greater_than_or_equal'
  | 'less_than'
  | 'less_than_or_equal'
  | 'contains'
  | 'not_contains'
  | 'starts_with'
  | 'ends_with'
  | 'in'
  | 'not_in'
  | 'exists'
  | 'not_exists'
  | 'matches';

export type Selector =
  | { type: 'event_type'; value: string }
  | { type: 'jsonpath'; expression: string }
  | { type: 'custom'; function: { field: string; operator: CustomOperator; value?: unknown } }
  | { type: 'all'; selectors: Selector[] }
  | { type: 'any'; selectors: Selector[] };

/** A selector parsed and validated once at save time; `matches` never throws. */
export interface CompiledSelector {
  readonly source: Selector;
  matches(payload: Record<string, unknown>): boolean;
}

/** A compiled selector's test; it may throw, and `CompiledSelector.matches` turns that into false. */
export type PayloadPredicate = (payload: Record<string, unknown>) => boolean;
