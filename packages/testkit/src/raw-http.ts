import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import type { TestResponse } from '@triggers/core/testing';

/** What fetch and a polite client never send, for the edges of request parsing. */

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  text: string;
}

/**
 * Writes one HTTP/1.1 request byte for byte on a fresh socket (`Connection: close`) to the server
 * at `url`, for what fetch and node:http refuse to send: header values with control or non-ASCII
 * bytes, an empty value.
 */
export function rawRequest(url: string, request: { method: string; path: string; headers: [string, Buffer | string][]; body?: string }): Promise<RawResponse> {
  const body = Buffer.from(request.body ?? '', 'utf8');
  const lines: Buffer[] = [Buffer.from(`${request.method} ${request.path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n`, 'latin1')];
  for (const [name, value] of request.headers) lines.push(Buffer.from(`${name}: `, 'latin1'), Buffer.from(value), Buffer.from('\r\n', 'latin1'));
  lines.push(Buffer.from(`Content-Length: ${body.length}\r\n\r\n`, 'latin1'), body);
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname);
    const received: Buffer[] = [];
    socket.on('data', (chunk) => received.push(chunk));
    socket.on('error', reject);
    socket.on('end', () => resolve(parseResponse(Buffer.concat(received))));
    socket.write(Buffer.concat(lines));
  });
}

function parseResponse(bytes: Buffer): RawResponse {
  const text = bytes.toString('utf8');
  const split = text.indexOf('\r\n\r\n');
  const [statusLine, ...headerLines] = text.slice(0, split).split('\r\n');
  const headers = Object.fromEntries(
    headerLines.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]),
  );
  return { status: Number(statusLine.split(' ')[1]), headers, text: text.slice(split + 4) };
}

/**
 * Streams a body with node:http in `chunks` (Transfer-Encoding: chunked, no Content-Length), so
 * the server can only find out the size by reading.
 */
export function postChunked(url: string, path: string, apiKey: string, chunks: string[]): Promise<TestResponse> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      `${url}${path}`,
      { method: 'POST', agent: false, headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' } },
      (response) => {
        const received: Buffer[] = [];
        response.on('data', (chunk: Buffer) => received.push(chunk));
        response.on('end', () => {
          const text = Buffer.concat(received).toString('utf8');
          const headers = new Headers();
          for (const [name, value] of Object.entries(response.headers)) if (typeof value === 'string') headers.set(name, value);
          resolve({ status: response.statusCode ?? 0, headers, text, body: text ? JSON.parse(text) : undefined });
        });
      },
    );
    // The server may answer 413 and stop reading before the last chunk: that is the point.
    request.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE' && error.code !== 'ECONNRESET') reject(error);
    });
    assert.equal(request.getHeader('content-length'), undefined);
    for (const chunk of chunks) request.write(chunk);
    request.end();
  });
}
