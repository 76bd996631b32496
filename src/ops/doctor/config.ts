/** The configuration file, and what the listener settings mean for Basic sign-ins. */
import { loadConfig } from '../../config/file.js';
import { type Config, ConfigError, parseListenAddress } from '../../config/schema.js';
import { isLoopbackAddress } from '../../util/address.js';
import type { DoctorLayout } from './doctor-layout.js';
import { type CheckResult, fail, ok } from './result.js';

export function checkConfig(
  layout: DoctorLayout,
  dir: string,
): { result: CheckResult; config: Config | null } {
  try {
    const config = loadConfig(layout.config);
    return { result: ok('config', `${layout.config} is valid`), config };
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    const fix =
      e.key !== undefined && e.allowed !== undefined
        ? `set it to ${e.allowed}: certmaster config set ${e.key} VALUE --data ${dir}`
        : `correct ${layout.config} (certmaster config list --data ${dir} shows every setting; config set KEY VALUE rewrites the file)`;
    return { result: fail('config', e.message, fix), config: null };
  }
}

/** Basic over plain HTTP is refused except from loopback: on a listener others reach, it is a 401 for them all. */
export function checkBasicOverPlainHttp(config: Config, dir: string): CheckResult {
  const check = 'basic-over-plain-http';
  let host: string;
  try {
    host = parseListenAddress(config.server.listen).host;
  } catch (e) {
    return fail(
      check,
      `server.listen does not parse: ${(e as Error).message}`,
      `certmaster config set server.listen 127.0.0.1:8443 --data ${dir}`,
    );
  }
  const loopback = host === 'localhost' || isLoopbackAddress(host);
  if (!config.server.plain_http) return ok(check, 'the server speaks HTTPS');
  if (loopback) return ok(check, `plain HTTP, but only on loopback (${config.server.listen})`);
  if (!config.auth.basic) {
    return ok(check, `plain HTTP on ${config.server.listen} with Basic off (a TLS proxy should be in front)`);
  }
  return fail(
    check,
    `server.plain_http is true, server.listen ${config.server.listen} is not loopback and auth.basic is true: Basic from any other machine is refused (401 scheme_unsupported), and would send passwords in the clear`,
    `serve HTTPS: certmaster config set server.plain_http false --data ${dir}\nor, behind a TLS-terminating proxy, turn Basic off and use tokens: certmaster config set auth.basic false --data ${dir}`,
  );
}
