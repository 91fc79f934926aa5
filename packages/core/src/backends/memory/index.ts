export { MemoryRateLimiter, createMemoryRateLimiter, type MemoryRateLimiterOptions } from './rate-limiter.ts';
