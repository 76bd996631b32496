/**
 * What the HTTPS listener offers and what every HTTPS answer says about transport: TLS 1.3, and
 * TLS 1.2 only with ECDHE and an AEAD (AES-GCM or ChaCha20-Poly1305); no CBC, no SHA-1 MACs, no
 * static RSA key exchange (RFC 9325 §4.2 recommends exactly these TLS 1.2 suites).
 */
import type { onRequestHookHandler, onSendHookHandler } from 'fastify';

/** TLS 1.2 suites, strongest first; OpenSSL names. */
const TLS12_CIPHERS = [
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
];

/**
 * TLS 1.3 suites are named in the same list: Node applies the `TLS_` names to TLS 1.3 and would
 * otherwise offer none once a TLS 1.2 list is given.
 */
const TLS13_SUITES = ['TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256', 'TLS_AES_128_GCM_SHA256'];

export const TLS_POLICY = {
  minVersion: 'TLSv1.2',
  ciphers: [...TLS13_SUITES, ...TLS12_CIPHERS].join(':'),
  honorCipherOrder: true,
} as const;

/** One year; no includeSubDomains, since the server cannot speak for other hosts (RFC 6797 §6.1). */
export const HSTS_VALUE = 'max-age=31536000';

/** RFC 6797 §7.2: the header is only meaningful, and only sent, over a secure transport. */
export const strictTransportHook: onRequestHookHandler = (_request, reply, done) => {
  reply.header('strict-transport-security', HSTS_VALUE);
  done();
};

/**
 * Answers under /v1 are about one caller's accounts, tokens, requests or audit records: no shared
 * or private cache may keep them (RFC 9111 §5.2.2.5).
 */
export const noStoreHook: onSendHookHandler<unknown> = (request, reply, payload, done) => {
  if (request.url.startsWith('/v1/') || request.url === '/v1') reply.header('cache-control', 'no-store');
  done(null, payload);
};
