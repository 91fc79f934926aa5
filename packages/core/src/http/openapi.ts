import { z } from 'zod';
import { ERROR_CODES } from '../errors.ts';
import type { AnyRoute } from './route.ts';
import { problemSchema } from './schemas.ts';

type JsonSchema = Record<string, unknown>;

const PROBLEM = 'application/problem+json';

/** The JSON Schema (2020-12, as OpenAPI 3.1 embeds it) of a zod schema. */
export function toSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const json = z.toJSONSchema(schema, { target: 'draft-2020-12', io, unrepresentable: 'any' }) as JsonSchema;
  delete json.$schema;
  return json;
}

function openApiPath(expressPath: string): string {
  return expressPath.replace(/:([A-Za-z_]+)/g, '{$1}');
}

function parametersOf(schema: z.ZodType | undefined, location: 'query' | 'path'): unknown[] {
  if (!schema) return [];
  const json = toSchema(schema, 'input');
  const properties = (json.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((json.required as string[] | undefined) ?? []);
  return Object.entries(properties).map(([name, propertySchema]) => {
    const { description, contentMediaType, contentSchema, ...rest } = propertySchema;
    return {
      name,
      in: location,
      required: location === 'path' || required.has(name),
      ...(description ? { description } : {}),
      // A parameter that carries a JSON document (a selector) is described by that document's schema.
      ...(contentMediaType === 'application/json' && contentSchema ? { content: { 'application/json': { schema: contentSchema } } } : { schema: rest }),
    };
  });
}

/**
 * The OpenAPI 3.1 document, generated from the same zod schemas the handlers validate with.
 */
export function buildOpenApiDocument(routes: AnyRoute[], info: { title: string; version: string; description?: string }): JsonSchema {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const path = openApiPath(route.path);
    const responses: Record<string, unknown> = {};
    for (const [status, response] of Object.entries(route.responses)) {
      responses[status] = {
        description: response.description,
        ...(response.headers ? { headers: headersObject(response.headers) } : {}),
        ...(response.schema ? { content: { [response.contentType ?? 'application/json']: { schema: toSchema(response.schema, 'output') } } } : {}),
      };
    }
    const codesByStatus = new Map<string, (typeof route.errors)[number][]>();
    for (const code of route.errors) {
      const status = String(ERROR_CODES[code].status);
      codesByStatus.set(status, [...(codesByStatus.get(status) ?? []), code]);
    }
    for (const [status, codes] of codesByStatus) {
      responses[status] = {
        description: `${codes.map((c) => ERROR_CODES[c].title).join(' / ')}: ${codes.map((c) => `\`${c}\``).join(', ')}`,
        ...(status === '429' ? { headers: headersObject(RATE_LIMITED_HEADERS) } : {}),
        content: { [PROBLEM]: { schema: { $ref: '#/components/schemas/Problem' } } },
      };
    }
    // Any request can be refused by the HTTP server itself for an oversized request line or headers.
    responses['431'] = { $ref: '#/components/responses/RequestHeaderTooLarge' };
    const operation: Record<string, unknown> = {
      operationId: route.operationId,
      summary: route.summary,
      ...(route.description ? { description: route.description } : {}),
      tags: route.tags,
      parameters: [
        ...parametersOf(route.params, 'path'),
        ...parametersOf(route.query, 'query'),
        ...(route.headers ?? []).map((h) => ({
          name: h.name,
          in: 'header',
          required: h.required ?? false,
          description: h.description,
          schema: h.schema ? toSchema(h.schema, 'input') : { type: 'string' },
        })),
      ],
      responses,
      security: route.auth === 'api_key' ? [{ apiKey: [] }] : route.auth === 'admin' ? [{ adminToken: [] }] : [],
    };
    if (route.body) {
      operation.requestBody = { required: true, content: { 'application/json': { schema: toSchema(route.body, 'input') } } };
    }
    (paths[path] ??= {})[route.method] = operation;
  }
  return {
    openapi: '3.1.0',
    info,
    paths,
    components: {
      schemas: { Problem: toSchema(problemSchema, 'output') },
      responses: {
        MethodNotAllowed: {
          description:
            'Method not allowed: `method_not_allowed`. Any path listed here answers a method it does not list with 405 and an `Allow` header naming the methods it serves (`OPTIONS` answers 204 with the same header).',
          headers: { Allow: { description: 'The methods the path serves, e.g. `GET, HEAD, OPTIONS`.', required: true, schema: { type: 'string' } } },
          content: { [PROBLEM]: { schema: { $ref: '#/components/schemas/Problem' } } },
        },
        RequestHeaderTooLarge: {
          description: 'Request header fields too large: `request_header_too_large`. The request line (path and query) and headers together exceed the server\'s limit (16 KiB by default).',
          content: { [PROBLEM]: { schema: { $ref: '#/components/schemas/Problem' } } },
        },
      },
      securitySchemes: {
        apiKey: { type: 'http', scheme: 'bearer', description: 'A customer API key: `sk_live_...` or `sk_test_...`.' },
        adminToken: { type: 'http', scheme: 'bearer', description: 'The operator token (`TRIGGERS_ADMIN_TOKEN`).' },
      },
    },
  };
}

const RATE_LIMITED_HEADERS = [
  { name: 'Retry-After', description: 'Whole seconds until enough tokens are available.' },
  { name: 'RateLimit-Limit', description: 'Bucket capacity (events).' },
  { name: 'RateLimit-Remaining', description: 'Events left in the bucket.' },
  { name: 'RateLimit-Reset', description: 'Seconds until the bucket is full.' },
];

function headersObject(headers: { name: string; description: string; schema?: z.ZodType }[]): Record<string, unknown> {
  return Object.fromEntries(
    headers.map((h) => [h.name, { description: h.description, schema: h.schema ? toSchema(h.schema, 'output') : { type: 'string' } }]),
  );
}
