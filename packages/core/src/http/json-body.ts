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
  const raw = await readText(req, limitBytes);
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
      if (!isUtf8(body)) reject(new TriggersError('invalid_json', { detail: 'The body is not valid UTF-8.' }));
      else resolve(body.toString('utf8'));
    });
    req.on('error', (err) => {
      if (!failed) reject(new TriggersError('invalid_request', { detail: 'The request body could not be read.', cause: err }));
    });
  });
}
