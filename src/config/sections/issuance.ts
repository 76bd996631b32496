/** Settings of issuance: the CA, the registration authority's policy and its triggers. */
import { AUTOSIGN_ALLOWED } from '../../domain/autosign.js';
import { parseGracePeriod, RENEW_AFTER_EXPIRY_ALLOWED } from '../../domain/grace-period.js';
import { RESERVED_NAMES_ALLOWED } from '../../domain/reserved-names.js';
import { checkAutosign, checkPublicUrl, checkRelativeOrAbsolutePath, checkReservedNames } from '../checks.js';
import { booleanSetting, checkBy, integerSetting, numberSetting, stringSetting } from '../setting-kinds.js';

export const caShape = {
  leaf_validity_days: integerSetting(
    1,
    3650,
    90,
    "Lifetime of issued certificates, in days; never beyond the CA certificate's own notAfter.",
  ),
  leaf_validity_minutes: integerSetting(
    0,
    525_600,
    0,
    'Lifetime of issued certificates in minutes, for short-lived certificates renewed by `certmaster agent`; 0 (the default) uses ca.leaf_validity_days.',
  ),
  public_url: stringSetting(
    '',
    'empty (off), or an http:// or https:// URL such as https://ca.example.com:8443',
    'How relying parties reach this server: when set, issued certificates carry CRL distribution point and AIA (OCSP, caIssuers) URLs under it (over http:// on the server.public_http_listen port when that is set).',
    checkPublicUrl,
  ),
  crl_next_update_hours: integerSetting(
    1,
    168,
    24,
    "Hours between a CRL's thisUpdate and nextUpdate; a new CRL is built halfway, and at once after a revocation.",
  ),
  ocsp_next_update_minutes: integerSetting(
    1,
    10080,
    60,
    "Minutes between an OCSP response's thisUpdate and nextUpdate (and the HTTP max-age of a GET answer).",
  ),
};

export const raShape = {
  autosign: stringSetting(
    'off',
    AUTOSIGN_ALLOWED,
    'Which requests are signed without an operator: off, all, or the names patterns allow ("*.web.example.com" allows exactly one more label).',
    checkAutosign,
  ),
  reserved_names: stringSetting(
    '',
    RESERVED_NAMES_ALLOWED,
    "Names only an operator signs, never autosign, a host account or a token (the server's own names and loopback names always are).",
    checkReservedNames,
  ),
  anonymous_requests: booleanSetting(
    true,
    'Whether a CSR may be submitted without credentials; anonymous requests are only signed by autosign or an operator.',
  ),
  allow_wildcards: booleanSetting(
    false,
    'Whether a request may ask for a wildcard name such as *.example.com.',
  ),
  max_names: integerSetting(
    1,
    100,
    20,
    'Most names in one certificate: the common name plus SANs, after de-duplication.',
  ),
  min_rsa_bits: integerSetting(2048, 8192, 2048, 'Smallest RSA key accepted in a request, in bits.'),
  allow_duplicate_certificates: booleanSetting(
    false,
    "Whether a host may get a new certificate while it holds a valid one (Puppet's allow-duplicate-certs).",
  ),
  pending_retry_after_seconds: integerSetting(
    1,
    3600,
    10,
    'Retry-After, in seconds, told to clients whose request is pending.',
  ),
  renew_window: numberSetting(
    0,
    0.99,
    0.66,
    "Share of a certificate's lifetime after which its holder may renew it (POST /v1/renewals); 0 lets it renew at any time. An earlier renewal is refused with the time renewal opens.",
  ),
  renew_after_expiry: stringSetting(
    'none',
    RENEW_AFTER_EXPIRY_ALLOWED,
    "How long after expiry a certificate may still renew itself (its only use once expired), like step-ca's allowRenewalAfterExpiry; none refuses renewal after expiry.",
    checkBy(parseGracePeriod),
  ),
  renew_same_key: booleanSetting(
    false,
    'Whether a renewal may keep the key of the certificate it renews; by default a new key is required.',
  ),
  revoke_on_renew: booleanSetting(
    false,
    'Whether a renewal revokes the certificate it replaces (reason superseded); by default the old one stays valid until it expires.',
  ),
};

export const triggersShape = {
  dir: stringSetting(
    'triggers',
    'a directory path (relative to the data directory)',
    'Directory of trigger scripts: <dir>/<event>/<pre|post>/, as in Func certmaster.',
    checkRelativeOrAbsolutePath,
  ),
  timeout_seconds: integerSetting(
    1,
    600,
    10,
    'How long one trigger may run before it is killed, in seconds.',
  ),
};
