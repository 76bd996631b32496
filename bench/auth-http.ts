/**
 * One HTTPS request over a keep-alive agent, for the auth load generator: the status, the headers the
 * scenarios read, and the body only when asked for (it is always drained, so the connection is reused).
 */
import https from 'node:https';

export interface BenchRequest {
  method: 'GET' | 'POST';
  path: string;
  headers?: Record<string, string>;
  body?: string;
  /** Keep the body (bounded); otherwise it is read and dropped. */
  wantBody?: boolean;
}

export interface BenchAnswer {
  status: number;
  /** Every WWW-Authenticate value, one per challenge. */
  challenges: string[];
  body: string;
}

const MAX_BODY_BYTES = 64 * 1024;
const REQUEST_TIMEOUT_MS = 10_000;

export interface BenchClient {
  send(request: BenchRequest): Promise<BenchAnswer>;
  close(): void;
}

/** A client for one server; `localAddress` picks the source address (127.0.0.x) of its connections. */
export function benchClient(options: {
  url: URL;
  caPem: string;
  concurrency: number;
  localAddress?: string;
}): BenchClient {
  const agent = new https.Agent({ keepAlive: true, maxSockets: options.concurrency, ca: options.caPem });
  const send = (request: BenchRequest): Promise<BenchAnswer> =>
    new Promise((resolve, reject) => {
      const headers: Record<string, string | number> = { ...request.headers };
      if (request.body !== undefined) headers['content-length'] = Buffer.byteLength(request.body);
      const outgoing = https.request(
        {
          agent,
          host: options.url.hostname,
          port: options.url.port,
          method: request.method,
          path: request.path,
          headers,
          timeout: REQUEST_TIMEOUT_MS,
          ...(options.localAddress ? { localAddress: options.localAddress } : {}),
        },
        (response) => {
          const chunks: Buffer[] = [];
          let size = 0;
          response.on('data', (chunk: Buffer) => {
            if (!request.wantBody) return;
            size += chunk.length;
            if (size > MAX_BODY_BYTES) {
              response.destroy(new Error(`answer longer than ${MAX_BODY_BYTES} bytes`));
              return;
            }
            chunks.push(chunk);
          });
          response.on('error', reject);
          response.on('end', () => {
            // headersDistinct: `headers` joins repeated WWW-Authenticate fields with ", ", which
            // cannot be split back into challenges whose parameters hold commas too.
            resolve({
              status: response.statusCode ?? 0,
              challenges: response.headersDistinct['www-authenticate'] ?? [],
              body: request.wantBody ? Buffer.concat(chunks).toString('utf8') : '',
            });
          });
        },
      );
      outgoing.on('timeout', () => outgoing.destroy(new Error(`no answer in ${REQUEST_TIMEOUT_MS} ms`)));
      outgoing.on('error', reject);
      outgoing.end(request.body);
    });
  return { send, close: () => agent.destroy() };
}

/** application/x-www-form-urlencoded, as RFC 6749 §4 wants for /oauth/token. */
export function form(fields: Record<string, string>): string {
  return new URLSearchParams(fields).toString();
}

export const FORM_HEADERS = { 'content-type': 'application/x-www-form-urlencoded' };

/** Basic credentials of a user (RFC 7617). */
export function basicAuthorization(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;
}

/** Basic credentials of an OAuth client: id and secret are form-encoded first (RFC 6749 §2.3.1). */
export function clientAuthorization(clientId: string, secret: string): string {
  const encode = (text: string) => new URLSearchParams({ v: text }).toString().slice(2);
  return basicAuthorization(encode(clientId), encode(secret));
}

export function jsonObject(text: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}
