/**
 * Where things live inside a data directory. Keys are 0600 inside 0700 directories.
 */
import { join, resolve } from 'node:path';
import { absoluteStoreUrl } from '../util/store-url.js';

export interface DataLayout {
  root: string;
  config: string;
  caDir: string;
  caCertificate: string;
  caKey: string;
  /** The delegated OCSP responder's certificate and key (0600), issued and rotated by the CA. */
  ocspCertificate: string;
  ocspKey: string;
  serverDir: string;
  serverCertificate: string;
  serverKey: string;
  secretsDir: string;
  /** The key that seals digest secrets and JWT signing keys at rest (0600). */
  authKey: string;
  /** Ed25519 key that signs audit checkpoints (0600). */
  auditKey: string;
  /** Request ids answered 503 audit_unavailable, for `explain` (src/audit/outage-log.ts). */
  auditOutage: string;
  /** Written last by init: its presence means the directory is complete. */
  initialized: string;
}

export function dataLayout(dir: string): DataLayout {
  const root = resolve(dir);
  return {
    root,
    config: join(root, 'certmaster.toml'),
    caDir: join(root, 'ca'),
    caCertificate: join(root, 'ca', 'ca.pem'),
    caKey: join(root, 'ca', 'ca.key'),
    ocspCertificate: join(root, 'ca', 'ocsp.pem'),
    ocspKey: join(root, 'ca', 'ocsp.key'),
    serverDir: join(root, 'server'),
    serverCertificate: join(root, 'server', 'server.pem'),
    serverKey: join(root, 'server', 'server.key'),
    secretsDir: join(root, 'secrets'),
    authKey: join(root, 'secrets', 'auth.key'),
    auditKey: join(root, 'secrets', 'audit.key'),
    auditOutage: join(root, 'audit-outage.jsonl'),
    initialized: join(root, '.initialized'),
  };
}

/** The store URL with a relative SQLite path resolved against the data directory. */
export function resolveStoreUrl(url: string, root: string): string {
  return absoluteStoreUrl(url, root);
}
