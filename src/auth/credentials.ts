/** What the front door is given (a request's credentials and the scheme settings) and what it answers. */
import type { Principal } from '../types.js';
import type { DigestAlgorithm } from './schemes/digest.js';

export interface AuthSettings {
  realm: string;
  basic: boolean;
  digest: boolean;
  digestAlgorithms: DigestAlgorithm[];
  bearer: boolean;
}

export interface CredentialsInput {
  authorization: string | undefined;
  method: string;
  /** The request-target (path and query), which a digest response must name. */
  target: string;
  address: string;
  /** True when the connection is plain HTTP: Basic is then refused except from loopback. */
  plainHttp: boolean;
  /** The certificate the client presented in the TLS handshake, DER, if any. */
  clientCertificate?: Buffer | undefined;
  /**
   * True on the one route an expired client certificate may reach (POST /v1/renewals): there it
   * still proves who the host is, and the renewal policy (`ra.renew_after_expiry`) decides.
   */
  expiredCertificateRoute?: boolean;
}

export interface AuthOutcome {
  principal: Principal;
  /** e.g. Authentication-Info after a digest success (RFC 7616 §3.5). */
  headers: Record<string, string>;
}

export interface TokenVerifier {
  verify(token: string): Promise<Principal>;
}
