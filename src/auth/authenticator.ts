/**
 * Who is this? Reads the Authorization header, dispatches to the scheme, throttles failures, and
 * answers with a Principal or an AuthFailure. It knows nothing of certificates.
 */

import type { RefusalCause } from '../contract/refusal-cause.js';
import type { AuthStore, OAuthClientRecord, UserRecord } from '../store/identities/auth-store.js';
import { ANONYMOUS, type Clock, type Principal } from '../types.js';
import { isLoopbackAddress } from '../util/address.js';
import { type AccountDeps, openDigestSecrets } from './accounts.js';
import { buildChallenges, type ChallengeTemplate, challengeTemplate } from './challenge.js';
import type { AuthOutcome, AuthSettings, CredentialsInput, TokenVerifier } from './credentials.js';
import { AuthFailure, type SchemeName } from './failure.js';
import type { FailureLimiter } from './limiter.js';
import type { PasswordHasher } from './passwords.js';
import { enabledSchemes, inWords, schemeOf, unsupported } from './scheme-policy.js';
import { parseAuthorization } from './schemes/authorization.js';
import { parseBasicCredentials } from './schemes/basic.js';
import type { ClientCertificateVerifier } from './schemes/client-certificate.js';
import {
  authenticationInfo,
  computeUserhash,
  type DigestAlgorithm,
  parseDigestResponse,
  uriMatches,
  verifyDigestResponse,
} from './schemes/digest.js';
import type { DigestNonces } from './schemes/digest-nonce.js';
import { scopesOfRole } from './scopes.js';
import type { SecretBox } from './secret-box.js';
import { SecretChecks } from './secret-checks.js';
import type { Tarpit } from './tarpit.js';

export type { AuthOutcome, AuthSettings, CredentialsInput, TokenVerifier };

export interface AuthenticatorDeps {
  store: AuthStore;
  hasher: PasswordHasher;
  limiter: FailureLimiter;
  nonces: DigestNonces;
  box: SecretBox;
  clock: Clock;
  settings: () => AuthSettings;
  /** Bearer tokens of every kind, told apart by the token registry (tokens/token-registry.ts). */
  tokens: TokenVerifier;
  /** Mutual TLS; without it a presented client certificate is ignored. */
  clientCertificates?: ClientCertificateVerifier;
  /** Holds throttled answers a moment (auth.throttle_tarpit_ms); without it they go at once. */
  tarpit?: Tarpit;
}

/** How long a userhash index may be used, and how soon a miss may rebuild it (bounds the work a stranger can cause). */
const USERHASH_INDEX_MAX_AGE_MS = 30_000;
const USERHASH_INDEX_MIN_AGE_MS = 2_000;

export class Authenticator {
  private readonly userhashIndex = new Map<string, { builtAt: number; names: Map<string, string> }>();

  private readonly secrets: SecretChecks;
  /** Per settings object (replaced on reload, so old ones are collected), per kind of 401. */
  readonly #challengeTemplates = new WeakMap<AuthSettings, Map<number, ChallengeTemplate>>();

  constructor(private readonly deps: AuthenticatorDeps) {
    this.secrets = new SecretChecks(deps);
  }

  /**
   * Missing credentials are not a failure here: the caller is anonymous until a route needs more.
   * An Authorization header takes precedence over a client certificate (README, "Mutual TLS"): a
   * host may hold a certificate and still act under an account.
   */
  async authenticate(input: CredentialsInput): Promise<AuthOutcome> {
    const header = input.authorization;
    if (header === undefined || header.trim() === '') {
      if (input.clientCertificate && this.deps.clientCertificates) {
        const principal = await this.deps.clientCertificates.verify(input.clientCertificate, {
          acceptExpired: input.expiredCertificateRoute === true,
        });
        return { principal, headers: {} };
      }
      return { principal: ANONYMOUS, headers: {} };
    }
    const parsed = parseAuthorization(header);
    if ('malformed' in parsed) {
      // Basic and Bearer credentials are one token68 secret (RFC 7617 §2, RFC 6750 §2.1); when it does
      // not parse, the parser's message may quote part of it as a "parameter name", so say only the shape.
      const secretToken = parsed.scheme === 'basic' || parsed.scheme === 'bearer';
      const why = secretToken
        ? `${parsed.scheme === 'basic' ? 'Basic' : 'Bearer'} credentials must be a single token after the scheme name`
        : parsed.malformed;
      throw new AuthFailure(
        'credentials_malformed',
        `the Authorization header does not parse: ${why}`,
        'send `Authorization: SCHEME credentials`, e.g. `Authorization: Bearer TOKEN`',
        { code: 'credentials_unparsable', part: 'header', why },
        schemeOf(parsed.scheme),
      );
    }
    const settings = this.deps.settings();
    const enabled = enabledSchemes(settings, input);
    switch (parsed.scheme) {
      case 'basic':
        if (settings.basic && (!input.plainHttp || isLoopbackAddress(input.address))) {
          return this.basic(parsed.token68, input);
        }
        throw unsupported(
          'Basic',
          enabled,
          settings.basic ? 'Basic is refused over plain HTTP except from loopback' : undefined,
        );
      case 'digest':
        if (settings.digest) return this.digest(parsed.params, input, settings);
        throw unsupported('Digest', enabled);
      case 'bearer':
        if (settings.bearer) return this.bearer(parsed.token68);
        throw unsupported('Bearer', enabled);
      default:
        throw unsupported(parsed.scheme, enabled);
    }
  }

  /** One challenge per enabled scheme; a stale nonce or a bad token shapes its own challenge. */
  challenges(failure: AuthFailure | null, input: { address: string; plainHttp: boolean }): string[] {
    const s = this.deps.settings();
    const bearerError =
      failure?.scheme === 'bearer'
        ? failure.reason === 'insufficient_scope'
          ? {
              error: 'insufficient_scope' as const,
              errorDescription: failure.detail,
              ...(failure.scope ? { scope: failure.scope } : {}),
            }
          : failure.reason === 'credentials_malformed'
            ? { error: 'invalid_request' as const, errorDescription: failure.detail }
            : { error: 'invalid_token' as const, errorDescription: failure.detail }
        : undefined;
    const options = {
      realm: s.realm,
      basic: s.basic && (!input.plainHttp || isLoopbackAddress(input.address)),
      digestAlgorithms: s.digest ? s.digestAlgorithms : [],
      bearer: s.bearer,
      opaque: this.deps.nonces.opaque,
      stale: failure?.reason === 'nonce_stale',
      digestUserhash: true,
    };
    const nonce = () => this.deps.nonces.issue();
    if (bearerError) return buildChallenges({ ...options, nonce, bearerError });
    // Most 401s (no credentials, a wrong password) get the same challenges but for the nonce: built
    // once per settings and kind, then only the nonce is filled in.
    const kind = (options.basic ? 1 : 0) | (options.stale ? 2 : 0);
    let templates = this.#challengeTemplates.get(s);
    if (templates === undefined) {
      templates = new Map();
      this.#challengeTemplates.set(s, templates);
    }
    let template = templates.get(kind);
    if (template === undefined) {
      template = challengeTemplate(options);
      templates.set(kind, template);
    }
    return template.fill(nonce);
  }

  /**
   * Checks a user name and password, throttled, at the same cost whether or not the user exists.
   * Shared by Basic and the OAuth password grant.
   */
  verifyPassword(
    userId: string,
    password: string,
    address: string,
    scheme: SchemeName | undefined,
  ): Promise<UserRecord> {
    return this.secrets.verifyPassword(userId, password, address, scheme);
  }

  /** A confidential client's secret (client_credentials), checked like a password. */
  verifyClient(clientId: string, secret: string, address: string): Promise<OAuthClientRecord> {
    return this.secrets.verifyClient(clientId, secret, address);
  }

  private async basic(token68: string | null, input: CredentialsInput): Promise<AuthOutcome> {
    const creds = parseBasicCredentials(token68);
    if ('malformed' in creds) {
      throw new AuthFailure(
        'credentials_malformed',
        `the Basic credentials are malformed: ${creds.malformed}`,
        'send base64("user:password") in UTF-8 (RFC 7617), e.g. `curl --basic -u user:password`',
        { code: 'credentials_unparsable', part: 'basic', why: creds.malformed },
        { scheme: 'basic' },
      );
    }
    const user = await this.verifyPassword(creds.userId, creds.password, input.address, 'basic');
    return { principal: userPrincipal(user, 'basic'), headers: {} };
  }

  private async digest(
    params: Map<string, string>,
    input: CredentialsInput,
    settings: AuthSettings,
  ): Promise<AuthOutcome> {
    const resp = parseDigestResponse(params);
    const malformed = (why: string, facts?: RefusalCause) =>
      new AuthFailure(
        'credentials_malformed',
        `the Digest response is malformed: ${why}`,
        'answer the Digest challenge as RFC 7616 §3.4 says, e.g. `curl --digest -u user:password`',
        facts ?? { code: 'credentials_unparsable', part: 'digest', why },
        { scheme: 'digest' },
      );
    if ('malformed' in resp) throw malformed(resp.malformed);
    if (!settings.digestAlgorithms.includes(resp.algorithm)) {
      throw malformed(
        `algorithm ${resp.algorithm} is not offered; use ${settings.digestAlgorithms.join(' or ')}`,
        {
          code: 'digest_algorithm_not_offered',
          algorithm: resp.algorithm,
          offered: settings.digestAlgorithms,
        },
      );
    }
    if (resp.realm !== settings.realm)
      throw malformed(`realm must be "${settings.realm}"`, {
        code: 'digest_realm_wrong',
        expected: settings.realm,
      });
    if (!uriMatches(resp.uri, input.target))
      throw malformed('uri does not name this request (RFC 7616 §3.4.6)');
    // The same words whether the account is unknown, has no Digest secrets or the password is
    // wrong: the caller learns what to try, never whether the account exists.
    const others = enabledSchemes(settings, input).filter((s) => s !== 'Digest');
    const digestHint = `check the user name and password; if the password is right, this account may not be set up for Digest: ${others.length > 0 ? `use ${inWords(others)}, or ` : ''}ask an administrator for \`certmaster user passwd NAME --digest\``;
    const invalid = (cause: RefusalCause, claimed?: string) =>
      new AuthFailure('credentials_invalid', 'the user name or password is not right', digestHint, cause, {
        scheme: 'digest',
        ...(claimed ? { claimedName: claimed } : {}),
      });
    if (resp.opaque !== null && resp.opaque !== this.deps.nonces.opaque)
      throw malformed('opaque is not the one this server sent');
    const nonceState = this.deps.nonces.check(resp.nonce);
    if (nonceState === 'invalid') {
      // Says nothing of any account: the nonce is checked before the user name is looked at.
      throw new AuthFailure(
        'credentials_invalid',
        'the Digest nonce was not issued by this server',
        'start again from a fresh challenge (a new request without credentials); if it keeps happening, the replicas of this server do not share their secrets/auth.key',
        { code: 'nonce_forged' },
        { scheme: 'digest' },
      );
    }
    const early = this.secrets.throttled(input.address, null, 'digest');
    if (early) throw await this.secrets.held(input.address, early);
    const user = await this.findDigestUser(resp.username, resp.userhash, resp.algorithm, settings.realm);
    const claimed = user?.name ?? (resp.userhash ? 'hashed user name' : resp.username);
    // Checked with nothing awaited until the attempt is counted (recordFailure below).
    const throttled = this.secrets.throttled(input.address, user?.name ?? resp.username, 'digest');
    if (throttled) throw await this.secrets.held(input.address, throttled);
    const secrets = user ? openDigestSecrets(this.deps.box, user) : null;
    const ha1 = secrets && secrets.realm === settings.realm ? secrets.ha1[resp.algorithm] : undefined;
    if (!user || !ha1) {
      this.deps.limiter.recordFailure(input.address, user?.name ?? resp.username);
      throw invalid(
        !user
          ? { code: 'unknown_user', name: claimed, hashed: resp.userhash }
          : !secrets
            ? { code: 'digest_secrets_missing', account: user.name }
            : {
                code: 'digest_realm_changed',
                account: user.name,
                madeFor: secrets.realm,
                current: settings.realm,
              },
        claimed,
      );
    }
    if (!verifyDigestResponse(resp, { ha1, method: input.method })) {
      this.deps.limiter.recordFailure(input.address, user.name);
      throw invalid({ code: 'digest_response_mismatch', account: user.name }, claimed);
    }
    // Only a response that is right in every other way is told stale=true (RFC 7616 §3.3): the
    // client then retries with the new nonce without asking its user for the password again.
    const replayed =
      nonceState === 'valid' && !this.deps.nonces.acceptNonceCount(resp.nonce, resp.nonceCount);
    if (nonceState === 'stale' || replayed) {
      throw new AuthFailure(
        'nonce_stale',
        replayed ? 'this digest nonce count was used already' : 'the digest nonce has expired',
        'repeat the request with the new nonce from the challenge (stale=true); clients do this by themselves',
        replayed
          ? { code: 'nonce_replayed', account: user.name, nonceCount: resp.nc }
          : { code: 'nonce_expired', account: user.name },
        { scheme: 'digest', claimedName: user.name },
      );
    }
    if (user.disabled) {
      throw new AuthFailure(
        'account_disabled',
        'this account is disabled',
        'ask an administrator to run `certmaster user enable NAME`',
        { code: 'account_disabled', account: user.name, kind: 'user' },
        {
          scheme: 'digest',
          claimedName: user.name,
        },
      );
    }
    this.deps.limiter.recordSuccess(input.address, user.name);
    return {
      principal: userPrincipal(user, 'digest'),
      headers: { 'authentication-info': authenticationInfo({ alg: resp.algorithm, ha1, resp }) },
    };
  }

  private async findDigestUser(
    username: string,
    userhash: boolean,
    alg: DigestAlgorithm,
    realm: string,
  ): Promise<UserRecord | null> {
    if (!userhash) return this.deps.store.getUser(username);
    // RFC 7616 §3.4.4: the client sent H(username ":" realm); find the account whose hash it is,
    // through an index rebuilt at most every few seconds rather than a scan per request.
    const wanted = username.toLowerCase();
    const key = `${alg}\n${realm}`;
    const now = this.deps.clock.now().getTime();
    let index = this.userhashIndex.get(key);
    const stale = !index || now - index.builtAt > USERHASH_INDEX_MAX_AGE_MS;
    const missRebuild = index && !index.names.has(wanted) && now - index.builtAt > USERHASH_INDEX_MIN_AGE_MS;
    if (stale || missRebuild) {
      const names = new Map<string, string>();
      for (const user of await this.deps.store.listUsers()) {
        if (user.digestSecrets) names.set(computeUserhash(alg, user.name, realm), user.name);
      }
      index = { builtAt: now, names };
      this.userhashIndex.set(key, index);
    }
    const name = index?.names.get(wanted);
    return name ? this.deps.store.getUser(name) : null;
  }

  private async bearer(token68: string | null): Promise<AuthOutcome> {
    if (!token68) {
      throw new AuthFailure(
        'credentials_malformed',
        'the Bearer token is missing',
        'send `Authorization: Bearer TOKEN` (RFC 6750 §2.1)',
        { code: 'credentials_unparsable', part: 'bearer', why: 'empty' },
        { scheme: 'bearer' },
      );
    }
    const principal = await this.deps.tokens.verify(token68);
    if (principal.method === 'access_token' && principal.roles.includes('host')) {
      // A host account's names live with the account, not in its tokens.
      const user = await this.deps.store.getUser(principal.name);
      if (user && user.namePatterns.length > 0)
        return { principal: { ...principal, namePatterns: user.namePatterns }, headers: {} };
    }
    return { principal, headers: {} };
  }
}

export function userPrincipal(user: UserRecord, method: 'basic' | 'digest' | 'access_token'): Principal {
  return {
    name: user.name,
    anonymous: false,
    roles: [user.role],
    scopes: scopesOfRole(user.role),
    method,
    ...(user.namePatterns.length > 0 ? { namePatterns: user.namePatterns } : {}),
  };
}

export type { AccountDeps };
export { inWords };
