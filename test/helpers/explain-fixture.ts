/**
 * For tests of `explain`'s advice from typed refusal causes: a fresh data directory and instance for
 * the enclosing `describe`, records appended as the server appends them, and the check every such test
 * makes (reworded words keep the advice; the old words without a typed cause do not give it).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { appendAuditEvents } from '../../src/audit/linked-records.js';
import type { AuditEvent } from '../../src/audit/types.js';
import type { RefusalCause } from '../../src/contract/refusal-cause.js';
import type { Reason } from '../../src/contract/refusals.js';
import { initDataDir } from '../../src/instance/init.js';
import { type Instance, openInstance } from '../../src/instance/open.js';
import { explainRequest, renderRequestStory } from '../../src/ops/explain/index.js';
import { systemClock } from '../../src/types.js';
import { tempDir } from './cli.js';

export interface ExplainFixture {
  /** Appends the record, then answers `explain ID` for it as the CLI prints it. */
  advice(event: AuditEvent): Promise<string>;
}

/** Registers the before/after hooks of the enclosing describe block. */
export function explainFixture(name: string): ExplainFixture {
  const tmp = tempDir(name);
  const dataDir = join(tmp.path, 'data');
  let instance: Instance;
  before(async () => {
    await initDataDir({
      dataDir,
      keyType: 'ec-p256',
      caSubject: `CN=${name} CA`,
      caValidityDays: 365,
      serverValidityDays: 90,
      serverNames: [],
      clock: systemClock,
    });
    instance = await openInstance(dataDir);
  });
  after(async () => {
    await instance.close();
    tmp.remove();
  });
  return {
    async advice(event) {
      await appendAuditEvents(instance.store, [event]);
      const story = await explainRequest(instance.store, event.requestId, { dataDir, server: null });
      assert.ok(story);
      return renderRequestStory(story);
    },
  };
}

export interface TypedCauseCase {
  reason: Reason;
  typed: RefusalCause;
  /** The words records carried before the cause was typed. */
  oldWords: string;
  expect: RegExp;
}

/** A refusal record: request id, reason, the cause's words, and the typed cause when there is one. */
export type RecordMaker = (
  requestId: string,
  reason: Reason,
  words: string,
  typed?: RefusalCause,
) => AuditEvent;

export const REWORDED = 'reworded by a later version';

/** A front-door refusal of `GET /v1/whoami` by alice's Bearer token, as the server records one. */
export const frontDoorRefusal: RecordMaker = (requestId, reason, words, typed) => ({
  at: new Date(),
  requestId,
  kind: 'auth.attempt',
  phase: 'decision',
  outcome: 'failure',
  reason,
  principal: null,
  claimedName: 'alice',
  method: 'bearer',
  credentialId: null,
  clientAddress: '192.0.2.10',
  cause: words,
  told: { status: 401, detail: 'refused', hint: 'check' },
  target: 'GET /v1/whoami',
  details: typed ? { cause: typed } : {},
});

/** One test per case: reworded text keeps the advice, the old words alone do not give it. */
export function typedCauseTests(
  fixture: ExplainFixture,
  prefix: string,
  cases: ReadonlyArray<TypedCauseCase & { make?: RecordMaker }>,
  make: RecordMaker,
): void {
  for (const [index, c] of cases.entries()) {
    const record = c.make ?? make;
    test(`${c.reason} ${c.typed.code}: reworded text keeps the advice, the old words alone do not give it`, async () => {
      const typed = await fixture.advice(record(`${prefix}-typed-${index}`, c.reason, REWORDED, c.typed));
      assert.match(typed, c.expect);
      // The same words the server used to write, without a typed cause: the general advice, no guess.
      const untyped = await fixture.advice(record(`${prefix}-untyped-${index}`, c.reason, c.oldWords));
      assert.doesNotMatch(untyped, c.expect);
    });
  }
}
