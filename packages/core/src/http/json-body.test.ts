import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Request } from 'express';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { TriggersError } from '../errors.ts';
import { readJsonBody } from './json-body.ts';

interface Seen {
  value?: unknown;
  raw?: string;
  error?: TriggersError;
  /** 'data' listeners the reader left on the request: 0 when it read the parser's buffer at once. */
  dataListeners: number;
}

/**
 * A real node:http server whose handler waits one turn (as a route does while it authenticates)
 * and then reads the body; `send` writes raw HTTP in the given pieces, `gapMs` apart.
 */
describe('readJsonBody', function () {
  let server: http.Server;
  let port: number;
  let seen: Promise<Seen>;
  let report: (seen: Seen) => void;

  before(async () => {
    server = http.createServer(async (req, res) => {
      await nextTurn();
      try {
        const { value, raw } = await readJsonBody(req as Request, 1024);
        report({ value, raw, dataListeners: req.listenerCount('data') });
      } catch (error) {
        report({ error: error as TriggersError, dataListeners: req.listenerCount('data') });
      }
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  beforeEach(() => {
    seen = new Promise((resolve) => (report = resolve));
  });

  async function send(pieces: (string | Buffer)[], gapMs = 0): Promise<Seen> {
    const socket = net.connect(port, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    for (const [i, piece] of pieces.entries()) {
      if (i > 0 && gapMs > 0) await new Promise((resolve) => setTimeout(resolve, gapMs));
      socket.write(piece);
    }
    const result = await seen;
    socket.destroy();
    return result;
  }
  const head = (length: number | 'chunked') =>
    `POST /x HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n${length === 'chunked' ? 'Transfer-Encoding: chunked' : `Content-Length: ${length}`}\r\n\r\n`;

  it('reads a body that arrived with its headers from the buffer, without stream listeners', async function () {
    const body = '{"payload":{"a":"é","n":12345678901234567890}}';
    const seen = await send([head(Buffer.byteLength(body)) + body]);
    assert.equal(seen.raw, body);
    assert.deepEqual(seen.value, JSON.parse(body));
    assert.equal(seen.dataListeners, 0);
  });

  it('reads a body still arriving when the route reads it, and a chunked one', async function () {
    const body = '{"payload":{"late":true}}';
    const late = await send([head(body.length) + body.slice(0, 5), body.slice(5)], 50);
    assert.equal(late.raw, body);
    assert.equal(late.dataListeners, 1, 'read through the stream');
    seen = new Promise((resolve) => (report = resolve));
    const chunked = await send([`${head('chunked')}${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`]);
    assert.equal(chunked.raw, body);
  });

  it('refuses invalid UTF-8 and invalid JSON on the buffered path as on the streamed one', async function () {
    const badUtf8 = Buffer.concat([Buffer.from('{"payload":{"a":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}}')]);
    const buffered = await send([Buffer.concat([Buffer.from(head(badUtf8.length)), badUtf8])]);
    assert.equal(buffered.error?.code, 'invalid_json');
    assert.equal(buffered.dataListeners, 0);
    seen = new Promise((resolve) => (report = resolve));
    const streamed = await send([Buffer.concat([Buffer.from(head(badUtf8.length)), badUtf8.subarray(0, 4)]), badUtf8.subarray(4)], 50);
    assert.equal(streamed.error?.code, 'invalid_json');
    seen = new Promise((resolve) => (report = resolve));
    const notJson = await send([head(5) + '{"a":']);
    assert.equal(notJson.error?.code, 'invalid_json');
  });
});
