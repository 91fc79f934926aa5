import net from 'node:net';

/**
 * A TCP proxy on 127.0.0.1 in front of one engine, for one process's connection to it: `cut()`
 * makes the engine unreachable through the proxy (open connections are dropped, new ones are
 * refused), `restore()` makes it reachable again on the same port. Other processes, connected to
 * the engine directly, are not affected.
 */
export interface TcpProxy {
  readonly port: number;
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  cut(): Promise<void>;
  restore(): Promise<void>;
  /**
   * The next bytes the target sends back, on any connection, are not forwarded: that connection is
   * dropped instead. The request reached the target; its answer is lost (a client's retry case).
   * Resolves when a connection was dropped so.
   */
  dropNextResponse(): Promise<void>;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const sockets = new Set<net.Socket>();
  let dropResponse: (() => void) | undefined;
  const server = net.createServer((client) => {
    const upstream = net.connect(target.port, target.host);
    sockets.add(client);
    sockets.add(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    // Before the pipe's own listener: destroying the client here means the chunk never reaches it.
    upstream.prependListener('data', () => {
      if (!dropResponse) return;
      const dropped = dropResponse;
      dropResponse = undefined;
      drop();
      dropped();
    });
    client.pipe(upstream);
    upstream.pipe(client);
  });
  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  await listen(0);
  const port = (server.address() as net.AddressInfo).port;
  let listening = true;
  const cut = async () => {
    if (listening) {
      listening = false;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      sockets.clear();
      await closed;
    }
  };
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    cut,
    async restore() {
      if (listening) return;
      await listen(port);
      listening = true;
    },
    dropNextResponse: () => new Promise<void>((resolve) => (dropResponse = resolve)),
    close: cut,
  };
}
