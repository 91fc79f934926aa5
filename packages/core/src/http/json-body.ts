import { isUtf8 } from 'node:buffer';
import type { Request } from 'express';
import { TriggersError } from '../errors.ts';

/**
 * Reads a JSON request body: 415 unless the content type is application/json (any +json
 * suffix too), 413 beyond `limitBytes` (checked against Content-Length before reading, and while
 * reading), 400 invalid_json when it is not valid UTF-8 (never decoded with replacement
 * characters) or does not parse. Returns the parsed value and the raw text (the idempotency check
 * hashes it; ingest stores each payload's text as sent).
 */
export async function readJsonBody(req: Request, limitBytes: number): Promise<{ value: unknown; raw: string }> {
  const type = req.headers['content-type'];
  if (!type || !isJsonType(type)) {
    throw new TriggersError('unsupported_media_type', { detail: 'Send the body as application/json.' });
  }
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limitBytes) {
    req.resume();
    throw tooLarge(limitBytes);
  }
  const raw = bufferedText(req, declared) ?? (await readText(req, limitBytes));
  try {
    return { value: JSON.parse(raw), raw };
  } catch {
    throw new TriggersError('invalid_json', { detail: 'The body is not valid JSON.' });
  }
}

function isJsonType(header: string): boolean {
  const essence = header.split(';', 1)[0].trim().toLowerCase();
  return essence === 'application/json' || (essence.startsWith('application/') && essence.endsWith('+json'));
}

function tooLarge(limitBytes: number): TriggersError {
  return new TriggersError('payload_too_large', { detail: `The body is larger than ${limitBytes} bytes.` });
}

/**
 * The body when node's parser has already taken all of it (a small request arrives with its
 * headers, and the route awaited before reading): read from the stream's buffer at once, without
 * the listeners and the flowing-mode turns of `readText` (~3 % of a single event's CPU). Only
 * when nobody has read the stream yet and the buffer holds exactly the declared length;
 * undefined otherwise (chunked bodies, bodies still arriving).
 */
function bufferedText(req: Request, declared: string | undefined): string | undefined {
  if (declared === undefined || !req.complete || req.readableFlowing !== null) return undefined;
  const length = Number(declared);
  if (length === 0 || req.readableLength !== length) return undefined;
  const body = req.read() as Buffer | null;
  if (body === null || body.length !== length) throw new Error('the buffered request body could not be read whole');
  return decodeUtf8(body);
}

function decodeUtf8(body: Buffer): string {
  if (!isUtf8(body)) throw new TriggersError('invalid_json', { detail: 'The body is not valid UTF-8.' });
  return body.toString('utf8');
}

function readText(req: Request, limitBytes: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > limitBytes) {
        failed = true;
        reject(tooLarge(limitBytes));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (failed) return;
      const body = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
      try {
        resolve(decodeUtf8(body));
      } catch (error) {
        reject(error as Error);
      }
    });
    req.on('error', (err) => {
      if (!failed) reject(new TriggersError('invalid_request', { detail: 'The request body could not be read.', cause: err }));
    });
  });
}
