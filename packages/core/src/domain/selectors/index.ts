/**
 * Event selectors (API.md "Event selectors"): `compileSelector` validates a selector when a
 * subscription is saved and returns `matches(payload)`, which runs for every event and never
 * throws. Where to look: compile.ts (shape, all/any, limits), event-type-selector.ts,
 * custom-selector.ts + custom-operators.ts, jsonpath-selector.ts + jsonpath-expression/
 * (grammar in parse.ts, semantics in compile-condition.ts), limits.ts (every bound).
 */
export { compileSelector, selectorMatchesPayload } from './compile.ts';
export type { CompiledSelector, CustomOperator, PayloadPredicate, Selector } from './types.ts';
export * from './limits.ts';
