import type { Request } from 'express';
import type { z } from 'zod';
import { TriggersError } from '@triggers/core/domain';
import { readJsonBody, zodIssuesDetail } from '@triggers/core/http';

/**
 * A body the client may leave out: none (no Content-Length, or 0, and not chunked) parses as `{}`;
 * otherwise it is read like any JSON body (415, 413, 400 invalid_json) and checked against `schema`.
 */
export async function readOptionalBody<T>(req: Request, schema: z.ZodType<T>, maxBytes: number): Promise<T> {
  const length = req.headers['content-length'];
  const chunked = req.headers['transfer-encoding'] !== undefined;
  const value = !chunked && (length === undefined || Number(length) === 0) ? {} : (await readJsonBody(req, maxBytes)).value;
  const result = schema.safeParse(value);
  if (!result.success) throw new TriggersError('invalid_request', { detail: zodIssuesDetail(result.error.issues, 'body') });
  return result.data;
}
