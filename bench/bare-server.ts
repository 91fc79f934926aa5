/**
 * The baseline: a bare node:http server on 127.0.0.1:$PORT that reads the request body and answers
 * 202 with a small JSON body shaped like the ingest response (a fresh UUID and timestamp each time).
 * No framework, no parsing, no storage: the ceiling for "one HTTP request in, one JSON answer out"
 * on this machine with this load generator. GET /health answers 200.
 */
import http from 'node:http';
import { randomUUID } from 'node:crypto';

const port = Number(process.env.PORT);
if (!Number.isInteger(port) || port <= 0) {
  process.stderr.write('bare-server: set PORT\n');
  process.exit(2);
}

const server = http.createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
  if (req.method === 'GET' && req.url === '/health') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"status":"healthy"}');
    return;
  }
  let size = 0;
  req.on('data', (chunk: Buffer) => {
    size += chunk.length;
  });
  req.on('end', () => {
    const body = JSON.stringify({
      event_id: randomUUID(),
      status: 'accepted',
      message: 'Event accepted for processing',
      timestamp: new Date().toISOString(),
    });
    res.writeHead(202, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'x-request-id': randomUUID() });
    res.end(body);
  });
});

server.listen(port, '127.0.0.1', () => process.stdout.write(`bare node:http listening on 127.0.0.1:${port}\n`));
const stop = () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
