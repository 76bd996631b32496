/**
 * `certmaster doctor`: finds the misconfigurations that turn into 401s (and failed handshakes)
 * before users meet them, each with the fix. It reads the data directory and, given a peer, that
 * peer's clock; it changes nothing except what opening the store does (pending migrations apply).
 */
import { existsSync } from 'node:fs';
import { type Clock, systemClock } from '../../types.js';
import { shellWord } from '../explain/index.js';
import { checkClockSkew } from './clock.js';
import { checkBasicOverPlainHttp, checkConfig } from './config.js';
import { checkFreeDisk } from './disk.js';
import type { DoctorLayout } from './doctor-layout.js';
import { checkCaKeyAtRest, checkCertificate, checkPermissions } from './files.js';
import { type CheckResult, fail, warn } from './result.js';
import { openStoreChecked } from './store.js';
import { checkCrl, checkDigestRealm, checkSigningKeys } from './store-records.js';

export interface DoctorOptions {
  /** The data directory as the operator gave it (the fixes name it so). */
  dataDir: string;
  /** Where its files are: src/instance's `dataLayout(dataDir)`. */
  layout: DoctorLayout;
  /** Another certmaster (or any HTTP server) whose Date header the local clock is compared with. */
  peer?: string;
  clock?: Clock;
  /** How long the store and the peer may take to answer. */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 10_000;

/** Runs every check; the order is the order of the report. */
export async function runDoctor(options: DoctorOptions): Promise<CheckResult[]> {
  const clock = options.clock ?? systemClock;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const layout = options.layout;
  const dir = shellWord(options.dataDir);
  if (!existsSync(layout.initialized)) {
    return [
      fail(
        'data-dir',
        `${layout.root} is not an initialised certmaster data directory`,
        `give the server's data directory, or create one: certmaster init --data ${dir}`,
      ),
    ];
  }
  const results: CheckResult[] = [];
  const configResult = checkConfig(layout, dir);
  results.push(configResult.result);
  const config = configResult.config;
  results.push(checkPermissions(layout));
  results.push(checkCaKeyAtRest(layout, dir));
  results.push(checkCertificate('ca-certificate', layout.caCertificate, 'the CA certificate', clock));
  results.push(
    checkCertificate('server-certificate', layout.serverCertificate, 'the server certificate', clock),
  );
  if (config === null) {
    const skipped = 'not checked: certmaster.toml does not load';
    const fix = 'fix the configuration first (see the config check)';
    for (const check of [
      'free-disk',
      'basic-over-plain-http',
      'store',
      'digest-realm',
      'signing-keys',
      'crl',
    ]) {
      results.push(warn(check, skipped, fix));
    }
  } else {
    results.push(await checkFreeDisk(layout.root, config.audit.min_free_disk));
    results.push(checkBasicOverPlainHttp(config, dir));
    const opened = await openStoreChecked(layout, config, timeoutMs);
    results.push(opened.result);
    if (opened.store === null) {
      results.push(warn('digest-realm', 'not checked: the store is not available', 'fix the store first'));
      results.push(warn('signing-keys', 'not checked: the store is not available', 'fix the store first'));
      results.push(warn('crl', 'not checked: the store is not available', 'fix the store first'));
    } else {
      try {
        results.push(await checkDigestRealm(opened.store, layout, config, dir));
        results.push(await checkSigningKeys(opened.store, clock));
        results.push(await checkCrl(opened.store, clock, dir));
      } finally {
        await opened.store.close();
      }
    }
  }
  if (options.peer !== undefined) results.push(await checkClockSkew(options.peer, layout, clock, timeoutMs));
  return results;
}
