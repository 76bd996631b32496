/** Builds the ACME service of an opened instance: store, RA, order policy and settings from the config. */

import { namePatternOrderPolicy } from '../acme/order-policy.js';
import { AcmeService } from '../acme/service.js';
import { EAB_KEY_PURPOSE, findEabKey } from '../auth/tokens/acme-eab.js';
import { parseAutosign } from '../domain/autosign.js';
import type { Clock } from '../types.js';
import { openSecretBox } from './front-door.js';
import type { Instance } from './open.js';

export function acmeServiceOf(instance: Instance, clock: Clock): AcmeService {
  const eabServerKey = openSecretBox(instance.layout).deriveKey(EAB_KEY_PURPOSE);
  return new AcmeService({
    store: instance.store.acme,
    eabKeys: { find: (kid) => findEabKey(instance.store, kid, clock, eabServerKey) },
    ra: instance.ra,
    policy: namePatternOrderPolicy(() => parseAutosign(instance.config().ra.autosign)),
    settings: () => {
      const c = instance.config();
      return {
        validator: {
          http01Port: c.acme.http01_port,
          resolver: c.acme.resolver,
          timeoutMs: c.acme.validation_timeout_seconds * 1000,
        },
        requireEab: c.acme.require_eab,
        nonceLifetimeSeconds: c.acme.nonce_lifetime_seconds,
        maxNonces: c.acme.max_nonces,
        ordersPerAccountPerHour: c.acme.orders_per_account_per_hour,
        certificatesPerNamePerWeek: c.acme.certificates_per_name_per_week,
        retryAfterSeconds: c.ra.pending_retry_after_seconds,
      };
    },
    clock,
    audit: instance.auditSink,
  });
}
