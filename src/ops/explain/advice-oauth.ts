/** What to do about the OAuth token endpoint's refusals (RFC 6749 §5.2). */
import type { Reason } from '../../contract/refusals.js';
import type { Advisor } from './advisor.js';
import { printable, serverArg } from './text.js';

type OAuthReason = Extract<
  Reason,
  'invalid_client' | 'invalid_grant' | 'unauthorized_client' | 'unsupported_grant_type' | 'invalid_scope'
>;

export const OAUTH_ADVISORS: Record<OAuthReason, Advisor> = {
  invalid_client: (a) => ({
    meaning: `The OAuth client ${a.shownName} could not be authenticated${a.cause ? ` (${printable(a.cause, 200)})` : ''}.`,
    fix: 'Check the client id and secret the service uses; if the secret is lost, remove the client and add it again.',
    command: `certmaster client list ${a.local}`,
  }),
  invalid_grant: (a) => ({
    meaning: `The sign-in or refresh token was refused${a.cause ? ` (${printable(a.cause, 200)})` : ''}.`,
    fix: 'Sign in again.',
    command: `certmaster login --server ${serverArg(a.ctx)}${a.name === 'NAME' ? '' : ` --user ${a.name}`}`,
  }),
  unauthorized_client: (a) => ({
    meaning: `The OAuth client may not use this grant${a.cause ? ` (${printable(a.cause, 200)})` : ''}: the password grant is only for the certmaster CLI, services use client_credentials.`,
    fix: 'Use the grant the client is meant for.',
    command: null,
  }),
  unsupported_grant_type: (a) => ({
    meaning: `The client asked for a grant this server does not support${a.cause ? ` (${printable(a.cause, 100)})` : ''}.`,
    fix: 'Use grant_type=password, client_credentials or refresh_token.',
    command: null,
  }),
  invalid_scope: (a) => ({
    meaning: `The client asked for a scope beyond what the account or client may have${a.detail ? ` (${printable(a.detail, 200)})` : ''}.`,
    fix: 'Ask only for scopes the role allows; `certmaster user list` shows the roles.',
    command: `certmaster user list ${a.local}`,
  }),
};
