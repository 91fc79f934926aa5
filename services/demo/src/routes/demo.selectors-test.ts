import { TriggersError, compileSelector } from '@triggers/core/domain';
import type { DemoDeps } from '../deps.ts';
import { selectorTestBodySchema, selectorTestResultSchema } from '../schemas.ts';
import { defineDemoRoute } from '../define-demo-route.ts';

export function makeDemoSelectorTestRoute(_deps: DemoDeps) {
  return defineDemoRoute({
    method: 'post',
    path: '/demo/selectors/test',
    operationId: 'demoTestSelector',
    summary: 'Check a selector and whether a sample payload matches it',
    description: 'Compiles the selector exactly as saving a subscription would; an invalid one answers 200 with `valid: false` and the `invalid_selector` detail.',
    body: selectorTestBodySchema,
    responses: { 200: { description: 'Valid and matching or not, or why it is invalid', schema: selectorTestResultSchema } },
    errors: ['invalid_json', 'invalid_request', 'payload_too_large', 'unsupported_media_type'],
    handler: ({ body }) => {
      try {
        const selector = compileSelector(body.event_selector);
        return { status: 200, body: { valid: true, matches: selector.matches(body.payload) } };
      } catch (thrown) {
        if (thrown instanceof TriggersError && thrown.code === 'invalid_selector') return { status: 200, body: { valid: false, detail: thrown.detail } };
        throw thrown;
      }
    },
  });
}
