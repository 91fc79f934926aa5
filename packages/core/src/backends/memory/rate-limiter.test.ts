import { rateLimiterConformance } from '@triggers/testkit';
import { createMemoryRateLimiter } from './rate-limiter.ts';

describe('In-memory rate limiter', function () {
  rateLimiterConformance(async (clock) => createMemoryRateLimiter({ clock }), { injectableClock: true });
});
