/**
 * ACME (RFC 8555) domain objects: accounts, orders, authorizations and their challenges, as the
 * protocol logic and the store see them. Nothing here knows about HTTP or SQL.
 */

export type AcmeAccountStatus = 'valid' | 'deactivated' | 'revoked';
export type AcmeOrderStatus = 'pending' | 'ready' | 'processing' | 'valid' | 'invalid';
export type AcmeAuthorizationStatus = 'pending' | 'valid' | 'invalid' | 'deactivated' | 'expired' | 'revoked';
export type AcmeChallengeStatus = 'pending' | 'processing' | 'valid' | 'invalid';
export const ACME_CHALLENGE_TYPES = ['http-01', 'dns-01'] as const;
export type AcmeChallengeType = (typeof ACME_CHALLENGE_TYPES)[number];

/** An RFC 8555 §6.7 problem as stored in an order or challenge (`type` without the URN prefix). */
export interface AcmeErrorRecord {
  type: string;
  detail: string;
  reason: string;
  subproblems?: Array<{ type: string; detail: string; identifier: AcmeIdentifier }>;
}

export interface AcmeIdentifier {
  type: 'dns';
  value: string;
}

export interface AcmeAccount {
  id: string;
  /** RFC 7638 JWK thumbprint (SHA-256, base64url) of the account key: one account per key. */
  thumbprint: string;
  /** The account's public key as a JWK, JSON text. */
  jwk: string;
  status: AcmeAccountStatus;
  contact: string[];
  /** Name patterns of the enrollment token bound by External Account Binding; null when unbound. */
  namePatterns: string[] | null;
  eabTokenId: string | null;
  createdAt: Date;
}

export interface AcmeChallenge {
  type: AcmeChallengeType;
  status: AcmeChallengeStatus;
  validated: Date | null;
  error: AcmeErrorRecord | null;
  /** What the validator saw on its last attempt (for `explain`): an answer, a status, an error. */
  seen: string | null;
}

export interface AcmeAuthorization {
  id: string;
  orderId: string;
  accountId: string;
  identifier: AcmeIdentifier;
  wildcard: boolean;
  status: AcmeAuthorizationStatus;
  /** The challenge token (RFC 8555 §8.1), shared by this authorization's challenges. */
  token: string;
  challenges: AcmeChallenge[];
  expiresAt: Date;
  updatedAt: Date;
}

export interface AcmeOrder {
  id: string;
  accountId: string;
  status: AcmeOrderStatus;
  identifiers: AcmeIdentifier[];
  authorizationIds: string[];
  expiresAt: Date;
  error: AcmeErrorRecord | null;
  /** The RA request made at finalize, and the certificate it produced. */
  requestId: string | null;
  serial: string | null;
  createdAt: Date;
  updatedAt: Date;
}
