/**
 * The expiry webhooks now live in src/ops/webhooks/; this file only keeps the old import path
 * (`ops/webhooks.js`) working for src/instance/server.ts until it imports `ops/webhooks/index.js`.
 */
export * from './webhooks/index.js';
