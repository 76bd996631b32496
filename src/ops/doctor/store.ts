/** Opening the store the server would use, and whether its schema is the one this version needs. */
import { existsSync } from 'node:fs';
import type { RevocationStore } from '../../ca/revocation-port.js';
import type { Config } from '../../config/schema.js';
import type { Store } from '../../store/certificates/store.js';
import type { AuthStore } from '../../store/identities/auth-store.js';
import { LATEST_SCHEMA_VERSION, SchemaTooNewError } from '../../store/migrations/index.js';
import { openStore, parseStoreUrl } from '../../store/open.js';
import { absoluteStoreUrl } from '../../util/store-url.js';
import { printable } from '../explain/index.js';
import type { DoctorLayout } from './doctor-layout.js';
import { type CheckResult, fail, ok } from './result.js';

export type StoreForDoctor = Pick<Store, 'health' | 'close'> &
  Pick<AuthStore, 'listUsers' | 'listSigningKeys'> &
  Pick<RevocationStore, 'latestCrl'>;

export async function openStoreChecked(
  layout: DoctorLayout,
  config: Config,
  timeoutMs: number,
): Promise<{ result: CheckResult; store: StoreForDoctor | null }> {
  const url = absoluteStoreUrl(config.store.url, layout.root);
  const location = parseStoreUrl(url);
  const where = location.kind === 'postgres' ? 'the PostgreSQL store' : `the store ${location.path}`;
  if (location.kind === 'sqlite' && !existsSync(location.path)) {
    // Opening would create an empty database, and the server would start with no accounts or records.
    return {
      result: fail(
        'store',
        `the store file ${location.path} does not exist: a server started now would begin with an empty database`,
        'restore the database from backup, or correct store.url',
      ),
      store: null,
    };
  }
  let store: StoreForDoctor;
  try {
    store = await withTimeout(
      openStore(url, { writerThread: false }),
      timeoutMs,
      `${where} did not answer within ${timeoutMs / 1000} s`,
    );
  } catch (e) {
    const message = (e as Error).message;
    return {
      result: fail(
        'store',
        `${where} cannot be opened: ${printable(message, 300)}`,
        e instanceof SchemaTooNewError
          ? 'upgrade certmaster to the version that migrated this store'
          : 'check store.url, that the database is up and reachable, and the file permissions',
      ),
      store: null,
    };
  }
  let health: { ok: boolean; schemaVersion: number };
  try {
    health = await withTimeout(
      store.health(),
      timeoutMs,
      `${where} did not answer within ${timeoutMs / 1000} s`,
    );
  } catch (e) {
    await store.close().catch(() => undefined);
    return {
      result: fail(
        'store',
        `${where} does not answer: ${printable((e as Error).message, 300)}`,
        'check that the database is up and reachable',
      ),
      store: null,
    };
  }
  if (!health.ok) {
    await store.close();
    return {
      result: fail('store', `${where} does not answer`, 'check that the database is up and reachable'),
      store: null,
    };
  }
  if (health.schemaVersion < LATEST_SCHEMA_VERSION) {
    return {
      result: fail(
        'store',
        `${where} has schema version ${health.schemaVersion}; this certmaster needs ${LATEST_SCHEMA_VERSION} (migrations pending)`,
        'start certmaster serve (or any command) with this version once: it applies the migrations',
      ),
      store,
    };
  }
  if (health.schemaVersion > LATEST_SCHEMA_VERSION) {
    return {
      result: fail(
        'store',
        `${where} has schema version ${health.schemaVersion}, newer than this certmaster (${LATEST_SCHEMA_VERSION})`,
        'upgrade certmaster to the version that migrated this store',
      ),
      store,
    };
  }
  return { result: ok('store', `${where} answers, schema version ${health.schemaVersion} (current)`), store };
}

export function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
