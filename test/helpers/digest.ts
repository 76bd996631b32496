/** A client's answer to a SHA-256 Digest challenge (RFC 7616 §3.4), for tests that build it by hand. */
import { randomBytes } from 'node:crypto';
import { computeHA1, expectedResponse } from '../../src/auth/schemes/digest.js';

export function digestAuthorization(a: {
  user: string;
  password: string;
  realm: string;
  nonce: string;
  opaque: string;
  uri: string;
  method?: string;
}): string {
  const cnonce = randomBytes(8).toString('hex');
  const response = expectedResponse({
    alg: 'SHA-256',
    ha1: computeHA1('SHA-256', a.user, a.realm, a.password),
    nonce: a.nonce,
    nc: '00000001',
    cnonce,
    qop: 'auth',
    method: a.method ?? 'GET',
    uri: a.uri,
  });
  return `Digest username="${a.user}", realm="${a.realm}", uri="${a.uri}", algorithm=SHA-256, nonce="${a.nonce}", nc=00000001, cnonce="${cnonce}", qop=auth, response="${response}", opaque="${a.opaque}"`;
}
