/**
 * The SDK the CLI uses against a remote server. It knows the refusal contract: it refreshes an
 * expired access token once (single-flight, so concurrent calls share one refresh and rotation
 * never trips reuse detection), notices clock skew from the server's Date header, and turns every
 * other refusal into one sentence with the fix.
 */
import { readFileSync } from 'node:fs';
import { describeSeconds } from '../util/durations.js';
import { loadSession, type StoredSession, saveSession } from './credentials.js';
import { ServerRefusal, Transport, TransportError } from './transport.js';

export const CLI_CLIENT_ID = 'certmaster-cli';

export interface TokenResponse {
  access_token: string;
  token_type: string;
  expires_in: number;
  refresh_token?: string;
  scope?: string;
}

export interface ApiClientOptions {
  /** A static token (`--token` or CERTMASTER_TOKEN): sent as is, never refreshed. */
  token?: string;
  /** A CA certificate file to trust when there is no login session holding one. */
  caFile?: string;
}

/** Seconds by which the server's clock differs from ours, when it is enough to matter. */
const SKEW_WORTH_MENTIONING_S = 30;

export class ApiClient {
  private session: StoredSession | null;
  private refreshing: Promise<void> | null = null;
  private warnedExpiry = false;
  private readonly transport: Transport;

  private constructor(
    readonly server: string,
    readonly origin: string,
    caPem: string,
    private readonly staticToken: string | undefined,
  ) {
    this.session = staticToken ? null : loadSession(origin);
    this.transport = new Transport(server, { ca: caPem });
  }

  static open(server: string, options: ApiClientOptions = {}): ApiClient {
    let origin: string;
    try {
      origin = new URL(server).origin;
    } catch {
      throw new TransportError(`--server "${server}" is not a URL; use e.g. https://ca.example.com:8443`);
    }
    const token = options.token ?? process.env.CERTMASTER_TOKEN;
    const session = loadSession(origin);
    const caFile = options.caFile ?? process.env.CERTMASTER_CA_FILE;
    const caPem = caFile ? readFileSync(caFile, 'utf8') : session?.caPem;
    if (!caPem) {
      throw new TransportError(
        `no CA is pinned for ${origin}: run \`certmaster login --server ${origin}\` first, or pass --ca-file with the CA certificate`,
      );
    }
    if (!token && !session) {
      throw new TransportError(
        `not logged in to ${origin}: run \`certmaster login --server ${origin}\`, or pass --token`,
      );
    }
    return new ApiClient(server, origin, caPem, token);
  }

  close(): void {
    this.transport.close();
  }

  async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    if (
      this.session &&
      Date.parse(this.session.accessTokenExpiresAt) - Date.now() < 15_000 &&
      this.session.refreshToken
    ) {
      await this.refresh();
    }
    const sent = this.session?.accessToken;
    try {
      return await this.once<T>(method, path, body);
    } catch (e) {
      if (e instanceof ServerRefusal && e.reason === 'token_expired' && this.session?.refreshToken) {
        // A concurrent call may have refreshed while this one was in flight: its new token is the
        // answer, and rotating again would spend a refresh token for nothing.
        if (this.session.accessToken === sent) await this.refresh();
        return this.once<T>(method, path, body);
      }
      throw e;
    }
  }

  private async once<T>(method: string, path: string, body?: unknown): Promise<T> {
    const token = this.staticToken ?? this.session?.accessToken;
    const answer = await this.transport.send(
      method,
      path,
      body,
      token ? { authorization: `Bearer ${token}` } : {},
    );
    let data: unknown = {};
    try {
      data = answer.body ? JSON.parse(answer.body) : {};
    } catch {
      throw new TransportError(`${method} ${path}: HTTP ${answer.status} with a body that is not JSON`);
    }
    const expiresIn = answer.headers['certmaster-token-expires-in'];
    if (this.staticToken && typeof expiresIn === 'string' && !this.warnedExpiry) {
      // The server says so in a token's last fifth of life; a static token is not refreshed for us.
      this.warnedExpiry = true;
      process.stderr.write(
        `certmaster: warning: the token in use expires in ${describeSeconds(Number(expiresIn))}; create a new one with \`certmaster token create\`\n`,
      );
    }
    if (answer.status < 400) return data as T;
    const refusal = new ServerRefusal(answer.status, data as Record<string, string>);
    const reason = refusal.reason;
    if (reason === 'token_expired' || reason === 'token_not_yet_valid') {
      const skew = clockSkewSeconds(answer.headers.date);
      if (
        skew !== null &&
        Math.abs(skew) >= SKEW_WORTH_MENTIONING_S &&
        !(reason === 'token_expired' && this.session?.refreshToken)
      ) {
        throw new TransportError(
          `${refusal.message} Note: this machine's clock is ${Math.abs(skew)} s ${skew > 0 ? 'behind' : 'ahead of'} the server's; fix the clock (NTP) and try again.`,
        );
      }
    }
    throw refusal;
  }

  /** One refresh at a time; callers that arrive meanwhile wait for the same one. */
  private refresh(): Promise<void> {
    if (!this.refreshing) {
      this.refreshing = this.doRefresh().finally(() => {
        this.refreshing = null;
      });
    }
    return this.refreshing;
  }

  private async doRefresh(): Promise<void> {
    const current = this.session;
    if (!current?.refreshToken) return;
    // Another certmaster process may have refreshed already: its tokens are newer than ours.
    const onDisk = loadSession(this.origin);
    if (
      onDisk &&
      onDisk.refreshToken !== current.refreshToken &&
      Date.parse(onDisk.accessTokenExpiresAt) > Date.now() + 15_000
    ) {
      this.session = onDisk;
      return;
    }
    const answer = await this.transport.form('/oauth/token', {
      grant_type: 'refresh_token',
      refresh_token: current.refreshToken,
      client_id: CLI_CLIENT_ID,
    });
    const data = JSON.parse(answer.body || '{}') as TokenResponse & {
      error?: string;
      error_description?: string;
      hint?: string;
    };
    if (answer.status !== 200 || !data.access_token) {
      throw new TransportError(
        `the session for ${this.origin} could not be refreshed (${data.error ?? `HTTP ${answer.status}`}${data.error_description ? `: ${data.error_description}` : ''}); run \`certmaster login --server ${this.origin}\` again`,
      );
    }
    this.session = {
      ...current,
      accessToken: data.access_token,
      accessTokenExpiresAt: new Date(Date.now() + data.expires_in * 1000).toISOString(),
      refreshToken: data.refresh_token ?? current.refreshToken,
    };
    saveSession(this.origin, this.session);
  }
}

/** Positive when the server's clock is ahead of ours. */
export function clockSkewSeconds(dateHeader: string | undefined): number | null {
  if (!dateHeader) return null;
  const server = Date.parse(dateHeader);
  if (Number.isNaN(server)) return null;
  return Math.round((server - Date.now()) / 1000);
}
