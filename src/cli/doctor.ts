/** `certmaster doctor`: find the misconfigurations that cause 401s before users do. */
import type { Command } from 'commander';
import { dataLayout } from '../instance/layout.js';
import { doctorFailed, renderDoctor, runDoctor } from '../ops/doctor/index.js';
import { CliError, printJson } from './output.js';

interface DoctorFlags {
  data: string;
  peer?: string;
  json?: boolean;
}

export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .description('check a data directory for misconfigurations that make sign-ins fail, each with its fix')
    .requiredOption('--data <dir>', 'data directory')
    .option('--peer <url>', 'compare this clock with the Date header of another server (e.g. a replica)')
    .option('--json', 'machine-readable output: an array of { check, status, message, fix }')
    .addHelpText(
      'after',
      `
Checks: the configuration loads; Basic is not offered on a plain-HTTP listener other machines
reach; digest secrets match auth.realm and open with secrets/auth.key; an access-token signing
key can sign; the CA and server certificates are not near expiry (warn under 30 days, fail under
7); the data directory is 0700 and private keys 0600; the store answers and its schema is
current; and, with --peer, the clocks agree (warn over 30 s, fail over 300 s).
What \`serve\` flags override for one run (--listen, --insecure-http) is not seen here.

Output: one line per check, "ok|warn|fail  name: message", the fix indented below.
Exit status: 1 when any check fails; warnings alone exit 0.

Examples:
  certmaster doctor --data /var/lib/certmaster
  certmaster doctor --data /var/lib/certmaster --peer https://ca2.example.com:8443 --json`,
    )
    .action(async (flags: DoctorFlags) => {
      const results = await runDoctor({
        dataDir: flags.data,
        layout: dataLayout(flags.data),
        ...(flags.peer !== undefined ? { peer: flags.peer } : {}),
      });
      if (flags.json) printJson(results);
      else process.stdout.write(renderDoctor(results));
      const failed = results.filter((r) => r.status === 'fail').map((r) => r.check);
      if (doctorFailed(results)) {
        throw new CliError(`${failed.length} check(s) failed: ${failed.join(', ')}`);
      }
    });
}
