/**
 * Which schemes a caller may use, and how a refused scheme is told: in words a CLI user can read,
 * never echoing a scheme name no registry knows (it may be a token sent without "Bearer").
 */
import type { RefusalCause } from '../contract/refusal-cause.js';
import { isLoopbackAddress } from '../util/address.js';
import { orList } from '../util/words.js';
import type { AuthSettings, CredentialsInput } from './credentials.js';
import { AuthFailure, type SchemeName } from './failure.js';

export function schemeOf(scheme: string | null): { scheme?: SchemeName } {
  return scheme === 'basic' || scheme === 'digest' || scheme === 'bearer' ? { scheme } : {};
}

/**
 * Scheme names that may be repeated back: the IANA HTTP Authentication Scheme Registry, plus NTLM.
 * Any other "scheme" is not echoed: `Authorization: TOKEN`, a token sent without "Bearer", makes the
 * token itself the scheme name, and it must reach neither the answer nor the log.
 */
const KNOWN_SCHEMES = new Map(
  [
    'Basic',
    'Bearer',
    'Concealed',
    'Digest',
    'DPoP',
    'GNAP',
    'HOBA',
    'Mutual',
    'Negotiate',
    'NTLM',
    'OAuth',
    'PrivateToken',
    'SCRAM-SHA-1',
    'SCRAM-SHA-256',
    'vapid',
  ].map((name) => [name.toLowerCase(), name]),
);

/** The schemes this caller may use, in the order challenges offer them. */
export function enabledSchemes(settings: AuthSettings, input: CredentialsInput): string[] {
  return [
    ...(settings.bearer ? ['Bearer'] : []),
    ...(settings.digest ? ['Digest'] : []),
    ...(settings.basic && (!input.plainHttp || isLoopbackAddress(input.address)) ? ['Basic'] : []),
  ];
}

/** "Basic", "Basic or Bearer", "Bearer, Digest or Basic". */
export function inWords(schemes: string[]): string {
  return schemes.length === 0 ? 'no scheme' : orList(schemes);
}

/**
 * A CLI user cannot see WWW-Authenticate headers, so the hint names the schemes that are on, in words;
 * which schemes are on is no secret (every 401 lists them).
 */
export function unsupported(scheme: string, enabled: string[], why?: string): AuthFailure {
  const known = KNOWN_SCHEMES.get(scheme.toLowerCase());
  return new AuthFailure(
    'scheme_unsupported',
    why ??
      (known
        ? `this server does not accept the ${known} authentication scheme`
        : 'this server does not accept that authentication scheme; a token goes after "Bearer "'),
    enabled.length === 0
      ? 'this server accepts no authentication scheme here; ask its operator'
      : `this server accepts ${inWords(enabled)}: use ${enabled.length === 1 ? 'that' : 'one of those'}${enabled.includes('Bearer') ? ' (`certmaster login` gets a Bearer token)' : ''}`,
    { ...schemeDisabled(scheme, enabled), ...(why ? { plainHttp: true } : {}) },
  );
}

/**
 * The typed cause of a refused scheme: its registered name, or only the length of a name no RFC
 * registers (it may be a pasted secret, and the audit log must not keep it).
 */
export function schemeDisabled(
  scheme: string,
  enabled: string[],
): RefusalCause & { code: 'scheme_disabled' } {
  const known = KNOWN_SCHEMES.get(scheme.toLowerCase());
  return known
    ? { code: 'scheme_disabled', scheme: known, enabled }
    : { code: 'scheme_disabled', scheme: 'unregistered', length: scheme.length, enabled };
}
