import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { runWrk, wrkMissing } from './wrk.ts';

/** The wrk load generator of `npm run bench -- --pin` / `--load-generator wrk`, against a local server that counts. */
describe('bench: wrk load generator', function () {
  this.timeout(30_000);
  const missing = wrkMissing(false);

  it('sends the given requests in turn and reports what the server answered', async function () {
    if (missing) {
      console.log(`    skipped: ${missing}`);
      this.skip();
    }
    const seen = new Map<string, number>();
    let answered = 0;
    const server = http.createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString();
        const key = `${req.method} ${req.url} ${req.headers['x-variant']} ${body}`;
        seen.set(key, (seen.get(key) ?? 0) + 1);
        answered++;
        // Variant 2 is refused: wrk must count it as an error, not as a success.
        res.writeHead(body === '{"n":2}' ? 500 : 202, { 'content-type': 'application/json' });
        res.end('{}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const result = await runWrk({
        origin,
        connections: 4,
        durationMs: 1000,
        variants: 3,
        threads: 1,
        itemsPerRequest: 10,
        request: (i) => ({ method: 'POST', path: `/p/${i}`, headers: { 'x-variant': String(i) }, body: `{"n":${i}}` }),
      });
      // Exactly the three requests, in turn (so each about a third of the load).
      assert.deepEqual([...seen.keys()].sort(), ['POST /p/0 0 {"n":0}', 'POST /p/1 1 {"n":1}', 'POST /p/2 2 {"n":2}']);
      for (const count of seen.values()) assert.ok(Math.abs(count - answered / 3) <= 4 + answered * 0.01, `uneven: ${[...seen.values()]}`);
      // wrk stops with requests in flight: the server answered at most one more per connection.
      const completed = result.ok + result.errors;
      assert.ok(answered >= completed && answered <= completed + 4, `server answered ${answered}, wrk completed ${completed}`);
      assert.ok(result.ok > 100, `only ${result.ok} requests in 1 s`);
      // The 500s are errors, the 202s successes; events/s counts itemsPerRequest per success.
      assert.ok(Math.abs(result.errors - completed / 3) <= 4, `errors ${result.errors} of ${completed}`);
      const expected = (result.ok * 10) / result.durationS;
      assert.ok(Math.abs(result.itemsPerSecond - expected) <= expected * 0.001, `events/s ${result.itemsPerSecond}, expected ${expected}`);
      assert.ok(result.latencyMs.p50 > 0 && result.latencyMs.p50 <= result.latencyMs.p99 && result.latencyMs.p99 <= result.latencyMs.max);
      assert.ok(result.loadGeneratorCpuCores > 0, 'the CPU wrk used is measured');
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
