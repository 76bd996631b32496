/**
 * What the routes of the front door read and change of the accounts and tokens, as narrow service
 * interfaces: the routes never reach the store. The instance wires the store, which implements them.
 */
import type { TokenRecord, UserRecord } from '../domain/identities.js';
import type { PageKey } from '../domain/page-key.js';

export type {
  OAuthClientRecord,
  RefreshTokenRecord,
  TokenRecord,
  UserRecord,
} from '../domain/identities.js';

/** The OAuth endpoints: the account a refresh token acts for, and revoking tokens (RFC 7009). */
export interface OAuthAccounts {
  getUser(name: string): Promise<UserRecord | null>;
  revokeToken(id: string, at: Date): Promise<TokenRecord | null>;
  /** Denylists an access token (RFC 7009) until it would have expired anyway. */
  revokeAccessToken(jti: string, expiresAt: Date, at: Date): Promise<void>;
}

/** /v1/tokens and /v1/users: listing and revoking tokens, listing accounts. */
export interface TokenAdministration {
  listTokens(filter: {
    owner?: string;
    kind?: TokenRecord['kind'];
    includeRevoked?: boolean;
    limit?: number;
    /** Newest first; where the last page stopped (created_at, id). */
    after?: PageKey;
  }): Promise<TokenRecord[]>;
  getToken(id: string): Promise<TokenRecord | null>;
  revokeToken(id: string, at: Date): Promise<TokenRecord | null>;
  /** By name; `after` the last name of the previous page. */
  listUsers(filter?: { limit?: number; after?: string }): Promise<UserRecord[]>;
}
