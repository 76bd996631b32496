/** The real openssl CLI, as a third party nobody here wrote. */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export function openssl(args: string[], input?: string): { code: number; stdout: string; stderr: string } {
  const r = spawnSync('openssl', args, { encoding: 'utf8', input, timeout: 60_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/**
 * openssl without blocking the event loop: needed when the server it talks to (s_client) runs in
 * this same process.
 */
export function opensslAsync(
  args: string[],
  input?: string | Buffer,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('openssl', args, { stdio: ['pipe', 'pipe', 'pipe'], timeout: 60_000 });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => {
      stdout += c;
    });
    child.stderr.setEncoding('utf8').on('data', (c: string) => {
      stderr += c;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(input);
  });
}

/** A key and CSR made by openssl; `keyAlg` is an openssl -newkey argument such as "ec" or "rsa:2048". */
export function opensslCsr(
  dir: string,
  name: string,
  subject: string,
  options: { keyAlg?: string; sans?: string[] } = {},
): { csrPem: string; keyPath: string } {
  const keyPath = join(dir, `${name}.key`);
  const csrPath = join(dir, `${name}.csr`);
  const keyArgs =
    (options.keyAlg ?? 'ec') === 'ec'
      ? ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256']
      : ['-newkey', options.keyAlg ?? 'ec'];
  const args = ['req', '-new', ...keyArgs, '-nodes', '-keyout', keyPath, '-out', csrPath, '-subj', subject];
  if (options.sans && options.sans.length > 0)
    args.push('-addext', `subjectAltName=${options.sans.join(',')}`);
  execFileSync('openssl', args, { stdio: 'pipe' });
  return { csrPem: execFileSync('cat', [csrPath], { encoding: 'utf8' }), keyPath };
}

export function writeTemp(dir: string, name: string, content: string): string {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
}
