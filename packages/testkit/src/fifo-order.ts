import assert from 'node:assert/strict';
import { eventIdsIn, type ReceivedRequest } from './webhook-receiver.ts';

/**
 * What a receiver of a FIFO subscription must have seen, given every event id posted to it:
 * - each request carries the next events in order of acceptance (UUIDv7 order): the first events
 *   not yet finished, a run of one or more (a batch);
 * - a request that was not answered 2xx is either sent again (a retry: the same events) or, after
 *   its last attempt, followed by the events after it;
 * - no request arrived before the previous one was answered (one at a time);
 * - every event was sent.
 * With `allowResend` (a crash between a 2xx and its record), a request may repeat the one before it.
 */
export function assertFifo(requests: readonly ReceivedRequest[], posted: readonly string[], options: { allowResend?: boolean; answerGraceMs?: number } = {}): void {
  const expected = [...posted].sort();
  const trace = () => requests.map((r, i) => `#${i} ${r.answer.status ?? 200} [${eventIdsIn(r).map((id) => expected.indexOf(id)).join(',')}]`).join(' ');
  let done = 0;
  let previous: string[] | null = null;
  for (const [i, request] of requests.entries()) {
    const ids = eventIdsIn(request);
    const repeat = previous !== null && ids.join() === previous.join();
    const previousOk = i > 0 && (requests[i - 1].answer.status ?? 200) < 300;
    if (repeat && previousOk) {
      assert.ok(options.allowResend, `request #${i} repeated a request already answered 2xx: ${trace()}`);
    } else if (repeat) {
      // A retry of the head.
    } else {
      if (previous !== null && !previousOk) done += previous.length; // the previous one finally failed
      assert.deepEqual(ids, expected.slice(done, done + ids.length), `request #${i} is not the next in event order: ${trace()}`);
    }
    if ((request.answer.status ?? 200) < 300 && !(repeat && previousOk)) done += ids.length;
    previous = ids;
    if (i > 0) {
      const answeredAt = requests[i - 1].receivedAt + (requests[i - 1].answer.delayMs ?? 0);
      assert.ok(request.receivedAt >= answeredAt - (options.answerGraceMs ?? 5), `request #${i} arrived ${answeredAt - request.receivedAt} ms before #${i - 1} was answered: ${trace()}`);
    }
  }
  assert.equal(done, expected.length, `every event was sent and answered: ${trace()}`);
}
