/** A small ACME client (RFC 8555) for tests: signs flattened JWS with jose, follows nonces. */
import { generateKeyPairSync } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, FlattenedSign, type JWK } from 'jose';
import { call, type Reply } from './http.js';

type Key = ReturnType<typeof generateKeyPairSync>['privateKey'];

export class TestAcmeClient {
  nonce: string | null = null;
  kid: string | null = null;
  directory: Record<string, string> = {};
  jwk: JWK = {};

  private constructor(
    readonly base: string,
    readonly ca: string,
    readonly privateKey: Key,
    readonly alg: string,
  ) {}

  static async create(
    base: string,
    ca: string,
    alg: 'ES256' | 'EdDSA' | 'RS256' = 'ES256',
  ): Promise<TestAcmeClient> {
    const pair =
      alg === 'ES256'
        ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
        : alg === 'EdDSA'
          ? generateKeyPairSync('ed25519')
          : generateKeyPairSync('rsa', { modulusLength: 2048 });
    const client = new TestAcmeClient(base, ca, pair.privateKey, alg);
    client.jwk = await exportJWK(pair.publicKey);
    const dir = await call(`${base}/acme/directory`, { ca });
    client.directory = dir.json as Record<string, string>;
    return client;
  }

  thumbprint(): Promise<string> {
    return calculateJwkThumbprint(this.jwk, 'sha256');
  }

  async freshNonce(): Promise<string> {
    const r = await call(this.directory.newNonce ?? '', { method: 'HEAD', ca: this.ca });
    return String(r.headers['replay-nonce']);
  }

  /** POSTs a JWS; `payload` null is POST-as-GET. */
  async post(
    url: string,
    payload: unknown,
    opts: { useJwk?: boolean; nonce?: string; key?: Key; jwk?: JWK; headerUrl?: string } = {},
  ): Promise<Reply> {
    const nonce = opts.nonce ?? this.nonce ?? (await this.freshNonce());
    const header: Record<string, unknown> = { alg: this.alg, nonce, url: opts.headerUrl ?? url };
    if (opts.useJwk || this.kid === null) header.jwk = opts.jwk ?? this.jwk;
    else header.kid = this.kid;
    const body = payload === null ? new Uint8Array() : new TextEncoder().encode(JSON.stringify(payload));
    const jws = await new FlattenedSign(body)
      .setProtectedHeader(header as { alg: string })
      .sign(opts.key ?? this.privateKey);
    const reply = await call(url, {
      method: 'POST',
      ca: this.ca,
      body: JSON.stringify(jws),
      headers: { 'content-type': 'application/jose+json' },
    });
    const next = reply.headers['replay-nonce'];
    this.nonce = typeof next === 'string' ? next : null;
    return reply;
  }

  async register(): Promise<Reply> {
    const r = await this.post(
      this.directory.newAccount ?? '',
      { termsOfServiceAgreed: true },
      { useJwk: true },
    );
    if (r.status === 201 || r.status === 200) this.kid = String(r.headers.location);
    return r;
  }

  /** Polls a resource (POST-as-GET) until its status leaves `pending`/`processing`. */
  async poll(url: string): Promise<Reply> {
    for (let i = 0; i < 100; i++) {
      const r = await this.post(url, null);
      const status = r.json.status;
      if (status !== 'pending' && status !== 'processing') return r;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`${url} stayed pending`);
  }
}
