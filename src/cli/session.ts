/** `certmaster login`, `logout` and `whoami` against a remote server. */

import { readFileSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import type { Command } from 'commander';
import { fingerprintSha256, normalizeFingerprint } from '../ca/authority.js';
import { ApiClient, CLI_CLIENT_ID, type TokenResponse } from '../client/api.js';
import { loadSession, removeSession, saveSession } from '../client/credentials.js';
import { passwordRefusalFor } from '../client/plain-http.js';
import { Transport } from '../client/transport.js';
import { fetchServedCa } from '../client/trust.js';
import { describeBetween } from '../util/durations.js';
import { CliError, printJson } from './output.js';
import { promptSecret, readSecretFile } from './secret-input.js';

interface LoginFlags {
  server: string;
  user?: string;
  passwordFile?: string;
  caFingerprint?: string;
  caFile?: string;
}

function originOf(server: string): string {
  try {
    return new URL(server).origin;
  } catch {
    throw new CliError(`--server "${server}" is not a URL; use e.g. https://ca.example.com:8443`);
  }
}

async function trustFor(flags: LoginFlags, origin: string): Promise<string> {
  if (flags.caFile) return readFileSync(flags.caFile, 'utf8');
  const expected = flags.caFingerprint === undefined ? null : normalizeFingerprint(flags.caFingerprint);
  if (flags.caFingerprint !== undefined && !expected)
    throw new CliError(`--ca-fingerprint "${flags.caFingerprint}" is not a SHA-256 fingerprint`);
  const served = await fetchServedCa(flags.server);
  const fp = fingerprintSha256(served.der);
  const pinned = loadSession(origin)?.caPem;
  if (pinned && !expected && pinned.trim() !== served.pem.trim()) {
    throw new CliError(
      `CA MISMATCH: ${origin} now presents a CA with fingerprint ${fp}, unlike the one pinned at the last login. Refusing; if the operator confirms the new CA, log in again with --ca-fingerprint.`,
    );
  }
  if (expected && fp !== expected) {
    throw new CliError(
      `CA FINGERPRINT MISMATCH: ${origin} presents ${fp}, but --ca-fingerprint says ${expected}; nothing was sent.`,
    );
  }
  if (!expected && !pinned)
    process.stderr.write(
      `warning: trusting the CA of ${origin} on first use; its SHA-256 fingerprint is\n  ${fp}\n`,
    );
  return served.pem;
}

export function registerSession(program: Command): void {
  program
    .command('login')
    .description('sign in to a server and keep the tokens in ~/.config/certmaster (0600)')
    .requiredOption('--server <url>', 'certmaster server')
    .option('--user <name>', 'account name (default: your login name)')
    .option('--password-file <file>', 'read the password from this file instead of prompting')
    .option('--ca-fingerprint <sha256>', "the CA's SHA-256 fingerprint, as `certmaster serve` prints it")
    .option('--ca-file <file>', 'PEM file of the CA certificate to trust')
    .addHelpText(
      'after',
      '\nThe password grant is for this first-party CLI only; services use client credentials or API tokens.',
    )
    .action(async (flags: LoginFlags) => {
      const origin = originOf(flags.server);
      const refusal = passwordRefusalFor(flags.server);
      if (refusal !== null) throw new CliError(refusal);
      const caPem = await trustFor(flags, origin);
      const user = flags.user ?? userInfo().username;
      const password = flags.passwordFile
        ? readSecretFile(flags.passwordFile, 'password')
        : await promptSecret(`Password for ${user} at ${origin}: `);
      const transport = new Transport(flags.server, { ca: caPem });
      try {
        const answer = await transport.form('/oauth/token', {
          grant_type: 'password',
          username: user,
          password,
          client_id: CLI_CLIENT_ID,
        });
        const data = JSON.parse(answer.body || '{}') as TokenResponse & {
          error?: string;
          error_description?: string;
          hint?: string;
          request_id?: string;
        };
        if (answer.status !== 200 || !data.access_token) {
          const retry = answer.headers['retry-after'];
          throw new CliError(
            `login refused: ${data.error_description ?? data.error ?? `HTTP ${answer.status}`}${data.hint ? ` — ${data.hint}` : ''}${retry ? ` (try again in ${retry} s)` : ''}${data.request_id ? ` [request id ${data.request_id}]` : ''}`,
          );
        }
        saveSession(origin, {
          user,
          accessToken: data.access_token,
          accessTokenExpiresAt: new Date(Date.now() + data.expires_in * 1000).toISOString(),
          refreshToken: data.refresh_token ?? null,
          caPem,
        });
        process.stdout.write(
          `Logged in to ${origin} as ${user} (scopes: ${data.scope ?? 'none'}) from ${hostname()}\n`,
        );
      } finally {
        transport.close();
      }
    });

  program
    .command('logout')
    .description("revoke this machine's tokens for a server and forget them")
    .requiredOption('--server <url>', 'certmaster server')
    .action(async (flags: { server: string }) => {
      const origin = originOf(flags.server);
      const session = loadSession(origin);
      if (!session) {
        process.stdout.write(`Not logged in to ${origin}.\n`);
        return;
      }
      const transport = new Transport(flags.server, { ca: session.caPem });
      try {
        // RFC 7009: the server answers 200 even for tokens it no longer knows.
        for (const token of [session.refreshToken, session.accessToken]) {
          if (token) await transport.form('/oauth/revoke', { token, client_id: CLI_CLIENT_ID });
        }
      } catch (e) {
        process.stderr.write(
          `warning: could not reach ${origin} to revoke the tokens (${(e as Error).message}); they are forgotten here and expire by themselves\n`,
        );
      } finally {
        transport.close();
        removeSession(origin);
      }
      process.stdout.write(`Logged out of ${origin}.\n`);
    });

  program
    .command('whoami')
    .description('who the server thinks you are: account, roles, scopes and token expiry')
    .requiredOption('--server <url>', 'certmaster server')
    .option('--token <token>', 'API token (default: CERTMASTER_TOKEN, else the login session)')
    .option('--ca-file <file>', 'CA certificate to trust when not logged in')
    .option('--json', 'machine-readable output')
    .action(async (flags: { server: string; token?: string; caFile?: string; json?: boolean }) => {
      const api = ApiClient.open(flags.server, {
        ...(flags.token ? { token: flags.token } : {}),
        ...(flags.caFile ? { caFile: flags.caFile } : {}),
      });
      try {
        const me = await api.call<{
          name: string;
          method: string;
          roles: string[];
          scopes: string[];
          token_id?: string;
          token_expires_at?: string | null;
        }>('GET', '/v1/whoami');
        if (flags.json) {
          printJson(me);
          return;
        }
        const lines = [
          `${me.name} (${me.roles.join(', ') || 'no role'}) via ${me.method}`,
          `scopes: ${me.scopes.join(' ') || 'none'}`,
        ];
        if (me.token_expires_at) {
          const left = describeBetween(new Date(), new Date(me.token_expires_at));
          lines.push(`token ${me.token_id} expires ${me.token_expires_at} (in ${left})`);
        }
        process.stdout.write(`${lines.join('\n')}\n`);
      } finally {
        api.close();
      }
    });
}
