/** The files of the data directory: their modes, the CA key at rest, and the certificates' validity. */
import { X509Certificate } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { isEncryptedKeyPem } from '../../ca/key-encryption.js';
import type { Clock } from '../../types.js';
import { pemBlocks } from '../../util/pem.js';
import { shellWord } from '../explain/index.js';
import type { DoctorLayout } from './doctor-layout.js';
import { type CheckResult, DAY_MS, fail, ok, warn } from './result.js';

export const CERTIFICATE_WARN_DAYS = 30;
export const CERTIFICATE_FAIL_DAYS = 7;

/** Says whether the CA key is under a passphrase; unencrypted is the zero-setup default, not a fault. */
export function checkCaKeyAtRest(layout: DoctorLayout, dir: string): CheckResult {
  let pem: string;
  try {
    pem = readFileSync(layout.caKey, 'utf8');
  } catch (e) {
    return fail(
      'ca-key',
      `${layout.caKey} cannot be read (${(e as NodeJS.ErrnoException).code ?? 'error'})`,
      `restore ${layout.caKey} from backup`,
    );
  }
  return isEncryptedKeyPem(pem)
    ? ok(
        'ca-key',
        'the CA key is encrypted with a passphrase (PKCS#8, PBES2: PBKDF2-HMAC-SHA256 and AES-256-CBC); serve needs CERTMASTER_CA_PASSPHRASE[_FILE], --ca-passphrase-file or a terminal',
      )
    : ok(
        'ca-key',
        `the CA key is stored unencrypted (PKCS#8, protected by its file mode); to put it under a passphrase: certmaster ca encrypt-key --data ${dir}`,
      );
}

/** Directories 0700 and private keys 0600: group or other bits on them are a finding each. */
export function checkPermissions(layout: DoctorLayout): CheckResult {
  const wanted: Array<{ path: string; mode: 0o700 | 0o600 }> = [
    { path: layout.root, mode: 0o700 },
    { path: layout.caDir, mode: 0o700 },
    { path: layout.caKey, mode: 0o600 },
    { path: layout.serverDir, mode: 0o700 },
    { path: layout.serverKey, mode: 0o600 },
  ];
  if (existsSync(layout.secretsDir)) {
    wanted.push({ path: layout.secretsDir, mode: 0o700 });
    for (const entry of readdirSync(layout.secretsDir).sort()) {
      if (entry.endsWith('.key')) wanted.push({ path: join(layout.secretsDir, entry), mode: 0o600 });
    }
  }
  const problems: string[] = [];
  const fixes: string[] = [];
  for (const { path, mode } of wanted) {
    let actual: number;
    try {
      actual = statSync(path).mode & 0o777;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' && (path === layout.caKey || path === layout.serverKey)) {
        problems.push(`${path} is missing`);
        fixes.push(`restore ${path} from backup`);
      } else if (code !== 'ENOENT') {
        problems.push(`${path} cannot be read (${code ?? 'error'})`);
        fixes.push(`make ${path} readable by the user that runs certmaster`);
      }
      continue;
    }
    if ((actual & 0o077) !== 0) {
      problems.push(`${path} is mode ${actual.toString(8).padStart(4, '0')}, readable by others`);
      fixes.push(`chmod ${mode.toString(8)} ${shellWord(path)}`);
    }
  }
  if (problems.length === 0) {
    return ok('permissions', 'the data directory and private keys are readable by their owner only');
  }
  return fail('permissions', problems.join('; '), fixes.join('\n'));
}

export function checkCertificate(check: string, path: string, what: string, clock: Clock): CheckResult {
  let cert: X509Certificate;
  try {
    const der = pemBlocks(readFileSync(path, 'utf8'), 'CERTIFICATE')[0];
    if (der === undefined) throw new Error('no PEM certificate in it');
    cert = new X509Certificate(der);
  } catch (e) {
    return fail(
      check,
      `${what} ${path} does not load: ${(e as Error).message}`,
      `restore ${path} from backup`,
    );
  }
  const now = clock.now().getTime();
  const notAfter = new Date(cert.validTo);
  const notBefore = new Date(cert.validFrom);
  const days = (notAfter.getTime() - now) / DAY_MS;
  const renew =
    check === 'ca-certificate'
      ? `a CA cannot be extended: create a new one (certmaster init --data NEWDIR) and move hosts to it before ${notAfter.toISOString()}; every host must trust the new CA`
      : `replace ${shellWord(path)} and its key server.key beside it with a certificate from this CA for the server's names (keep the key 0600), then restart certmaster serve`;
  if (notAfter.getTime() <= now) {
    return fail(check, `${what} expired at ${notAfter.toISOString()}: TLS clients refuse it`, renew);
  }
  if (notBefore.getTime() > now) {
    return fail(
      check,
      `${what} is not valid before ${notBefore.toISOString()}, which is in the future: this machine's clock is behind`,
      'synchronise the clock with NTP (timedatectl set-ntp true)',
    );
  }
  const left = `expires in ${Math.floor(days)} days (${notAfter.toISOString()})`;
  if (days < CERTIFICATE_FAIL_DAYS) return fail(check, `${what} ${left}`, renew);
  if (days < CERTIFICATE_WARN_DAYS) return warn(check, `${what} ${left}`, renew);
  return ok(check, `${what} ${left}`);
}
