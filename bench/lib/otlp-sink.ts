/** A local OTLP/HTTP endpoint for the traced ingest run: answers every export 200 and counts them. */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface OtlpSink {
  url: string;
  /** Export requests and bytes received so far (proof the server really exported spans). */
  stats(): { requests: number; bytes: number };
  close(): Promise<void>;
}

export async function startOtlpSink(): Promise<OtlpSink> {
  let requests = 0;
  let bytes = 0;
  const server = http.createServer((req, res) => {
    req.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
    });
    req.on('end', () => {
      if (req.method === 'POST' && req.url === '/v1/traces') requests += 1;
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    stats: () => ({ requests, bytes }),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/**
 * An OTLP/HTTP endpoint in a child process, for in-process measurements (bench/ingest-span-cost.ts,
 * bench/async-hooks-ingest-cost.ts): the sending process pays for serialising and sending, not
 * for receiving. `url` is the endpoint; `kill` stops the child.
 */
export async function startOtlpSinkProcess(): Promise<{ url: string; kill(): void }> {
  const sink = spawn(process.execPath, ['-e', `const s=require('node:http').createServer((q,r)=>{q.resume();q.on('end',()=>r.end())});s.listen(0,'127.0.0.1',()=>console.log(s.address().port))`], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [portLine] = (await once(sink.stdout!, 'data')) as [Buffer];
  return { url: `http://127.0.0.1:${String(portLine).trim()}`, kill: () => sink.kill() };
}
