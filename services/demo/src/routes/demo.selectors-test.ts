import { TriggersError, compileSelector, locateEventPayload, selectorMatchesPayload} from '@triggers/core/domain';
import type { DemoDeps } from '../deps.ts';
import { selectorTestBodySchema, selectorTestResultSchema } from '../schemas.ts';
import { defineDemoRoute } from '../define-demo-route.ts';

export function makeDemoSelectorTestRoute(_deps: DemoDeps) {
  return defineDemoRoute({
    method: 'post',
    path: '/demo/selectors/test',
    operationId: 'demoTestSelector',
    summary: 'Check a selector and whether a sample payload matches it',
    description:
      'Compiles the selector exactly as saving a subscription would, and matches the payload exactly as the matcher matches a stored event (its JSON text: numbers beyond a double exact, `__proto__` an ordinary key); an invalid selector answers 200 with `valid: false` and the `invalid_selector` detail.',
    body: selectorTestBodySchema,
    responses: { 200: { description: 'Valid and matching or not, or why it is invalid', schema: selectorTestResultSchema } },
    errors: ['invalid_json', 'invalid_request', 'payload_too_large', 'unsupported_media_type'],
    handler: ({ body, rawBody }) => {
      // The payload as the matcher sees a stored event: its text as sent (located the way ingest
      // stores it), matched the one way the matcher matches. The schema's parsed copy would drop
      // a `__proto__` key; a JSON.parse copy would round big numbers.
      const payload = locateEventPayload(rawBody);
      if (payload === undefined) throw new Error('a payload the schema accepted was not found in the body text');
      try {
        const selector = compileSelector(body.event_selector);
        return { status: 200, body: { valid: true, matches: selectorMatchesPayload(selector, payload.json) } };
      } catch (thrown) {
        if (thrown instanceof TriggersError && thrown.code === 'invalid_selector') return { status: 200, body: { valid: false, detail: thrown.detail } };
        throw thrown;
      }
    },
  });
}
