/**
 * Every reason has an advisor (the compiler checks the Record), and no advice names a command
 * that does not exist: each `certmaster X Y` it prints is a command the CLI registers.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Command } from 'commander';
import type { AuditRecord } from '../../src/audit/types.js';
import { registerAgent } from '../../src/cli/agent.js';
import { registerAudit } from '../../src/cli/audit.js';
import { registerCa } from '../../src/cli/ca.js';
import { registerClient } from '../../src/cli/client.js';
import { registerConfig } from '../../src/cli/config.js';
import { registerDoctor } from '../../src/cli/doctor.js';
import { registerExpiring } from '../../src/cli/expiring.js';
import { registerExplain } from '../../src/cli/explain.js';
import { registerInit } from '../../src/cli/init.js';
import { registerRenew } from '../../src/cli/renew.js';
import { registerRequest } from '../../src/cli/request.js';
import { registerServe } from '../../src/cli/serve.js';
import { registerSession } from '../../src/cli/session.js';
import { registerToken } from '../../src/cli/token.js';
import { registerUser } from '../../src/cli/user.js';
import { REASONS } from '../../src/contract/refusals.js';
import { adviceFor, diagnoseHost, renderHostDiagnosis } from '../../src/ops/explain/index.js';

function cliCommands(): Set<string> {
  const program = new Command();
  for (const register of [
    registerInit,
    registerServe,
    registerCa,
    registerConfig,
    registerRequest,
    registerRenew,
    registerAgent,
    registerSession,
    registerUser,
    registerToken,
    registerClient,
    registerAudit,
    registerExpiring,
    registerExplain,
    registerDoctor,
  ]) {
    register(program);
  }
  const names = new Set<string>();
  for (const c of program.commands) {
    names.add(c.name());
    for (const sub of c.commands) names.add(`${c.name()} ${sub.name()}`);
  }
  return names;
}

/** Every `certmaster WORD [WORD]` in a text names a registered command. */
function assertCommandsExist(text: string, commands: Set<string>, where: string): void {
  for (const m of text.matchAll(/`?certmaster ([a-z-]+)(?: ([a-z-]+))?/g)) {
    const [, first = '', second] = m;
    if (
      !/^[a-z]/.test(first) ||
      [
        'has',
        'and',
        'refuses',
        'needs',
        'names',
        'made',
        'had',
        'answers',
        'key',
        'servers',
        'server',
        'replicas',
        'itself',
      ].includes(first)
    )
      continue;
    const hasSubcommands = [...commands].some((c) => c.startsWith(`${first} `));
    const ok =
      commands.has(first) && (!hasSubcommands || second === undefined || commands.has(`${first} ${second}`));
    assert.ok(ok, `${where}: "certmaster ${first}${second ? ` ${second}` : ''}" is no command`);
  }
}

function record(reason: string, fields: Partial<AuditRecord> = {}): AuditRecord {
  return {
    seq: 1,
    prevHash: '',
    hash: '',
    at: new Date('2026-01-01T00:00:00Z'),
    requestId: 'r1',
    kind: 'auth.attempt',
    phase: 'decision',
    outcome: 'failure',
    reason,
    principal: null,
    claimedName: 'alice',
    method: 'basic',
    credentialId: null,
    clientAddress: '192.0.2.1',
    cause: '',
    told: { status: 401, detail: '', hint: '' },
    target: 'web.example.com',
    details: {},
    ...fields,
  };
}

test('every reason has advice, and advice names only existing commands', () => {
  const commands = cliCommands();
  assert.ok(commands.has('ca clean') && commands.has('token create'));
  const ctx = { dataDir: '/var/lib/certmaster', server: 'https://ca.example.com:8443' };
  for (const reason of REASONS) {
    const advice = adviceFor(record(reason), ctx);
    assert.ok(advice, reason);
    assertCommandsExist(`${advice.fix} ${advice.command ?? ''}`, commands, reason);
  }
});

test('host advice: an expiring certificate is renewed with certmaster renew and kept fresh by the agent', () => {
  const commands = cliCommands();
  const ctx = { dataDir: '/var/lib/certmaster', server: 'https://ca.example.com:8443' };
  const now = new Date('2026-06-01T00:00:00Z');
  const cert = (notAfter: string) => ({
    serial: '01',
    requestId: null,
    commonName: 'web.example.com',
    dnsNames: [],
    ipAddresses: [],
    notBefore: new Date('2026-01-01T00:00:00Z'),
    notAfter: new Date(notAfter),
    certificatePem: '',
    createdAt: new Date('2026-01-01T00:00:00Z'),
    revokedAt: null,
    revocationReason: null,
  });
  for (const notAfter of ['2026-05-01T00:00:00Z', '2026-06-10T00:00:00Z']) {
    const text = renderHostDiagnosis(diagnoseHost('web.example.com', [], [cert(notAfter)], [], ctx, now));
    assert.match(text, /certmaster agent/);
    assertCommandsExist(text, commands, notAfter);
  }
  const expiring = renderHostDiagnosis(
    diagnoseHost('web.example.com', [], [cert('2026-06-10T00:00:00Z')], [], ctx, now),
  );
  assert.match(expiring, /Run: certmaster renew --cert CERT --key KEY --server/);
});
