/**
 * The problem body and the request view are shared JSON schemas (addSchema, named by `$ref`): the
 * OpenAPI document lists each once under components.schemas, every route names that one, and the
 * serialiser still writes every member of a refusal's problem body through the reference.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { call } from '../helpers/http.js';
import { startTestServer, type TestServer } from '../helpers/instance.js';

interface OpenApi {
  components?: { schemas?: Record<string, { properties?: Record<string, unknown> }> };
  paths: Record<string, Record<string, { responses?: Record<string, unknown> }>>;
}

describe('shared schemas', () => {
  let server: TestServer;
  let doc: OpenApi;

  before(async () => {
    server = await startTestServer();
    const reply = await call(`${server.url}/openapi.json`, { ca: server.caPem });
    assert.equal(reply.status, 200, reply.text);
    doc = JSON.parse(reply.text) as OpenApi;
  });
  after(() => server.close());

  test('the OpenAPI document holds Problem and RequestView once, by name', () => {
    const schemas = doc.components?.schemas ?? {};
    assert.ok(schemas.Problem?.properties?.reason, JSON.stringify(Object.keys(schemas)));
    assert.ok(schemas.RequestView?.properties?.common_name);
    assert.equal(
      Object.keys(schemas).filter((name) => /^def-\d+$/.test(name)).length,
      0,
      'every shared schema is named by its $id',
    );
  });

  test('every route names the shared schemas instead of carrying a copy', () => {
    const text = JSON.stringify(doc.paths);
    const problemRefs = text.match(/#\/components\/schemas\/Problem"/g) ?? [];
    assert.ok(problemRefs.length >= 10, `routes refer to Problem (${problemRefs.length} references)`);
    assert.match(text, /#\/components\/schemas\/RequestView"/);
    // A copy would carry the problem body's members inline (`instance` is the problem body's own).
    assert.doesNotMatch(text, /"instance":\{"type":"string"\}/);
    const submit = JSON.stringify(doc.paths['/v1/requests']?.post?.responses ?? {});
    assert.match(submit, /RequestView/);
    assert.match(submit, /Problem/);
  });

  test('a refusal through the shared schema keeps every member of its problem body', async () => {
    const reply = await call(`${server.url}/v1/requests`, {
      method: 'POST',
      ca: server.caPem,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ csr: 'not a CSR' }),
    });
    assert.ok(reply.status >= 400 && reply.status < 500, reply.text);
    for (const member of ['type', 'title', 'status', 'detail', 'reason', 'hint', 'request_id']) {
      assert.ok(member in reply.json, `${member} in ${reply.text}`);
    }
  });
});
