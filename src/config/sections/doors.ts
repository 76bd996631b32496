/** Settings of the standard enrollment protocols: EST (RFC 7030) and ACME (RFC 8555). */
import { parseLabelProfiles } from '../../domain/leaf-profiles.js';
import { checkResolver } from '../checks.js';
import { booleanSetting, checkBy, integerSetting, stringSetting } from '../setting-kinds.js';

export const estShape = {
  labels: stringSetting(
    '',
    'comma-separated LABEL=PROFILE pairs (profiles: tls, server, client), such as routers=client; empty for none',
    'EST labels (/.well-known/est/LABEL/..., RFC 7030 §3.2.2) and the certificate profile each issues: tls (serverAuth and clientAuth, as the unlabelled path), server, or client.',
    checkBy(parseLabelProfiles),
  ),
};

/** ACME (RFC 8555): how challenges are validated and what an ACME account may order. */
export const acmeShape = {
  http01_port: integerSetting(
    1,
    65535,
    80,
    'Port the http-01 validator connects to on the named host (RFC 8555 §8.3 says 80; tests use another).',
  ),
  resolver: stringSetting(
    '',
    'empty (the system resolver) or HOST:PORT of a DNS server',
    'DNS server the dns-01 and http-01 validators ask, as HOST:PORT; empty for the system resolver.',
    checkResolver,
  ),
  require_eab: booleanSetting(
    false,
    'Whether a new ACME account must be bound to an enrollment token by External Account Binding (RFC 8555 §7.3.4).',
  ),
  nonce_lifetime_seconds: integerSetting(
    10,
    86400,
    3600,
    'How long an ACME Replay-Nonce stays usable, in seconds.',
  ),
  max_nonces: integerSetting(
    1000,
    10_000_000,
    100_000,
    'Most unspent ACME nonces kept; beyond it the oldest are dropped (their clients retry after badNonce).',
  ),
  validation_timeout_seconds: integerSetting(
    1,
    60,
    10,
    'How long one challenge validation (HTTP fetch or DNS query) may take, in seconds.',
  ),
  orders_per_account_per_hour: integerSetting(
    1,
    1_000_000,
    300,
    'Most new orders one ACME account may place in an hour; more are refused with rateLimited and Retry-After.',
  ),
  certificates_per_name_per_week: integerSetting(
    0,
    1_000_000,
    50,
    'Most ACME certificates a week for names under one registered name (its last two labels), across all accounts, as Boulder counts; more orders are refused with rateLimited and Retry-After. 0: no limit.',
  ),
};
