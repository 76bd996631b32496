/** The HTTP front door's refusals, and the audit log's. Assembled, in this order, by ../refusals.ts. */
import type { RefusalEntry } from '../refusal-entry.js';

export const HTTP_REFUSALS = {
  // -- HTTP front door --------------------------------------------------------------------------
  invalid_request: {
    status: 400,
    title: 'The request is not well-formed',
    meaning: 'The body or query does not match the endpoint schema (see /openapi.json).',
    oauthError: 'invalid_request',
    layer: 'http',
    remedy: 'Send what /openapi.json describes for the endpoint.',
  },
  not_found: {
    status: 404,
    title: 'Not found',
    meaning: 'Nothing is served at that path, or the request or certificate asked for does not exist.',
    oauthError: null,
    layer: 'http',
    remedy: 'Check the path (see /openapi.json) or the id.',
  },
  body_too_large: {
    status: 413,
    title: 'The request body is too large',
    meaning: 'The body exceeds server.body_limit_bytes.',
    oauthError: null,
    layer: 'http',
    remedy: 'Send one PEM CSR (a few kilobytes).',
  },
  unsupported_media_type: {
    status: 415,
    title: 'Unsupported media type',
    meaning: 'The endpoint takes application/json (the token endpoint takes a form) and got something else.',
    oauthError: null,
    layer: 'http',
    remedy: 'Send Content-Type: application/json.',
  },
  internal_error: {
    status: 500,
    title: 'Internal error',
    meaning: 'The server failed to handle the request; its log has the error under the request id.',
    oauthError: null,
    layer: 'http',
    remedy: 'Report the request id to the operator.',
  },
  audit_unavailable: {
    status: 503,
    title: 'The audit log is unavailable',
    meaning:
      'The audit log could not be written, so nothing was done (the server never acts without a record).',
    oauthError: null,
    layer: 'audit',
    remedy: 'Try again shortly; an operator checks the store with `certmaster doctor`.',
  },
} as const satisfies Record<string, RefusalEntry>;
