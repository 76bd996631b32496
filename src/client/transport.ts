/**
 * The HTTP client the CLI uses: JSON over HTTPS, trusting exactly one CA, and turning problem+json
 * answers into errors the CLI can branch on by reason code.
 */
import http from 'node:http';
import https from 'node:https';
import { URL } from 'node:url';
import { isReason, type Reason } from '../contract/refusals.js';

/** Every reason code a refusal can carry (docs/refusals.md): SDK users branch on it, typed. */
export type { Reason } from '../contract/refusals.js';
export { REASONS } from '../contract/refusals.js';

export interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface ProblemBody {
  reason?: string;
  detail?: string;
  hint?: string;
  request_id?: string;
  title?: string;
  problems?: Array<{ field: string; message: string }>;
}

/** A refusal from the server, carrying the problem+json members. */
export class ServerRefusal extends Error {
  constructor(
    readonly status: number,
    readonly problem: ProblemBody,
  ) {
    const parts = [problem.detail ?? problem.title ?? `HTTP ${status}`];
    if (problem.problems && problem.problems.length > 1)
      parts.push(`(${problem.problems.map((p) => p.message).join('; ')})`);
    if (problem.hint) parts.push(`— ${problem.hint}`);
    if (problem.request_id) parts.push(`[request id ${problem.request_id}]`);
    super(parts.join(' '));
    this.name = 'ServerRefusal';
  }
  /** The reason code; undefined when there is none or a newer server sent one this SDK does not know. */
  get reason(): Reason | undefined {
    const reason = this.problem.reason;
    return reason !== undefined && isReason(reason) ? reason : undefined;
  }
}

/** The server could not be reached or spoke something else: a sentence for the user, no stack. */
export class TransportError extends Error {
  override name = 'TransportError';
}

const MAX_RESPONSE_BYTES = 4 * 1024 * 1024;
const TIMEOUT_MS = 30_000;

export interface TransportOptions {
  /** PEM of the only CA to trust; when absent the system roots apply. */
  ca?: string;
  /** Only to fetch the CA certificate on first contact, whose fingerprint is then checked. */
  skipVerify?: boolean;
  /** A client certificate and its key, PEM, presented in the TLS handshake (mutual TLS). */
  clientCertificate?: { cert: string; key: string };
}

export class Transport {
  private readonly base: URL;
  private readonly agent: http.Agent;

  constructor(baseUrl: string, options: TransportOptions = {}) {
    try {
      this.base = new URL(baseUrl);
    } catch {
      throw new TransportError(`--server "${baseUrl}" is not a URL; use e.g. https://ca.example.com:8443`);
    }
    if (this.base.protocol !== 'https:' && this.base.protocol !== 'http:') {
      throw new TransportError(`--server "${baseUrl}" must start with https://`);
    }
    this.agent =
      this.base.protocol === 'https:'
        ? new https.Agent({
            keepAlive: true,
            ca: options.ca,
            rejectUnauthorized: !options.skipVerify,
            maxSockets: 8,
            ...(options.clientCertificate
              ? { cert: options.clientCertificate.cert, key: options.clientCertificate.key }
              : {}),
          })
        : new http.Agent({ keepAlive: true, maxSockets: 8 });
  }

  get origin(): string {
    return this.base.origin;
  }

  close(): void {
    this.agent.destroy();
  }

  /** POSTs application/x-www-form-urlencoded fields, as the OAuth token endpoint takes them. */
  form(path: string, fields: Record<string, string>, headers: Record<string, string> = {}): Promise<Answer> {
    return this.send('POST', path, new URLSearchParams(fields).toString(), {
      'content-type': 'application/x-www-form-urlencoded',
      ...headers,
    });
  }

  send(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> {
    const url = new URL(path, this.base);
    const payload =
      body === undefined ? undefined : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
    const mod = url.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const req = mod.request(
        url,
        {
          method,
          agent: this.agent,
          headers: {
            accept: 'application/json, application/problem+json',
            ...(payload
              ? { 'content-type': 'application/json', 'content-length': String(payload.length) }
              : {}),
            ...headers,
          },
          timeout: TIMEOUT_MS,
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            size += c.length;
            if (size > MAX_RESPONSE_BYTES) {
              req.destroy(new TransportError(`the server's answer exceeds ${MAX_RESPONSE_BYTES} bytes`));
              return;
            }
            chunks.push(c);
          });
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              body: Buffer.concat(chunks).toString('utf8'),
            }),
          );
          res.on('error', reject);
        },
      );
      req.on('timeout', () =>
        req.destroy(new TransportError(`no answer from ${url.origin} within ${TIMEOUT_MS / 1000} s`)),
      );
      req.on('error', (e) => reject(explainNetworkError(e, url)));
      req.end(payload);
    });
  }

  /** Sends and parses JSON; any 4xx/5xx becomes a ServerRefusal. */
  async json<T>(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; headers: http.IncomingHttpHeaders; data: T }> {
    const answer = await this.send(method, path, body, headers);
    let data: unknown;
    try {
      data = answer.body ? JSON.parse(answer.body) : {};
    } catch {
      throw new TransportError(
        `${method} ${path}: the server answered HTTP ${answer.status} with a body that is not JSON`,
      );
    }
    if (answer.status >= 400) throw new ServerRefusal(answer.status, data as ProblemBody);
    return { status: answer.status, headers: answer.headers, data: data as T };
  }
}

function explainNetworkError(e: Error, url: URL): Error {
  const code = (e as NodeJS.ErrnoException).code ?? '';
  if (code === 'ECONNREFUSED')
    return new TransportError(
      `nothing listens at ${url.origin} (connection refused); is certmaster serve running there?`,
    );
  if (code === 'ENOTFOUND')
    return new TransportError(`the host ${url.hostname} is unknown (DNS lookup failed)`);
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return new TransportError(
      `the server's certificate is not valid for ${url.hostname}; connect by a name the server certificate carries (see \`certmaster init --san\`)`,
    );
  }
  if (
    code === 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' ||
    code === 'SELF_SIGNED_CERT_IN_CHAIN' ||
    code === 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY' ||
    code === 'DEPTH_ZERO_SELF_SIGNED_CERT'
  ) {
    return new TransportError(
      `the server at ${url.origin} presented a certificate that the pinned CA did not issue (${code}); refusing to talk to it`,
    );
  }
  return e;
}
