/**
 * Every refusal of the RA and of the operator routes carries its typed cause into the audit record
 * (`details.cause`), as the front door's refusals do: an operator's tools read the cause as data,
 * never out of the words. Over real HTTPS to the whole server in process.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { causeOf } from '../../src/contract/refusal-cause.js';
import { cli, tempDir } from '../helpers/cli.js';
import { call, type Reply } from '../helpers/http.js';
import { startTestServer, type TestServer } from '../helpers/instance.js';
import { opensslCsr } from '../helpers/openssl.js';

const ADMIN = { name: 'chief', password: 'Quarry-Lantern-5521-velvet', digest: false };
const tmp = tempDir('ra-refusal-causes');
let srv: TestServer;
const basic = `Basic ${Buffer.from(`${ADMIN.name}:${ADMIN.password}`).toString('base64')}`;

before(async () => {
  srv = await startTestServer({ 'ra.autosign': '*.auto.example' }, { admin: ADMIN });
});
after(async () => {
  await srv.close();
  tmp.remove();
});

function submit(csr: string, authorization?: string): Promise<Reply> {
  return call(`${srv.url}/v1/requests`, {
    method: 'POST',
    ca: srv.caPem,
    body: JSON.stringify({ csr }),
    headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
  });
}

function asAdmin(path: string, method = 'GET', body?: unknown): Promise<Reply> {
  return call(`${srv.url}${path}`, {
    method,
    ca: srv.caPem,
    headers: { authorization: basic, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

/** The refusal's record under the answer's request id, and its typed cause. */
async function typedCause(reply: Reply, status: number, reason: string): Promise<Record<string, unknown>> {
  assert.equal(reply.status, status, reply.text);
  assert.equal(reply.json.reason, reason);
  const records = await srv.instance.store.queryAudit({ requestId: String(reply.json.request_id) });
  const refusal = records.find((r) => r.reason === reason);
  assert.ok(refusal, JSON.stringify(records));
  const cause = causeOf(refusal.details);
  assert.ok(cause, `a typed cause on ${JSON.stringify(refusal)}`);
  return cause as unknown as Record<string, unknown>;
}

test('csr_invalid: a CSR whose signature is wrong', async () => {
  const { csrPem } = opensslCsr(tmp.path, 'sig', '/CN=sig.auto.example');
  const der = Buffer.from(csrPem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
  der[der.length - 1] = (der[der.length - 1] ?? 0) ^ 0xff;
  const forged = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`;
  const cause = await typedCause(await submit(forged), 400, 'csr_invalid');
  assert.equal(cause.code, 'csr_rejected');
  assert.equal(typeof cause.field, 'string');
});

test('name_not_allowed: an enrollment token asked for a name outside its pattern', async () => {
  const made = cli(['token', 'create', '--enroll', '*.tok.example', '--data', srv.dataDir]);
  assert.equal(made.code, 0, made.stderr);
  const { csrPem } = opensslCsr(tmp.path, 'outside', '/CN=a.tok.example', {
    sans: ['DNS:b.elsewhere.example'],
  });
  const cause = await typedCause(
    await submit(csrPem, `Bearer ${made.stdout.trim()}`),
    403,
    'name_not_allowed',
  );
  assert.equal(cause.code, 'names_not_covered');
  assert.equal(cause.by, 'name_patterns');
  assert.deepEqual(cause.allowed, ['*.tok.example']);
  assert.deepEqual(cause.outside, ['b.elsewhere.example']);
});

test('not_found: a certificate serial nobody holds', async () => {
  const cause = await typedCause(await asAdmin('/v1/certificates/0abc'), 404, 'not_found');
  assert.deepEqual(cause, { code: 'object_unknown', kind: 'certificate', id: '0abc' });
});

test('invalid_argument: a listing cursor this server never gave', async () => {
  const cause = await typedCause(await asAdmin('/v1/certificates?cursor=forged'), 400, 'invalid_argument');
  assert.equal(cause.code, 'argument_invalid');
  assert.equal(cause.argument, 'cursor');
});

test('invalid_argument: a revocation reason RFC 5280 does not have', async () => {
  const { csrPem } = opensslCsr(tmp.path, 'revokee', '/CN=revokee.auto.example');
  const issued = await submit(csrPem);
  assert.equal(issued.status, 201, issued.text);
  const serial = String(
    (issued.json.certificate as { serial?: string } | undefined)?.serial ?? issued.json.serial,
  );
  const cause = await typedCause(
    await asAdmin(`/v1/certificates/${serial}/revoke`, 'POST', { reason: 'boredom' }),
    400,
    'invalid_argument',
  );
  assert.equal(cause.code, 'argument_invalid');
  assert.equal(cause.argument, 'reason');
});

test('not_pending: approving a request that was signed already', async () => {
  const { csrPem } = opensslCsr(tmp.path, 'signed', '/CN=signed.auto.example');
  const issued = await submit(csrPem);
  assert.equal(issued.status, 201, issued.text);
  const id = String((issued.json.request as { id?: string } | undefined)?.id ?? issued.json.id);
  const cause = await typedCause(await asAdmin(`/v1/requests/${id}/approve`, 'POST', {}), 409, 'not_pending');
  assert.equal(cause.code, 'request_not_pending');
  assert.equal(cause.request, id);
});
