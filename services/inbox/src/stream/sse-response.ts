import type { Response } from 'express';

/** How long a cut-off client has to read the overflow event before its connection is dropped. */
const CUT_OFF_GRACE_MS = 30_000;

/**
 * One Server-Sent Events response with bounded buffering: a message is written only after the
 * previous one left Node's buffer (or fit in it), and a client that reads nothing for
 * `slowClientMs` is sent `event: overflow` and disconnected, so a slow reader never makes the
 * server hold more than about one message for it.
 */
export class SseResponse {
  private closed = false;
  private readonly closeListeners: (() => void)[] = [];
  private readonly sleepers = new Set<() => void>();

  constructor(
    private readonly res: Response,
    private readonly slowClientMs: number,
  ) {
    res.once('close', () => this.markClosed());
    // The client may have left while the first read ran: then 'close' already fired.
    if (res.destroyed || res.socket === null || res.socket.destroyed) this.closed = true;
  }

  /**
   * Sends the headers, the reconnect delay the client should use, and the stream's starting
   * position as the last event id: a client that drops before its first event resumes from there
   * (EventSource keeps an `id:` even from a message without data), not from its reconnect time.
   */
  open(retryMs: number, position: string): void {
    this.res.statusCode = 200;
    this.res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
    this.res.setHeader('Cache-Control', 'no-cache, no-transform');
    this.res.setHeader('Connection', 'keep-alive');
    // nginx and some ingress controllers buffer responses unless told not to.
    this.res.setHeader('X-Accel-Buffering', 'no');
    this.res.flushHeaders();
    this.res.write(`retry: ${retryMs}\nid: ${position}\n: connected\n\n`);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  onClose(listener: () => void): void {
    if (this.closed) listener();
    else this.closeListeners.push(listener);
  }

  /** Resolves after `ms`, or at once when the stream closes. */
  sleep(ms: number): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.sleepers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.sleepers.add(wake);
    });
  }

  /** A comment line: keeps proxies from closing an idle connection. Skipped while output is backed up. */
  ping(): void {
    if (!this.closed && !this.res.writableNeedDrain) this.res.write(': ping\n\n');
  }

  /**
   * Writes one message and waits until the client has taken it (or it fits in the buffer).
   * Returns false when the stream is closed, including when the client was cut off as too slow.
   */
  async send(message: { id?: string; event: string; data: string }): Promise<boolean> {
    if (this.closed) return false;
    const text = `${message.id ? `id: ${message.id}\n` : ''}event: ${message.event}\ndata: ${message.data}\n\n`;
    if (this.res.write(text)) return true;
    if (await this.drained()) return !this.closed;
    this.cutOff(message.id);
    return false;
  }

  private drained(): Promise<boolean> {
    return new Promise((resolve) => {
      const done = (ok: boolean) => {
        clearTimeout(timer);
        this.res.off('drain', onDrain);
        this.res.off('close', onClose);
        resolve(ok);
      };
      const onDrain = () => done(true);
      const onClose = () => done(true);
      const timer = setTimeout(() => done(false), this.slowClientMs);
      this.res.on('drain', onDrain);
      this.res.on('close', onClose);
    });
  }

  /**
   * The overflow event goes after what is already buffered, so a client that resumes reading sees
   * every message up to it, then why the stream ended, then the end. A client that never reads
   * again is dropped after `CUT_OFF_GRACE_MS` (only about one message is held for it meanwhile).
   */
  private cutOff(lastQueuedId: string | undefined): void {
    const detail = `The client did not read for ${this.slowClientMs} ms; reconnect with Last-Event-ID to resume.`;
    this.res.write(`event: overflow\ndata: ${JSON.stringify({ code: 'overflow', detail, last_event_id: lastQueuedId ?? null })}\n\n`);
    this.res.end();
    const socket = this.res.socket;
    const timer = setTimeout(() => socket?.destroy(), Math.max(this.slowClientMs, CUT_OFF_GRACE_MS));
    timer.unref();
    socket?.once('close', () => clearTimeout(timer));
    this.markClosed();
  }

  private markClosed(): void {
    if (this.closed) return;
    this.closed = true;
    for (const wake of [...this.sleepers]) wake();
    for (const listener of this.closeListeners.splice(0)) listener();
  }
}
