/** Starts certmaster from the built dist/ on a fresh data directory with autosign on, as an operator would. */
import { join } from 'node:path';
import { type ProcessGroup, type Started, waitForOutput } from './processes.js';

export interface CertmasterServer {
  url: string;
  caFile: string;
  started: Started;
}

const CLI_TIMEOUT_MS = 60_000;
const START_TIMEOUT_MS = 30_000;

export async function startCertmaster(
  processes: ProcessGroup,
  options: { repo: string; dataDir: string; profileDir: string | null; settings?: Record<string, string> },
): Promise<CertmasterServer> {
  const cli = join(options.repo, 'bin', 'certmaster.js');
  const data = ['--data', options.dataDir];
  const run = { cwd: options.repo, timeoutMs: CLI_TIMEOUT_MS };
  await processes.run(process.execPath, [cli, 'init', ...data], run);
  await processes.run(process.execPath, [cli, 'config', 'set', 'ra.autosign', 'all', ...data], run);
  for (const [key, value] of Object.entries(options.settings ?? {}))
    await processes.run(process.execPath, [cli, 'config', 'set', key, value, ...data], run);
  const profile = options.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${options.profileDir}`] : [];
  const started = processes.start(
    process.execPath,
    [...profile, cli, 'serve', ...data, '--listen', '127.0.0.1:0', '--log-level', 'warn'],
    { cwd: options.repo },
  );
  const match = await waitForOutput(
    started,
    /certmaster serving (https:\/\/127\.0\.0\.1:\d+)/,
    START_TIMEOUT_MS,
  );
  return { url: match[1]!, caFile: join(options.dataDir, 'ca', 'ca.pem'), started };
}
