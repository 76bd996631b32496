/** What the OAuth plugin is given, and what it tells the audit log of every decision. */

import type { OutageNotes } from '../../audit/outage-log.js';
import type { OAuthAccounts, OAuthClientRecord } from '../../auth/identity-queries.js';
import type { GrantDeps } from '../../auth/oauth/grants.js';
import type { AccessTokens } from '../../auth/tokens/access-tokens.js';
import type { SigningKeyRing } from '../../auth/tokens/keyring.js';
import type { OpaqueTokens } from '../../auth/tokens/opaque-tokens.js';
import type { RefreshTokens } from '../../auth/tokens/refresh-tokens.js';
import type { TokenRegistry } from '../../auth/tokens/token-registry.js';
import type { RefusalCause } from '../../contract/refusal-cause.js';
import type { Clock } from '../../types.js';

export interface OAuthPluginOptions {
  keyring: SigningKeyRing;
  accessTokens: AccessTokens;
  refreshTokens: RefreshTokens;
  opaqueTokens: OpaqueTokens;
  /** The registry the Authenticator uses too; built from the token services above when absent. */
  tokens?: TokenRegistry;
  store: OAuthAccounts;
  clock: Clock;
  /** The issuer identifier (RFC 8414 §2): https URL without query or fragment; endpoints hang off it. */
  issuer: string;
  accessTokenTtlSeconds: number;
  /** Checks a password with throttling and equal cost for unknown users; throws AuthFailure. */
  verifyPassword: GrantDeps['verifyPassword'];
  /** Checks a confidential client's secret with throttling; throws AuthFailure. */
  authenticateClient(
    clientId: string,
    clientSecret: string,
    clientAddress: string,
  ): Promise<OAuthClientRecord>;
  /** Plain HTTP: passwords and client secrets are then refused from non-loopback addresses. */
  plainHttp?: boolean;
  /** The public client allowed the password grant: 'certmaster-cli'. */
  firstPartyClientId: string;
  /** The realm of WWW-Authenticate challenges; default "certmaster". */
  realm?: string;
  /** Called (and awaited) just before a refresh token is spent; throwing stops the rotation. */
  beforeRotation?: GrantDeps['beforeRotation'];
  /** Where a 503 audit_unavailable is noted when the audit log cannot take it. */
  outage?: OutageNotes;
  /** Every grant and refusal, with the precise cause, for the audit log. */
  onDecision?: (decision: OAuthDecision) => void | Promise<void>;
}

export interface OAuthDecision {
  requestId: string;
  endpoint: 'token' | 'revoke' | 'introspect';
  outcome: 'granted' | 'refused';
  grantType?: string;
  clientId?: string;
  /** The account or client the tokens act for. */
  subject?: string;
  /** Access token jti, refresh token id or API/enrollment token id; never a secret. */
  tokenId?: string;
  familyId?: string;
  error?: string;
  /** The HTTP status the refusal was answered with. */
  status?: number;
  reason?: string;
  internalCause?: string;
  /** The refusal's typed cause, stored as the record's `details.cause` for `explain`. */
  facts?: RefusalCause;
  /** What the client was told (error_description) and the hint, for the audit record. */
  description?: string;
  hint?: string;
  /** The address the request came from. */
  clientAddress?: string;
}
