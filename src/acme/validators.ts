/**
 * Challenge validators (RFC 8555 §8.3 http-01, §8.4 dns-01). They never throw: each returns what it
 * saw, so `explain` can tell an operator why a challenge failed.
 */
import { createHash } from 'node:crypto';
import { Resolver } from 'node:dns/promises';
import { request as httpRequest } from 'node:http';
import { isIP } from 'node:net';
import { parseListenAddress } from '../config/schema.js';

export interface ValidatorSettings {
  /** Port http-01 connects to (80 unless `acme.http01_port` says otherwise). */
  http01Port: number;
  /** "HOST:PORT" of the DNS server to ask, or "" for the system resolver. */
  resolver: string;
  timeoutMs: number;
}

export type ValidationResult =
  | { ok: true; seen: string }
  | {
      ok: false;
      type: 'connection' | 'dns' | 'incorrectResponse' | 'unauthorized';
      detail: string;
      seen: string;
    };

/** Most bytes read of an http-01 answer; a key authorization is under 200. */
const MAX_HTTP01_BODY = 8 * 1024;

function resolverFor(settings: ValidatorSettings): Resolver {
  const resolver = new Resolver({ timeout: settings.timeoutMs, tries: 2 });
  if (settings.resolver !== '') {
    const { host, port } = parseListenAddress(settings.resolver);
    resolver.setServers([isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`]);
  }
  return resolver;
}

async function addressOf(name: string, settings: ValidatorSettings): Promise<string> {
  if (settings.resolver === '') return name;
  const resolver = resolverFor(settings);
  try {
    const [address] = await resolver.resolve4(name);
    if (address !== undefined) return address;
  } catch {
    // Fall through to AAAA.
  }
  const [address] = await resolver.resolve6(name);
  if (address === undefined) throw new Error(`no address for ${name}`);
  return address;
}

/** RFC 8555 §8.3: GET http://NAME/.well-known/acme-challenge/TOKEN must answer the key authorization. */
export async function validateHttp01(
  name: string,
  token: string,
  keyAuthorization: string,
  settings: ValidatorSettings,
): Promise<ValidationResult> {
  const url = `http://${name}:${settings.http01Port}/.well-known/acme-challenge/${token}`;
  let address: string;
  try {
    address = await addressOf(name, settings);
  } catch (e) {
    return { ok: false, type: 'dns', detail: `cannot resolve ${name}`, seen: `DNS: ${(e as Error).message}` };
  }
  return new Promise((resolve) => {
    const req = httpRequest(
      {
        host: address,
        port: settings.http01Port,
        path: `/.well-known/acme-challenge/${token}`,
        method: 'GET',
        headers: { host: name, 'user-agent': 'certmaster-acme-validator' },
        timeout: settings.timeoutMs,
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_HTTP01_BODY) {
            res.destroy();
            return;
          }
          chunks.push(chunk);
        });
        res.on('close', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          const seen = `GET ${url} -> ${res.statusCode} ${JSON.stringify(body.slice(0, 200))}`;
          if (res.statusCode !== 200) {
            resolve({
              ok: false,
              type: 'unauthorized',
              detail: `${url} answered HTTP ${res.statusCode}`,
              seen,
            });
          } else if (body.replace(/\s+$/, '') !== keyAuthorization) {
            // §8.3: trailing whitespace is ignored; anything else must match exactly.
            resolve({
              ok: false,
              type: 'incorrectResponse',
              detail: `${url} did not answer the key authorization`,
              seen,
            });
          } else {
            resolve({ ok: true, seen });
          }
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${settings.timeoutMs} ms`)));
    req.on('error', (e) => {
      resolve({
        ok: false,
        type: 'connection',
        detail: `cannot fetch ${url}: ${e.message}`,
        seen: `GET ${url} -> ${e.message}`,
      });
    });
    req.end();
  });
}

/** RFC 8555 §8.4: a TXT record at _acme-challenge.NAME holding base64url(SHA-256(key authorization)). */
export async function validateDns01(
  name: string,
  keyAuthorization: string,
  settings: ValidatorSettings,
): Promise<ValidationResult> {
  const expected = createHash('sha256').update(keyAuthorization).digest('base64url');
  const query = `_acme-challenge.${name}`;
  let records: string[];
  try {
    records = (await resolverFor(settings).resolveTxt(query)).map((parts) => parts.join(''));
  } catch (e) {
    return {
      ok: false,
      type: 'dns',
      detail: `no TXT record at ${query}`,
      seen: `TXT ${query} -> ${(e as Error).message}`,
    };
  }
  const seen = `TXT ${query} -> ${JSON.stringify(records.slice(0, 10))}`;
  return records.includes(expected)
    ? { ok: true, seen }
    : {
        ok: false,
        type: 'incorrectResponse',
        detail: `no TXT record at ${query} holds the expected digest`,
        seen,
      };
}
