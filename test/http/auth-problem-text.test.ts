/**
 * An authentication refusal's problem body is written as text (authProblemText), no longer serialised
 * from an object by the Problem schema: for any strings, the bytes must be those the schema's
 * serialiser wrote, and those of JSON.stringify (routes without the schema), with the same headers.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import Fastify, { type FastifyInstance } from 'fastify';
import { REASONS, REFUSALS, type Reason } from '../../src/contract/refusals.js';
import { authProblemText } from '../../src/http/auth-refusal.js';
import { type Problem, problemSchema, sendProblem, sendProblemText } from '../../src/http/problem.js';
import { registerSharedSchemas } from '../../src/http/shared-schemas.js';

let app: FastifyInstance;
let current: Problem;
let currentReason: Reason;

before(async () => {
  app = Fastify({ logger: false });
  registerSharedSchemas(app);
  const errors = { '4xx': problemSchema, '5xx': problemSchema } as const;
  app.get('/object', { schema: { response: errors } }, (_request, reply) => sendProblem(reply, current));
  app.get('/text', { schema: { response: errors } }, (_request, reply) =>
    sendProblemText(reply, current.status, current.reason, authProblemText(currentReason, current)),
  );
  await app.ready();
});
after(() => app.close());

/** Any string, with what JSON must escape made likely: quotes, backslashes, controls, lone surrogates. */
const text = fc.oneof(
  fc.string({ unit: 'binary' }),
  fc.string({
    unit: fc.constantFrom('"', '\\', '\n', '\u0000', '\u001f', '\u2028', '\ud800', '\udfff', 'a', 'é', '😀'),
  }),
  fc.string({ unit: 'grapheme', maxLength: 80 }),
);

describe('authProblemText', () => {
  it('writes the bytes and headers the Problem schema wrote for the same problem', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...REASONS),
        text,
        text,
        text,
        fc.option(text, { nil: undefined }),
        fc.option(text, { nil: undefined }),
        async (reason, detail, hint, requestId, instance, scope) => {
          const { status, title } = REFUSALS[reason];
          currentReason = reason;
          current = {
            type: `urn:certmaster:problem:${reason}`,
            title,
            status,
            detail,
            reason,
            hint,
            request_id: requestId,
            ...(instance !== undefined ? { instance } : {}),
            ...(scope !== undefined ? { scope } : {}),
          };
          const before = await app.inject({ method: 'GET', url: '/object' });
          const now = await app.inject({ method: 'GET', url: '/text' });
          assert.equal(now.statusCode, before.statusCode);
          assert.equal(now.headers['content-type'], before.headers['content-type']);
          assert.equal(now.headers['content-length'], before.headers['content-length']);
          assert.equal(now.body, before.body);
          assert.equal(now.body, JSON.stringify(current));
        },
      ),
      { numRuns: 300 },
    );
  });
});
