/** What the store holds that can break sign-ins or relying parties: digest secrets, signing keys, the CRL. */
import { existsSync } from 'node:fs';
import { openDigestSecrets } from '../../auth/accounts.js';
import { SecretBox } from '../../auth/secret-box.js';
import type { Config } from '../../config/schema.js';
import type { Clock } from '../../types.js';
import { printable, shellWord } from '../explain/index.js';
import type { DoctorLayout } from './doctor-layout.js';
import { type CheckResult, DAY_MS, fail, ok, warn } from './result.js';
import type { StoreForDoctor } from './store.js';

/** A retiring signing key this close to leaving the JWKS, with nothing to replace it, is worth a warning. */
const SIGNING_KEY_WARN_MS = DAY_MS;
/** Users whose digest secrets are checked; names listed in one message. */
const MAX_USERS_CHECKED = 10_000;
const MAX_NAMES_SHOWN = 10;

/** An expired CRL makes every relying party that checks it refuse every certificate of this CA. */
export async function checkCrl(store: StoreForDoctor, clock: Clock, dir: string): Promise<CheckResult> {
  const crl = await store.latestCrl();
  const serve = `start the server (certmaster serve --data ${dir}): it publishes the CRL and rebuilds it halfway to nextUpdate`;
  if (crl === null) return ok('crl', 'no CRL yet; certmaster serve publishes one when it starts');
  const now = clock.now().getTime();
  const at = `CRL number ${crl.crlNumber}, nextUpdate ${crl.nextUpdate.toISOString()}`;
  if (now >= crl.nextUpdate.getTime()) {
    return fail('crl', `${at}: expired; relying parties that check it refuse every certificate`, serve);
  }
  if (now >= (crl.thisUpdate.getTime() + crl.nextUpdate.getTime()) / 2) {
    return warn('crl', `${at}: past halfway and not rebuilt; no server is refreshing it`, serve);
  }
  return ok('crl', `${at}`);
}

/**
 * Digest secrets are H(A1) over the realm (RFC 7616 §3.4.2): after auth.realm changes, or sealed with
 * another key, they can never match, and every Digest sign-in of those accounts is a 401.
 */
export async function checkDigestRealm(
  store: StoreForDoctor,
  layout: DoctorLayout,
  config: Config,
  dir: string,
): Promise<CheckResult> {
  const check = 'digest-realm';
  const users = (await store.listUsers()).slice(0, MAX_USERS_CHECKED).filter((u) => u.digestSecrets !== null);
  if (users.length === 0) return ok(check, 'no account has digest secrets');
  if (!existsSync(layout.authKey)) {
    return fail(
      check,
      `${users.length} account(s) have digest secrets, but ${layout.authKey} is missing: none of them can open`,
      `restore ${layout.authKey} from backup (mode 0600), or set each password again with --digest`,
    );
  }
  let box: SecretBox;
  try {
    box = SecretBox.loadOrCreate(layout.authKey);
  } catch (e) {
    return fail(
      check,
      `the key that seals digest secrets does not load: ${(e as Error).message}`,
      `restore ${layout.authKey} from backup, mode 0600`,
    );
  }
  const realm = config.auth.realm;
  const otherRealm: Array<{ name: string; realm: string }> = [];
  const sealedElsewhere: string[] = [];
  for (const user of users) {
    const secrets = openDigestSecrets(box, user);
    if (secrets === null) sealedElsewhere.push(user.name);
    else if (secrets.realm !== realm) otherRealm.push({ name: user.name, realm: secrets.realm });
  }
  if (otherRealm.length === 0 && sealedElsewhere.length === 0) {
    return ok(check, `${users.length} account(s) have digest secrets for realm "${realm}"`);
  }
  const problems: string[] = [];
  if (otherRealm.length > 0) {
    const was = [...new Set(otherRealm.map((u) => `"${printable(u.realm, 100)}"`))].join(', ');
    problems.push(
      `auth.realm is "${realm}" but the digest secrets of ${listNames(otherRealm.map((u) => u.name))} were made for realm ${was}`,
    );
  }
  if (sealedElsewhere.length > 0) {
    problems.push(
      `the digest secrets of ${listNames(sealedElsewhere)} do not open with ${layout.authKey} (sealed with another key)`,
    );
  }
  const names = [...otherRealm.map((u) => u.name), ...sealedElsewhere];
  const previous = otherRealm[0]?.realm;
  const fix = [
    'set these passwords again with --digest (Digest sign-ins of these accounts fail until then):',
    ...names
      .slice(0, MAX_NAMES_SHOWN)
      .map((n) => `certmaster user passwd ${shellWord(n)} --digest --data ${dir}`),
    ...(previous !== undefined
      ? [`or set the realm back: certmaster config set auth.realm ${shellWord(previous)} --data ${dir}`]
      : []),
  ].join('\n');
  const message = `${problems.join('; ')}: their Digest sign-ins are refused (401 credentials_invalid)`;
  return config.auth.digest
    ? fail(check, message, fix)
    : warn(check, `${message} once auth.digest is on`, fix);
}

function listNames(names: string[]): string {
  const shown = names.slice(0, MAX_NAMES_SHOWN).map((n) => printable(n, 80));
  return names.length > MAX_NAMES_SHOWN
    ? `${shown.join(', ')} and ${names.length - MAX_NAMES_SHOWN} more`
    : shown.join(', ');
}

/** Access tokens need a key that signs now; a ring that only holds retired keys makes every login fail. */
export async function checkSigningKeys(store: StoreForDoctor, clock: Clock): Promise<CheckResult> {
  const check = 'signing-keys';
  const keys = await store.listSigningKeys();
  if (keys.length === 0)
    return ok(check, 'no access-token signing key yet; certmaster serve creates one when it starts');
  const now = clock.now().getTime();
  const published = (k: (typeof keys)[number]) => k.removeAfter === null || k.removeAfter.getTime() > now;
  const usable = keys.filter(
    (k) =>
      k.notBefore.getTime() <= now && (k.retiredAt === null || k.retiredAt.getTime() > now) && published(k),
  );
  const restart = 'restart certmaster serve: it creates a new signing key when none can sign';
  if (usable.length === 0) {
    return fail(
      check,
      `none of the ${keys.length} access-token signing key(s) can sign now (all retired, removed or not yet valid): logins and token refreshes fail`,
      restart,
    );
  }
  const newest = [...usable].sort((a, b) => b.notBefore.getTime() - a.notBefore.getTime())[0];
  if (newest !== undefined && newest.retiredAt !== null) {
    const ends = Math.min(
      newest.retiredAt.getTime(),
      newest.removeAfter?.getTime() ?? Number.POSITIVE_INFINITY,
    );
    if (ends - now < SIGNING_KEY_WARN_MS) {
      return warn(
        check,
        `the newest signing key ${newest.kid} is retiring at ${new Date(ends).toISOString()} and no newer key exists`,
        restart,
      );
    }
  }
  return ok(check, `${usable.length} signing key(s) usable; newest ${newest?.kid ?? ''}`);
}
