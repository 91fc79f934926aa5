/**
 * The webhook receiver of the delivery scenarios: a bare node:http server on 127.0.0.1:$PORT, run
 * in a child process of its own (not the load generator's, so neither disturbs the other's timing).
 *
 * Every POST outside `/_bench/` is a webhook: it reads the body, stamps the time the whole body
 * arrived, answers `200` with an empty body at once, and records each `event_id` in the body
 * (the first arrival of each id; later ones count as duplicates).
 *
 * Times are wall-clock milliseconds with sub-millisecond precision (`preciseWallMs`: re-anchored on
 * Date.now() once a second, since `performance.timeOrigin + performance.now()` drifts from the wall
 * clock as a process ages): the orchestrator stamps its own times the same way and measures the
 * residual offset between the two clocks with `GET /_bench/clock`.
 *
 * Control routes (for the orchestrator only):
 *   GET  /health                 200
 *   GET  /_bench/clock           {"now": <ms>}
 *   GET  /_bench/stats           counts, connections (open, peak since the last reset, total)
 *   GET  /_bench/records         {"ids": [...], "times": [...]}: first arrival of every event id
 *   GET  /_bench/times           the same times as raw little-endian float64s (compact for 100k+)
 *   POST /_bench/reset           forgets everything received so far; peak = connections open now
 */
import http from 'node:http';
import { preciseWallMs } from '@triggers/core/domain';

const port = Number(process.env.PORT);
if (!Number.isInteger(port) || port <= 0) {
  process.stderr.write('receiver: set PORT\n');
  process.exit(2);
}

const now = preciseWallMs;

/** A growable Float64Array. */
class Times {
  data = new Float64Array(1 << 16);
  length = 0;
  push(v: number): void {
    if (this.length === this.data.length) {
      const next = new Float64Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = v;
  }
  values(): Float64Array {
    return this.data.subarray(0, this.length);
  }
}

let firstArrival = new Map<string, number>();
let ids: string[] = [];
let times = new Times();
let requests = 0;
let eventsSeen = 0;
let duplicates = 0;
let withoutIds = 0;
let bytes = 0;
let openConnections = 0;
let peakConnections = 0;
let totalConnections = 0;
let firstAt: number | undefined;
let lastAt: number | undefined;

const ID_KEY = '"event_id":"';

function record(body: string, at: number): void {
  requests++;
  bytes += body.length;
  firstAt ??= at;
  lastAt = at;
  // The webhook body is a compact JSON array of {"event_id", "customer_id", "payload", "timestamp"};
  // scanning for the key is much cheaper than JSON.parse and finds every event of a batch.
  let found = 0;
  for (let i = body.indexOf(ID_KEY); i >= 0; i = body.indexOf(ID_KEY, i + ID_KEY.length)) {
    const start = i + ID_KEY.length;
    const end = body.indexOf('"', start);
    if (end < 0) break;
    const id = body.slice(start, end);
    found++;
    eventsSeen++;
    if (firstArrival.has(id)) {
      duplicates++;
    } else {
      firstArrival.set(id, at);
      ids.push(id);
      times.push(at);
    }
  }
  if (found === 0) withoutIds++;
}

function reset(): void {
  firstArrival = new Map();
  ids = [];
  times = new Times();
  requests = eventsSeen = duplicates = withoutIds = bytes = 0;
  firstAt = lastAt = undefined;
  peakConnections = openConnections;
}

function json(res: http.ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

const server = http.createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
  const url = req.url ?? '/';
  if (req.method === 'POST' && !url.startsWith('/_bench/')) {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const at = now();
      res.writeHead(200, { 'content-length': '0' });
      res.end();
      record(chunks.length === 1 ? chunks[0].toString('utf8') : Buffer.concat(chunks).toString('utf8'), at);
    });
    return;
  }
  // Control routes: drain any body first.
  req.resume();
  req.on('end', () => {
    if (url === '/health') return json(res, 200, { status: 'healthy' });
    if (url === '/_bench/clock') return json(res, 200, { now: now() });
    if (url === '/_bench/stats') {
      return json(res, 200, {
        requests,
        events: eventsSeen,
        unique: ids.length,
        duplicates,
        requestsWithoutIds: withoutIds,
        bytes,
        firstAt: firstAt ?? null,
        lastAt: lastAt ?? null,
        connections: { open: openConnections, peak: peakConnections, total: totalConnections },
      });
    }
    if (url === '/_bench/records') return json(res, 200, { ids, times: Array.from(times.values()) });
    if (url === '/_bench/times') {
      const v = times.values();
      const body = Buffer.from(v.buffer, v.byteOffset, v.byteLength);
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length });
      res.end(body);
      return;
    }
    if (url === '/_bench/reset' && req.method === 'POST') {
      reset();
      return json(res, 200, { ok: true });
    }
    json(res, 404, { error: 'not found' });
  });
});

server.on('connection', (socket) => {
  openConnections++;
  totalConnections++;
  if (openConnections > peakConnections) peakConnections = openConnections;
  socket.on('close', () => {
    openConnections--;
  });
});

server.listen(port, '127.0.0.1', () => process.stdout.write(`receiver listening on 127.0.0.1:${port}\n`));
const stop = () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
  setTimeout(() => process.exit(0), 1000).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
