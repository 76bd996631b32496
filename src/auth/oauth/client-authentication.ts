/**
 * Which OAuth client is calling (RFC 6749 §2.3): a confidential client (a service account) proves
 * itself with its secret; the one public client, the certmaster CLI, only names itself (§2.1).
 */

import { AuthFailure } from '../failure.js';
import type { OAuthClientRecord } from '../identity-queries.js';
import type { PresentedClient } from '../tokens/client-credentials.js';
import { OAuthError } from '../tokens/oauth-error.js';
import type { OAuthCaller } from './caller.js';
import { slowDown } from './failures.js';

export interface CallingClient {
  clientId: string;
  /** Null for the public first-party client. */
  record: OAuthClientRecord | null;
}

export interface ClientAuthenticationDeps {
  /** The public client allowed the password grant: 'certmaster-cli'. */
  firstPartyClientId: string;
  /** Checks a confidential client's secret with throttling; throws AuthFailure. */
  authenticateClient(
    clientId: string,
    clientSecret: string,
    clientAddress: string,
  ): Promise<OAuthClientRecord>;
}

/** Authenticates a confidential client, or accepts the public first-party client by its id. */
export async function authenticateCallingClient(
  presented: PresentedClient,
  caller: OAuthCaller,
  deps: ClientAuthenticationDeps,
): Promise<CallingClient> {
  const firstParty = deps.firstPartyClientId;
  if (presented.method === 'none') {
    if (presented.clientId === firstParty) return { clientId: presented.clientId, record: null };
    throw new OAuthError(
      'invalid_client',
      presented.clientId === null
        ? 'the client did not identify itself'
        : 'this client must authenticate with its secret',
      `send client_id=${firstParty} (the certmaster CLI) or authenticate a service account with its secret`,
      {
        code: 'client_not_allowed',
        client: presented.clientId,
        act: presented.clientId === null ? 'no_authentication' : 'public_use',
      },
    );
  }
  if (presented.clientId === firstParty) {
    throw new OAuthError(
      'invalid_client',
      `${firstParty} is a public client and has no secret`,
      `send client_id=${firstParty} without a secret`,
      { code: 'client_not_allowed', client: presented.clientId, act: 'public_secret' },
    );
  }
  const insecure = caller.secretRefusal('client secret');
  if (insecure !== null) throw insecure;
  let record: OAuthClientRecord;
  try {
    record = await deps.authenticateClient(presented.clientId, presented.secret, caller.address);
  } catch (error) {
    if (!(error instanceof AuthFailure)) throw error;
    if (error.reason === 'too_many_attempts') throw slowDown(error);
    throw new OAuthError('invalid_client', error.detail, error.hint, error.facts, {
      reason: error.reason,
    });
  }
  if (record.disabled || record.clientId !== presented.clientId) {
    throw new OAuthError(
      'invalid_client',
      'client authentication failed',
      'ask an administrator whether this service account is enabled',
      { code: 'account_disabled', account: presented.clientId ?? record.clientId, kind: 'client' },
      { reason: 'account_disabled' },
    );
  }
  return { clientId: record.clientId, record };
}

/**
 * At revocation a request that names no client at all is taken as the public client: RFC 7009 §2.1
 * lets a public client revoke by presenting the token alone.
 */
export async function revokingClient(
  presented: PresentedClient,
  caller: OAuthCaller,
  deps: ClientAuthenticationDeps,
): Promise<CallingClient> {
  if (presented.method === 'none' && presented.clientId === null) {
    return { clientId: deps.firstPartyClientId, record: null };
  }
  return authenticateCallingClient(presented, caller, deps);
}
