import { Writable } from 'node:stream';

/** A stream to point a logger at (pino's JSON lines), and the lines written to it so far, parsed. */
export function captureJsonLines(): { stream: Writable; lines: () => Record<string, unknown>[] } {
  let text = '';
  const stream = new Writable({
    write(chunk, _encoding, done) {
      text += chunk.toString();
      done();
    },
  });
  return { stream, lines: () => text.split('\n').filter(Boolean).map((l) => JSON.parse(l)) };
}
