import { z } from 'zod';
import { ERROR_CODES } from '../errors.ts';

/** Schemas shared by several routes. */
export const problemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    code: z.enum(Object.keys(ERROR_CODES) as [keyof typeof ERROR_CODES, ...(keyof typeof ERROR_CODES)[]]),
    errors: z.array(z.object({ index: z.number().int(), detail: z.string() })).optional(),
  })
  .meta({ description: 'RFC 9457 problem details with a stable machine-readable `code`.' });

export const isoTime = z.string().meta({ format: 'date-time', example: '2026-01-15T10:30:00.123Z' });
export const uuid = z.string().regex(/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/, 'must be a UUID');
