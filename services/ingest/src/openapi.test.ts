import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '@triggers/all-in-one/test-server';
import { MAX_BATCH_EVENTS } from './schemas.ts';

/** Every status API.md lists for both ingest routes, with the codes it stands for. */
const DOCUMENTED_ERRORS: Record<string, string[]> = {
  400: ['invalid_json', 'invalid_request'],
  401: ['unauthorized'],
  409: ['idempotency_key_in_progress'],
  413: ['payload_too_large'],
  415: ['unsupported_media_type'],
  422: ['idempotency_key_reused'],
  429: ['rate_limited'],
  431: ['request_header_too_large'],
  503: ['unavailable'],
};

describe('GET /openapi.json for the ingest routes', () => {
  let server: TestServer;
  let document: any;
  before(async () => {
    server = await startTestServer();
    const response = await server.request('GET', '/openapi.json');
    assert.equal(response.status, 200);
    document = response.body;
  });
  after(async () => {
    await server?.close();
  });

  for (const [path, operationId] of [
    ['/api/v1/events', 'createEvent'],
    ['/api/v1/events/batch', 'createEventBatch'],
  ] as const) {
    describe(`POST ${path}`, () => {
      const operation = () => document.paths[path]?.post;

      it('is documented, authenticated with an API key, under Ingestion', () => {
        assert.ok(operation(), `POST ${path} is missing`);
        assert.equal(operation().operationId, operationId);
        assert.deepEqual(operation().security, [{ apiKey: [] }]);
        assert.deepEqual(operation().tags, ['Ingestion']);
      });

      it('documents 202 with its body and the RateLimit headers', () => {
        const accepted = operation().responses['202'];
        assert.ok(accepted.content['application/json'].schema);
        assert.deepEqual(Object.keys(accepted.headers).sort(), ['RateLimit-Limit', 'RateLimit-Remaining', 'RateLimit-Reset']);
      });

      it('documents every error status of the contract as problem+json, naming its codes', () => {
        const documented = Object.keys(operation().responses).filter((status) => status !== '202').sort();
        assert.deepEqual(documented, Object.keys(DOCUMENTED_ERRORS).sort());
        for (const [status, codes] of Object.entries(DOCUMENTED_ERRORS)) {
          const documented = operation().responses[status];
          const response = documented.$ref ? document.components.responses[documented.$ref.split('/').pop()] : documented;
          assert.deepEqual(response.content['application/problem+json'].schema, { $ref: '#/components/schemas/Problem' }, status);
          for (const code of codes) assert.ok(response.description.includes(code), `${status} does not name ${code}: ${response.description}`);
        }
      });

      it('documents the optional Idempotency-Key header with the rule the handler enforces', () => {
        const header = operation().parameters.find((p: { in: string; name: string }) => p.in === 'header' && p.name === 'Idempotency-Key');
        assert.ok(header);
        assert.equal(header.required, false);
        assert.equal(header.schema.minLength, 1);
        assert.equal(header.schema.maxLength, 255);
        const printable = new RegExp(header.schema.pattern);
        assert.ok(printable.test('order-12345 ~!'));
        assert.equal(printable.test('ключ'), false);
        assert.equal(printable.test('tab\there'), false);
      });
    });
  }

  it('describes the single event body: a required payload object, nothing else', () => {
    const body = document.paths['/api/v1/events'].post.requestBody;
    assert.equal(body.required, true);
    const schema = body.content['application/json'].schema;
    assert.deepEqual(schema.required, ['payload']);
    assert.equal(schema.additionalProperties, false);
    assert.equal(schema.properties.payload.type, 'object');
    const accepted = document.paths['/api/v1/events'].post.responses['202'].content['application/json'].schema;
    assert.deepEqual([...accepted.required].sort(), ['event_id', 'message', 'status', 'timestamp']);
    assert.equal(accepted.properties.status.const, 'accepted');
  });

  it(`describes the batch body: 1–${MAX_BATCH_EVENTS} events, each a payload object`, () => {
    const schema = document.paths['/api/v1/events/batch'].post.requestBody.content['application/json'].schema;
    assert.deepEqual(schema.required, ['events']);
    assert.equal(schema.additionalProperties, false);
    assert.equal(schema.properties.events.minItems, 1);
    assert.equal(schema.properties.events.maxItems, MAX_BATCH_EVENTS);
    assert.deepEqual(schema.properties.events.items.required, ['payload']);
    const accepted = document.paths['/api/v1/events/batch'].post.responses['202'].content['application/json'].schema;
    assert.deepEqual([...accepted.properties.events.items.required].sort(), ['event_id', 'status', 'timestamp']);
  });

  it('the Problem schema has the five members, and the batch errors list', () => {
    const problem = document.components.schemas.Problem;
    assert.deepEqual([...problem.required].sort(), ['code', 'detail', 'status', 'title', 'type']);
    assert.deepEqual(problem.properties.errors.items.required.sort(), ['detail', 'index']);
    for (const codes of Object.values(DOCUMENTED_ERRORS)) {
      for (const code of codes) assert.ok(problem.properties.code.enum.includes(code), code);
    }
  });
});
