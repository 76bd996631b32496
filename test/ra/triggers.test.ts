import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type TriggerEvent, TriggerRunner } from '../../src/ra/triggers.js';

let root: string;

before(() => {
  root = mkdtempSync(join(tmpdir(), 'certmaster-triggers-'));
});
after(() => rmSync(root, { recursive: true, force: true }));

/** A triggers directory and a scratch directory the scripts write into. */
function setup(): { dir: string; out: string } {
  const base = mkdtempSync(join(root, 't-'));
  const dir = join(base, 'triggers');
  const out = join(base, 'out');
  mkdirSync(dir);
  mkdirSync(out);
  return { dir, out };
}

function trigger(dir: string, path: string, body: string, mode = 0o755): void {
  const file = join(dir, path);
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(file, `#!/bin/sh\n${body}\n`);
  chmodSync(file, mode);
}

class RecordingLogger {
  readonly warnings: Array<{ obj: object; msg: string }> = [];
  warn(obj: object, msg: string): void {
    this.warnings.push({ obj, msg });
  }
}

const signPre: TriggerEvent = {
  event: 'sign',
  phase: 'pre',
  commonName: 'web1.example.com',
  names: ['web1.example.com', 'www.example.com'],
  requestId: 'req-123',
  requester: 'anonymous',
};

/** Gone, or a zombie waiting for its new parent to reap it: either way it no longer runs. */
function processIsGone(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}

describe('TriggerRunner', () => {
  it('is ok, and runs nothing, when the triggers directory does not exist', async () => {
    const runner = new TriggerRunner({ dir: join(root, 'no-such-dir'), timeoutMs: 1000 });
    assert.deepEqual(await runner.run(signPre), { ok: true });
    assert.deepEqual(await runner.run({ ...signPre, phase: 'post' }), { ok: true });
  });

  it('awaits beforeRunning before the first trigger runs, and only when one will', async () => {
    const { dir, out } = setup();
    const runner = new TriggerRunner({ dir, timeoutMs: 5000, absentCacheMs: 0 });
    const calls: string[] = [];
    const beforeRunning = async () => {
      await new Promise((resolve) => setTimeout(resolve, 20));
      calls.push(existsSync(join(out, 'ran')) ? 'after the trigger' : 'before the trigger');
    };
    assert.deepEqual(await runner.run(signPre, beforeRunning), { ok: true });
    assert.deepEqual(calls, [], 'no trigger, no call');
    trigger(dir, 'sign/pre/10-mark', `touch ${join(out, 'ran')}`);
    trigger(dir, 'sign/pre/20-mark', 'exit 0');
    assert.deepEqual(await runner.run(signPre, beforeRunning), { ok: true });
    assert.deepEqual(calls, ['before the trigger'], 'once, before the first');
  });

  it('lets a pre trigger veto with the last line it wrote to stderr', async () => {
    const { dir } = setup();
    trigger(
      dir,
      'sign/pre/10-inventory',
      'echo checking >&2\necho "host not in inventory: $CERTMASTER_CN" >&2\necho >&2\nexit 3',
    );
    const runner = new TriggerRunner({ dir, timeoutMs: 5000 });
    assert.deepEqual(await runner.run(signPre), {
      ok: false,
      trigger: '10-inventory',
      message: 'host not in inventory: web1.example.com',
    });
  });

  it('falls back to stdout, strips control characters and bounds the message', async () => {
    const { dir } = setup();
    trigger(dir, 'sign/pre/a', `printf '\\033[31mred %s\\n' "$(printf 'x%.0s' $(seq 1 400))"; exit 1`);
    trigger(dir, 'request/pre/silent', 'exit 4');
    const runner = new TriggerRunner({ dir, timeoutMs: 5000 });
    const outcome = await runner.run(signPre);
    assert.equal(outcome.ok, false);
    if (!outcome.ok) {
      assert.equal(outcome.message.length, 300);
      assert.ok(outcome.message.startsWith('[31mred xxx'));
      // biome-ignore lint/suspicious/noControlCharactersInRegex: asserting none are present
      assert.doesNotMatch(outcome.message, /[\u0000-\u001f]/);
    }
    assert.deepEqual(await runner.run({ ...signPre, event: 'request' }), {
      ok: false,
      trigger: 'silent',
      message: 'exited with status 4 and printed nothing',
    });
  });

  it('describes the event in the environment and passes no other secret from the parent', async () => {
    const { dir, out } = setup();
    trigger(dir, 'revoke/post/dump', `env > '${join(out, 'env')}'\npwd > '${join(out, 'cwd')}'`);
    process.env.CERTMASTER_TEST_SECRET = 'hunter2';
    try {
      const runner = new TriggerRunner({ dir, timeoutMs: 5000 });
      const outcome = await runner.run({
        event: 'revoke',
        phase: 'post',
        commonName: 'db1.example.com',
        names: ['db1.example.com', '192.0.2.1'],
        serial: '0a1b2c',
        reason: 'keyCompromise',
      });
      assert.deepEqual(outcome, { ok: true });
    } finally {
      delete process.env.CERTMASTER_TEST_SECRET;
    }
    const env = Object.fromEntries(
      readFileSync(join(out, 'env'), 'utf8')
        .trim()
        .split('\n')
        .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
    );
    assert.equal(env.CERTMASTER_EVENT, 'revoke');
    assert.equal(env.CERTMASTER_PHASE, 'post');
    assert.equal(env.CERTMASTER_CN, 'db1.example.com');
    assert.equal(env.CERTMASTER_NAMES, 'db1.example.com,192.0.2.1');
    assert.equal(env.CERTMASTER_SERIAL, '0a1b2c');
    assert.equal(env.CERTMASTER_REASON, 'keyCompromise');
    assert.equal(env.PATH, process.env.PATH);
    assert.equal(env.CERTMASTER_REQUEST_ID, undefined, 'only the variables that apply are set');
    assert.equal(env.CERTMASTER_REQUESTER, undefined);
    assert.equal(env.CERTMASTER_TEST_SECRET, undefined, "the parent's secret must not reach a trigger");
    assert.doesNotMatch(readFileSync(join(out, 'env'), 'utf8'), /hunter2/);
    assert.equal(readFileSync(join(out, 'cwd'), 'utf8').trim(), dir);
  });

  it('runs triggers in lexical order, skipping hidden and non-executable files', async () => {
    const { dir, out } = setup();
    const log = join(out, 'order');
    for (const name of ['20-b', '10-a', '3-c', 'B-upper'])
      trigger(dir, `clean/pre/${name}`, `echo ${name} >> '${log}'`);
    trigger(dir, 'clean/pre/.hidden', `echo hidden >> '${log}'`);
    trigger(dir, 'clean/pre/15-not-executable', `echo not-executable >> '${log}'`, 0o644);
    mkdirSync(join(dir, 'clean/pre/17-a-directory'));
    const runner = new TriggerRunner({ dir, timeoutMs: 5000 });
    assert.deepEqual(await runner.run({ event: 'clean', phase: 'pre', commonName: 'old.example.com' }), {
      ok: true,
    });
    assert.deepEqual(readFileSync(log, 'utf8').trim().split('\n'), ['10-a', '20-b', '3-c', 'B-upper']);
  });

  it('stops at the first veto: later pre triggers do not run', async () => {
    const { dir, out } = setup();
    trigger(dir, 'reject/pre/1-no', 'echo "rejections are frozen" >&2; exit 1');
    trigger(dir, 'reject/pre/2-after', `touch '${join(out, 'ran')}'`);
    const runner = new TriggerRunner({ dir, timeoutMs: 5000 });
    const outcome = await runner.run({ event: 'reject', phase: 'pre', commonName: 'x.example.com' });
    assert.deepEqual(outcome, { ok: false, trigger: '1-no', message: 'rejections are frozen' });
    assert.equal(existsSync(join(out, 'ran')), false);
  });

  it('kills a hanging pre trigger and its children after the timeout, as a veto', {
    timeout: 15_000,
  }, async () => {
    const { dir, out } = setup();
    const pidFile = join(out, 'sleep.pid');
    trigger(dir, 'sign/pre/hang', `sleep 30 &\necho $! > '${pidFile}'\nwait`);
    const runner = new TriggerRunner({ dir, timeoutMs: 300 });
    assert.deepEqual(await runner.run(signPre), {
      ok: false,
      trigger: 'hang',
      message: 'timed out after 0.3 s',
    });
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    assert.ok(pid > 0);
    assert.ok(processIsGone(pid), `the trigger's sleep (pid ${pid}) is still running`);
  });

  it('logs a failing or hanging post trigger and never changes the outcome', {
    timeout: 15_000,
  }, async () => {
    const { dir, out } = setup();
    trigger(dir, 'sign/post/1-fails', 'echo "could not notify the inventory" >&2; exit 1');
    trigger(dir, 'sign/post/2-hangs', 'sleep 30');
    trigger(dir, 'sign/post/3-runs', `touch '${join(out, 'ran')}'`);
    const logger = new RecordingLogger();
    const runner = new TriggerRunner({ dir, timeoutMs: 300, logger });
    assert.deepEqual(await runner.run({ ...signPre, phase: 'post', serial: '01' }), { ok: true });
    assert.equal(existsSync(join(out, 'ran')), true, 'later post triggers still run');
    assert.deepEqual(
      logger.warnings.map((w) => w.obj),
      [
        {
          trigger: '1-fails',
          event: 'sign',
          phase: 'post',
          commonName: 'web1.example.com',
          message: 'could not notify the inventory',
        },
        {
          trigger: '2-hangs',
          event: 'sign',
          phase: 'post',
          commonName: 'web1.example.com',
          message: 'timed out after 0.3 s',
        },
      ],
    );
  });

  it('vetoes in pre phase when a trigger cannot be executed', async () => {
    const { dir } = setup();
    const file = join(dir, 'request/pre/broken');
    mkdirSync(join(dir, 'request/pre'), { recursive: true });
    writeFileSync(file, '#!/nonexistent/interpreter\n');
    chmodSync(file, 0o755);
    const runner = new TriggerRunner({ dir, timeoutMs: 5000 });
    const outcome = await runner.run({ event: 'request', phase: 'pre', commonName: 'a.example.com' });
    assert.deepEqual(outcome, {
      ok: false,
      trigger: 'broken',
      message:
        'could not be executed: ENOENT (the file or the interpreter named on its #! line does not exist)',
    });
  });

  it('notices a phase directory created after it was found missing, once the cache expires', async () => {
    const { dir } = setup();
    const runner = new TriggerRunner({ dir, timeoutMs: 5000, absentCacheMs: 0 });
    assert.deepEqual(await runner.run(signPre), { ok: true });
    trigger(dir, 'sign/pre/no', 'echo nope >&2; exit 1');
    assert.deepEqual(await runner.run(signPre), { ok: false, trigger: 'no', message: 'nope' });
  });
});
