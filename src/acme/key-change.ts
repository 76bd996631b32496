/**
 * Account key rollover (RFC 8555 §7.3.5): the outer JWS is signed by the account's current key (kid),
 * its payload is an inner JWS signed by the new key (jwk) over {account, oldKey}, with the same url
 * and no nonce. Both signatures prove possession: the old key authorises, the new key accepts.
 */
import { flattenedVerify, importJWK, type JWK } from 'jose';
import type { AcmeAccount } from '../domain/acme.js';
import { AcmeKeyTakenError, type AcmeStore } from '../store/acme/acme-store.js';
import { ACME_JWS_ALGORITHMS, asFlattenedJws, publicJwk, thumbprintOf } from './jws.js';
import { AcmeProblem, malformed, notFound, unauthorized } from './problem.js';

export interface NewAccountKey {
  jwk: JWK;
  thumbprint: string;
}

/** Checks the inner JWS of a keyChange request; the new key, or an AcmeProblem saying what is wrong. */
export async function readKeyChange(
  outerPayload: string,
  outerUrl: string,
  account: AcmeAccount,
  accountUrl: string,
): Promise<NewAccountKey> {
  let inner: ReturnType<typeof asFlattenedJws>;
  try {
    inner = asFlattenedJws(JSON.parse(outerPayload) as unknown);
  } catch (e) {
    if (e instanceof AcmeProblem) throw e;
    throw malformed(
      'the keyChange payload is not a JWS',
      'put the inner JWS, signed by the new key, in the payload',
    );
  }
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(Buffer.from(inner.protected, 'base64url').toString('utf8')) as Record<
      string,
      unknown
    >;
  } catch {
    throw malformed('the inner JWS header is not base64url JSON', 'see RFC 8555 §7.3.5');
  }
  const { alg, jwk, url } = header;
  if (typeof alg !== 'string' || !(ACME_JWS_ALGORITHMS as readonly string[]).includes(alg))
    throw new AcmeProblem(
      'badSignatureAlgorithm',
      'acme_malformed',
      'the inner JWS algorithm is not accepted',
      `sign with one of ${ACME_JWS_ALGORITHMS.join(', ')}`,
    );
  if (typeof jwk !== 'object' || jwk === null || 'd' in jwk)
    throw malformed('the inner JWS must carry the new public key as "jwk"', 'see RFC 8555 §7.3.5');
  if ('kid' in header || 'nonce' in header)
    throw malformed('the inner JWS must have neither "kid" nor "nonce"', 'see RFC 8555 §7.3.5');
  if (url !== outerUrl)
    throw malformed('the inner JWS "url" differs from the outer one', 'sign both for the keyChange URL');
  let payload: Uint8Array;
  try {
    const key = await importJWK(jwk as JWK, alg);
    payload = (await flattenedVerify(inner, key, { algorithms: [...ACME_JWS_ALGORITHMS] })).payload;
  } catch {
    throw malformed(
      'the inner JWS signature does not verify with its "jwk"',
      'sign the inner JWS with the new key',
    );
  }
  let body: { account?: unknown; oldKey?: unknown };
  try {
    body = JSON.parse(Buffer.from(payload).toString('utf8')) as { account?: unknown; oldKey?: unknown };
  } catch {
    throw malformed('the inner JWS payload is not JSON', 'send {"account": URL, "oldKey": JWK}');
  }
  if (body.account !== accountUrl)
    throw unauthorized('the inner JWS names another account', 'set "account" to your account URL');
  let oldMatches = false;
  try {
    oldMatches =
      typeof body.oldKey === 'object' && (await thumbprintOf(body.oldKey as JWK)) === account.thumbprint;
  } catch {
    oldMatches = false;
  }
  if (!oldMatches)
    throw unauthorized(
      '"oldKey" is not the account’s current key',
      'set "oldKey" to the key you sign the outer JWS with',
    );
  const newJwk = publicJwk(jwk as JWK);
  return { jwk: newJwk, thumbprint: await thumbprintOf(newJwk) };
}

/** Stores the new key; a key another account holds is a 409 naming that account (RFC 8555 §7.3.5). */
export async function storeNewKey(
  store: AcmeStore,
  account: AcmeAccount,
  next: NewAccountKey,
): Promise<AcmeAccount> {
  const taken = (holderId: string) =>
    new AcmeProblem(
      'malformed',
      'acme_malformed',
      'the new key already belongs to an account',
      'roll over to a key no account uses',
      { status: 409, conflictAccountId: holderId },
    );
  const holder = await store.findAccountByThumbprint(next.thumbprint);
  if (holder) throw taken(holder.id);
  let updated: AcmeAccount | null;
  try {
    updated = await store.updateAccount(account.id, {
      jwk: JSON.stringify(next.jwk),
      thumbprint: next.thumbprint,
    });
  } catch (e) {
    if (!(e instanceof AcmeKeyTakenError)) throw e;
    // Another change took the key between the check and the write.
    throw taken((await store.findAccountByThumbprint(next.thumbprint))?.id ?? account.id);
  }
  if (!updated) throw notFound('account');
  return updated;
}
