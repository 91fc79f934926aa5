import assert from 'node:assert/strict';
import net from 'node:net';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { awsClientConfig, toAwsDependencyError } from './aws.ts';
import { DependencyError } from '../errors.ts';

describe('AWS client configuration', () => {
  it('a request the server never answers fails at requestTimeout with a retryable error, instead of hanging', async () => {
    // Accepts connections and reads requests, never answers (a hung engine, a half-open connection).
    const sockets = new Set<net.Socket>();
    const server = net.createServer((socket) => {
      sockets.add(socket);
      socket.on('data', () => undefined).on('error', () => undefined);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const { port } = server.address() as net.AddressInfo;
    const client = new DynamoDBClient({ ...awsClientConfig({ endpoint: `http://127.0.0.1:${port}`, region: 'us-east-1', requestTimeoutMs: 200 }), maxAttempts: 1 });
    const started = Date.now();
    try {
      const thrown = await client.send(new ListTablesCommand({})).then(
        () => assert.fail('the request was answered'),
        (error: unknown) => error,
      );
      assert.ok(Date.now() - started < 5000, `failed after ${Date.now() - started} ms`);
      const wrapped = toAwsDependencyError('dynamodb', 'listing tables', thrown);
      assert.ok(wrapped instanceof DependencyError);
      assert.equal(wrapped.retryable, true, wrapped.message);
      assert.match(wrapped.message, /TimeoutError|ETIMEDOUT/);
    } finally {
      client.destroy();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
