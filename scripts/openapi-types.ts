/**
 * What both API type generators (generate-sdk-types.ts, generate-console-api.ts) share: the OpenAPI
 * document the all-in-one serves, the schema at a route's body or response, and the writer of
 * TypeScript for those schemas.
 */
import { startTestServer } from '@triggers/all-in-one/test-server';

export type JsonSchema = { [key: string]: unknown };
/** A route's request body, its response by status (and content type), or a named component. */
export type Where = { status: number; contentType?: string } | 'body' | { component: string };
/** A type to write: a route's body or response, or a part of one (property names, `[]` for an array's items). */
export type TypeSpec = [name: string, method: string, path: string, where: Where, ...part: string[]];

/** The OpenAPI document as the all-in-one serves it (demo on, default settings). */
export async function fetchOpenApiDocument(): Promise<JsonSchema> {
  const server = await startTestServer({ TRIGGERS_DEMO: '1' });
  try {
    const response = await server.request('GET', '/openapi.json');
    if (response.status !== 200) throw new Error(`GET /openapi.json answered ${response.status}`);
    return response.body as JsonSchema;
  } finally {
    await server.close();
  }
}

/** The JSON schema a spec names in the document; throws when it has none. */
export function schemaAt(document: JsonSchema, [, method, routePath, where, ...part]: TypeSpec): JsonSchema {
  let schema: JsonSchema | undefined;
  if (typeof where === 'object' && 'component' in where) {
    schema = ((document.components as JsonSchema).schemas as Record<string, JsonSchema>)[where.component];
  } else {
    const operation = (document.paths as Record<string, Record<string, JsonSchema>>)[routePath]?.[method];
    const content =
      where === 'body'
        ? (operation?.requestBody as JsonSchema | undefined)?.content
        : ((operation?.responses as Record<string, JsonSchema> | undefined)?.[String(where.status)]?.content as JsonSchema | undefined);
    const type = where === 'body' ? 'application/json' : (where.contentType ?? 'application/json');
    schema = (content as Record<string, { schema?: JsonSchema }> | undefined)?.[type]?.schema;
  }
  for (const step of part) {
    schema = step === '[]' ? (schema?.items as JsonSchema | undefined) : (schema?.properties as Record<string, JsonSchema> | undefined)?.[step];
  }
  if (!schema) throw new Error(`/openapi.json has no JSON schema for ${describeSpec(['', method, routePath, where, ...part])}`);
  return schema;
}

/** Where a spec's type comes from, for its doc comment: `GET /api/v1/inbox: 200, its \`events[]\``. */
export function describeSpec([, method, routePath, where, ...part]: TypeSpec): string {
  if (typeof where === 'object' && 'component' in where) return `components.schemas.${where.component}`;
  const inner = part.join('.').replaceAll('.[]', '[]');
  return `${method.toUpperCase()} ${routePath}: ${where === 'body' ? 'the request body' : where.status}${inner ? `, its \`${inner}\`` : ''}`;
}

/** TypeScript for the subset of JSON Schema (2020-12) that zod's toJSONSchema writes. */
export class TypeWriter {
  private readonly declared: { name: string; schema: JsonSchema; text: string }[] = [];
  /** The declared names the written types refer to. */
  readonly referenced = new Set<string>();

  declare(name: string, schema: JsonSchema): string {
    const type = this.typeOf(schema, '', true);
    this.declared.push({ name, schema, text: JSON.stringify(schema) });
    return type;
  }

  /** The name of a declared type with exactly this schema, if any (counted as referenced). */
  nameOf(schema: JsonSchema): string | undefined {
    const text = JSON.stringify(schema);
    const name = this.declared.find((d) => d.text === text)?.name;
    if (name) this.referenced.add(name);
    return name;
  }

  private typeOf(schema: JsonSchema, indent: string, top = false): string {
    if (!top) {
      const same = this.nameOf(schema);
      if (same) return same;
    }
    if ('const' in schema) return literal(schema.const);
    if (Array.isArray(schema.enum)) return schema.enum.map(literal).join(' | ');
    const union = (schema.anyOf ?? schema.oneOf) as JsonSchema[] | undefined;
    if (union) return union.map((member) => parenthesized(this.typeOf(member, indent))).join(' | ');
    if (Array.isArray(schema.type)) return schema.type.map((type) => this.typeOf({ ...schema, type }, indent)).join(' | ');
    switch (schema.type) {
      case 'string':
        return 'string';
      case 'number':
      case 'integer':
        return 'number';
      case 'boolean':
        return 'boolean';
      case 'null':
        return 'null';
      case 'array':
        return schema.items ? `${parenthesized(this.typeOf(schema.items as JsonSchema, indent))}[]` : 'unknown[]';
      case 'object':
        return this.objectType(schema, indent);
      default:
        return 'unknown';
    }
  }

  private objectType(schema: JsonSchema, indent: string): string {
    let properties = Object.entries((schema.properties ?? {}) as Record<string, JsonSchema>);
    const required = new Set((schema.required ?? []) as string[]);
    const extra = schema.additionalProperties;
    const extraType = extra === false ? undefined : extra === undefined || extra === true ? 'unknown' : this.typeOf(extra as JsonSchema, indent);
    if (properties.length === 0) return `Record<string, ${extraType ?? 'never'}>`;
    // The largest declared closed object whose every property this one has, alike.
    const base = this.declared
      .filter((d) => d.schema.type === 'object' && d.schema.additionalProperties === false && extra === false)
      .map((d) => ({ name: d.name, properties: Object.entries((d.schema.properties ?? {}) as Record<string, JsonSchema>), required: new Set((d.schema.required ?? []) as string[]) }))
      .filter(
        (d) =>
          d.properties.length >= 2 &&
          d.properties.every(([key, value]) => JSON.stringify((schema.properties as Record<string, JsonSchema>)[key]) === JSON.stringify(value) && required.has(key) === d.required.has(key)),
      )
      .sort((a, b) => b.properties.length - a.properties.length)[0];
    if (base) properties = properties.filter(([key]) => !base.properties.some(([baseKey]) => baseKey === key));
    const inner = `${indent}  `;
    const members = properties.map(([key, value]) => `${inner}${propertyName(key)}${required.has(key) ? '' : '?'}: ${this.typeOf(value, inner)};`);
    if (extraType) members.push(`${inner}[key: string]: ${extraType};`);
    const own = `{\n${members.join('\n')}\n${indent}}`;
    if (!base) return own;
    this.referenced.add(base.name);
    return members.length === 0 ? base.name : `${base.name} & ${own}`;
  }
}

export function literal(value: unknown): string {
  return typeof value === 'string' ? `'${value.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'` : JSON.stringify(value);
}

function propertyName(key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key) ? key : literal(key);
}

/** In parentheses when it is a union or intersection at its top level (so `[]` or `|` binds to all of it). */
function parenthesized(type: string): string {
  let depth = 0;
  for (let i = 0; i < type.length; i++) {
    const c = type[i];
    if (c === '{' || c === '(' || c === '[' || c === '<') depth++;
    else if (c === '}' || c === ')' || c === ']' || c === '>') depth--;
    else if (depth === 0 && (type.startsWith(' | ', i) || type.startsWith(' & ', i))) return `(${type})`;
  }
  return type;
}
