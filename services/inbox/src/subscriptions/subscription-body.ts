import type { z } from 'zod';
import { TriggersError, compileSelector, type Selector } from '@triggers/core/domain';
import { zodIssuesDetail } from '@triggers/core/http';

/** The body with `event_selector` (where present) replaced by the compiler's checked selector. */
export type CompiledBody<T> = { [K in keyof T]: K extends 'event_selector' ? Selector | Extract<T[K], undefined> : T[K] };

/**
 * Validates a subscription body. The selector goes to the selector compiler first, so that a bad
 * one is `invalid_selector` with the compiler's account of what is wrong and where; the rest of
 * the body is then checked against the route's schema (`invalid_request`; `invalid_webhook_url` when
 * only the URL's text is wrong).
 */
export function parseSubscriptionBody<T>(schema: z.ZodType<T>, body: unknown): CompiledBody<T> {
  const hasSelector = typeof body === 'object' && body !== null && !Array.isArray(body) && 'event_selector' in body;
  const selector = hasSelector ? compileSelector((body as { event_selector: unknown }).event_selector).source : undefined;
  const result = schema.safeParse(body);
  if (!result.success) {
    const { issues } = result.error;
    // A selector the compiler accepted but the documented shape does not describe is still a selector
    // problem, and a malformed URL a URL problem; a missing one of either is a request problem.
    const field = issues.every((issue) => issue.path[0] === issues[0].path[0]) ? issues[0].path[0] : undefined;
    const code = field === 'event_selector' && hasSelector ? 'invalid_selector' : field === 'webhook_url' && issues.every((issue) => issue.code !== 'invalid_type') ? 'invalid_webhook_url' : 'invalid_request';
    throw new TriggersError(code, { detail: zodIssuesDetail(issues, 'body') });
  }
  return { ...result.data, ...(selector !== undefined ? { event_selector: selector } : {}) } as CompiledBody<T>;
}
