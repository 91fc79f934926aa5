export * from './exact-number.ts';
export * from './json-text.ts';
export * from './locate-payloads.ts';
export * from './parse-exactly.ts';
