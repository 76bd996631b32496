/**
 * A refusal cause in words, as the audit record's `cause` text shows it to an operator beside the
 * typed cause. `explain` reads the typed cause, never these words, so they may be reworded freely.
 */
import type { ClientAct, CredentialRoute, OAuthRequestProblem, RefusalCause } from './refusal-cause.js';

/** The cause in words, as the audit record's `cause` text shows it to an operator. */
export function describeCause(cause: RefusalCause): string {
  switch (cause.code) {
    case 'certificate_held':
      return `${cause.name} holds certificate ${cause.serial} (until ${cause.notAfter}) for another key`;
    case 'request_pending':
      return `a request for ${cause.name} waits for an operator since ${cause.since}`;
    case 'digest_secrets_missing':
      return `account ${cause.account} has no digest secrets (created without --digest, or sealed with another key)`;
    case 'nonce_forged':
      return 'digest nonce not issued by this server (bad MAC)';
    case 'scheme_disabled': {
      const scheme =
        cause.length === undefined ? cause.scheme : `an unregistered scheme of ${cause.length} characters`;
      return cause.plainHttp
        ? `scheme ${scheme} refused over plain HTTP from another machine`
        : `scheme ${scheme} not enabled`;
    }
    case 'scope_missing':
      return `token lacks ${cause.scope}; has ${cause.has.join(' ') || 'none'}`;
    case 'unknown_user':
      return `unknown user ${cause.hashed ? 'hashed user name' : cause.name}`;
    case 'password_mismatch':
      return 'password mismatch';
    case 'digest_response_mismatch':
      return 'digest response mismatch (wrong password)';
    case 'digest_realm_changed':
      return `account ${cause.account}'s digest secrets were made for realm "${cause.madeFor}", not "${cause.current}"`;
    case 'digest_algorithm_not_offered':
      return `malformed Digest response: algorithm ${cause.algorithm} is not offered; use ${cause.offered.join(' or ')}`;
    case 'digest_realm_wrong':
      return `malformed Digest response: realm must be "${cause.expected}"`;
    case 'nonce_replayed':
      return `digest nonce count ${cause.nonceCount} replayed`;
    case 'nonce_expired':
      return 'digest nonce past its lifetime';
    case 'unknown_client':
      return `unknown client ${cause.client}`;
    case 'client_secret_mismatch':
      return 'client secret mismatch';
    case 'account_disabled':
      return `${cause.kind === 'client' ? 'client' : 'account'} ${cause.account} is disabled`;
    case 'throttled':
      return `throttled ${cause.address}${cause.account ? ` for ${cause.account}` : ''} for ${cause.seconds} s`;
    case 'hasher_busy':
      return 'password hasher queue full';
    case 'role_lacks_scope':
      return `role lacks ${cause.scope}`;
    case 'token_revoked':
      return cause.kind === 'access'
        ? `access token jti ${cause.token}${cause.family ? ` (family ${cause.family})` : ''} revoked at ${cause.at}`
        : `token ${cause.token} revoked at ${cause.at}`;
    case 'token_owner_removed':
      return `API token ${cause.token}: owner ${cause.owner} was removed`;
    case 'token_expired':
      return cause.kind === 'access'
        ? `access token jti ${cause.token} of ${cause.subject ?? 'undefined'} expired at ${cause.at}`
        : `token ${cause.token} expired at ${cause.at}`;
    case 'enrollment_token_used_up':
      return `enrollment token ${cause.token} used up`;
    case 'token_unknown':
      return 'no API or enrollment token has this hash';
    case 'token_signing_key_unknown':
      return `unknown or removed signing key kid ${cause.kid}`;
    case 'token_claim_mismatch':
      return `claim ${cause.claim} ${cause.why}`;
    case 'token_signature_invalid':
      return 'signature verification failed';
    case 'token_malformed':
      return cause.why;
    case 'names_invalid':
      return `names refused: ${cause.names.join(', ')}`;
    case 'key_rejected':
      return `key ${cause.key} refused (${cause.rule.replaceAll('_', ' ')})`;
    case 'credentials_absent':
      return ABSENT_WORDS[cause.route];
    case 'credentials_unparsable':
      return unparsableWords(cause.part, cause.why);
    case 'certificate_required':
      return `${cause.action === 'renewal' ? 'renewal' : 'simplereenroll'} by ${cause.method}`;
    case 'metrics_not_loopback':
      return `metrics scrape from non-loopback address ${cause.address}`;
    case 'scopes_beyond_own':
      return `token create beyond own scopes: ${cause.scopes.join(' ')}`;
    case 'token_not_yet_valid':
      return `access token jti ${cause.token} used ${cause.seconds} s before its nbf`;
    case 'token_owner_disabled':
      return `API token ${cause.token}: owner ${cause.owner} is disabled`;
    case 'client_certificate_rejected':
      return clientCertificateWords(cause);
    case 'refresh_token_unknown':
      return 'no refresh token has this hash';
    case 'refresh_token_foreign':
      return `refresh token ${cause.token} of client ${cause.issuedTo} presented by client ${cause.presentedBy}`;
    case 'refresh_token_expired':
      return `refresh token ${cause.token} (family ${cause.family}) expired at ${cause.at}`;
    case 'refresh_token_reused': {
      const why =
        cause.usedAt !== null
          ? `token ${cause.token} was already used at ${cause.usedAt}`
          : `token ${cause.token} was revoked at ${cause.revokedAt ?? 'an unknown time'}`;
      return `refresh token reuse detected: family ${cause.family} revoked (${why}; ${cause.revokedCount} tokens revoked)`;
    }
    case 'refresh_owner_gone':
      return `account ${cause.account} ${cause.removed ? 'removed' : 'disabled'}: family ${cause.family} revoked`;
    case 'oauth_request_malformed':
      return oauthRequestWords(cause.problem, cause.parameter ?? 'a parameter', cause.why);
    case 'grant_type_unsupported':
      return `grant_type ${cause.grantType}`;
    case 'client_not_allowed':
      return clientActWords(cause.act, cause.client ?? 'unnamed');
    case 'token_of_other_client':
      return `${cause.token} belongs to client ${cause.issuedTo}, revocation asked by ${cause.caller}`;
    case 'scope_refused':
      return cause.problem === 'too_many'
        ? 'scope list too long'
        : cause.problem === 'unknown'
          ? `unknown scope ${cause.scope ?? ''}`
          : `scope ${cause.scope ?? ''} beyond ${(cause.allowed ?? []).join(' ')}`;
    case 'secret_over_plain_http':
      return `${cause.what} over plain HTTP from ${cause.address}`;
    case 'csr_rejected':
      return `CSR refused at its ${cause.field}`;
    case 'names_not_covered':
      return `${cause.principal} may have ${cause.allowed.join(', ') || 'no names'} (${NAME_LIMITS[cause.by]}); asked also for ${cause.outside.join(', ')}`;
    case 'renewed_certificate_revoked':
      return `certificate ${cause.serial} was revoked while its renewal was made`;
    case 'renewal_not_permitted':
      return `${cause.principal} may not renew certificate ${cause.serial}`;
    case 'renewal_names_differ':
      return `renewal of ${cause.serial} asks for ${cause.asked.join(', ')}; it holds ${cause.held.join(', ')}${cause.rule === 'exact' ? ' (exact names required)' : ''}`;
    case 'renewal_after_expiry':
      return `certificate ${cause.serial} expired at ${cause.expiredAt}${cause.graceEnd === null ? '; no renewal after expiry' : `; grace ended at ${cause.graceEnd}`}`;
    case 'renewal_key_reused':
      return `renewal of ${cause.serial} reuses its key`;
    case 'renewal_window_closed':
      return `renewal of ${cause.serial} opens at ${cause.opensAt} (window ${cause.window})`;
    case 'ca_cannot_sign':
      return `the CA cannot sign: ${cause.why}`;
    case 'trigger_vetoed':
      return `trigger ${cause.trigger} vetoed ${cause.event}: ${cause.message}`;
    case 'argument_invalid':
      return `${cause.argument}: ${cause.why}`;
    case 'object_unknown':
      return `no ${cause.kind} ${cause.id}`;
    case 'request_not_pending':
      return `request ${cause.request} is ${cause.state ?? 'no longer pending'}`;
  }
}

const NAME_LIMITS: Readonly<Record<Extract<RefusalCause, { code: 'names_not_covered' }>['by'], string>> = {
  name_patterns: 'its name patterns',
  presented_certificate: 'the names of the certificate it presented',
  acme_authorizations: 'the names its ACME account proved',
};

const ABSENT_WORDS: Readonly<Record<CredentialRoute, string>> = {
  api: 'no credentials',
  whoami: 'whoami without credentials',
  est_enroll: 'EST simpleenroll without credentials',
  est_reenroll: 'EST simplereenroll without a client certificate',
  renewal: 'renewal without a client certificate',
  anonymous_requests_off: 'anonymous request while ra.anonymous_requests = false',
  introspection: 'no Authorization header',
};

function unparsableWords(
  part: Extract<RefusalCause, { code: 'credentials_unparsable' }>['part'],
  why: string,
): string {
  switch (part) {
    case 'header':
      return `unparsable Authorization header: ${why}`;
    case 'basic':
      return `malformed Basic credentials: ${why}`;
    case 'digest':
      return `malformed Digest response: ${why}`;
    case 'bearer':
      return `empty Bearer credentials`;
    case 'client':
      return `client Basic: ${why}`;
  }
}

function clientCertificateWords(
  cause: Extract<RefusalCause, { code: 'client_certificate_rejected' }>,
): string {
  const serial = cause.serial ?? 'unknown';
  switch (cause.problem) {
    case 'unparsable':
      return 'client certificate unparsable';
    case 'foreign_issuer':
      return `client certificate serial ${serial} not signed by this CA (issuer ${cause.issuer ?? 'unknown'})`;
    case 'not_yet_valid':
      return `client certificate ${serial} not valid before ${cause.at ?? 'its notBefore'}`;
    case 'expired':
      return `client certificate ${serial} expired at ${cause.at ?? 'its notAfter'}`;
    case 'ca_certificate':
      return `client certificate ${serial} is a CA certificate`;
    case 'no_client_auth':
      return `client certificate ${serial} has no id-kp-clientAuth EKU`;
    case 'not_on_record':
      return `client certificate ${serial} is signed by the CA key but not on record`;
    case 'differs_from_record':
      return `client certificate ${serial} differs from the certificate on record with that serial`;
    case 'revoked':
      return `client certificate ${serial} revoked at ${cause.at ?? 'an unknown time'} (${cause.revocationReason ?? 'unspecified'})`;
  }
}

function oauthRequestWords(problem: OAuthRequestProblem, parameter: string, why: string | undefined): string {
  switch (problem) {
    case 'parameter_missing':
      return `no ${parameter}`;
    case 'parameter_repeated':
      return `repeated ${parameter}`;
    case 'too_many_parameters':
      return 'form too long';
    case 'too_long':
      return `over-long ${parameter}${why ? ` (${why})` : ''}`;
    case 'body_unparsable':
      return why ?? 'the body does not parse';
    case 'credentials_twice':
      return 'client credentials in header and body';
    case 'client_id_mismatch':
      return 'client_id mismatch between header and body';
    case 'secret_without_client_id':
      return 'client_secret without client_id';
  }
}

function clientActWords(act: ClientAct, client: string): string {
  switch (act) {
    case 'no_authentication':
      return 'no client authentication';
    case 'public_use':
      return `public use of client ${client}`;
    case 'public_secret':
      return `secret presented for public client ${client}`;
    case 'password_grant':
      return `password grant attempted by client ${client}`;
    case 'client_credentials_grant':
      return `client_credentials grant attempted by public client ${client}`;
  }
}
