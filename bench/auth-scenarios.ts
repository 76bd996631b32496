/**
 * What each load worker of the auth suite sends, one request per step, and which answers count. Each
 * scenario checks once, before any timing, that the server answers it as intended (the right account
 * and method), so a figure never measures a misconfigured request.
 */
import { randomBytes } from 'node:crypto';
import { parseAuthorization, quoteString } from '../src/auth/schemes/authorization.js';
import { computeHA1, expectedResponse } from '../src/auth/schemes/digest.js';
import {
  type BenchAnswer,
  type BenchClient,
  type BenchRequest,
  basicAuthorization,
  clientAuthorization,
  FORM_HEADERS,
  form,
  jsonObject,
} from './auth-http.js';

export const SCENARIOS = [
  'bare',
  'bare-401',
  'bearer',
  'anonymous-401',
  'basic',
  'digest',
  'client-credentials',
  'refresh-token',
  'flood',
] as const;
export type AuthScenario = (typeof SCENARIOS)[number];

export interface BenchCredentials {
  user: string;
  password: string;
  clientId: string;
  clientSecret: string;
}

/** The first-party public client of the password and refresh grants. */
const CLI_CLIENT_ID = 'certmaster-cli';
const WHOAMI = '/v1/whoami';
/** A worker whose refresh token is refused logs in again at most this often before giving up. */
const MAX_RELOGINS_PER_WORKER = 5;

/** One answer: `ok` when its status is one the scenario expects; `status` 0 for a transport error. */
export interface StepOutcome {
  ok: boolean;
  status: number;
  detail?: string;
}

export interface Worker {
  step(): Promise<StepOutcome>;
}

export interface Scenario {
  /** Called once per worker before the warm-up; may send requests (a nonce, a refresh token). */
  worker(index: number): Promise<Worker>;
}

const expect =
  (statuses: readonly number[]) =>
  (answer: BenchAnswer): StepOutcome => ({ ok: statuses.includes(answer.status), status: answer.status });

async function sendSafely(
  client: BenchClient,
  request: BenchRequest,
): Promise<BenchAnswer | { error: string }> {
  try {
    return await client.send(request);
  } catch (e) {
    return { error: (e as Error).message };
  }
}

function stepOf(client: BenchClient, request: BenchRequest, judge: (a: BenchAnswer) => StepOutcome): Worker {
  return {
    step: async () => {
      const answer = await sendSafely(client, request);
      return 'error' in answer ? { ok: false, status: 0, detail: answer.error } : judge(answer);
    },
  };
}

/** Throws unless GET /v1/whoami with `authorization` answers 200 for `user` by `method`. */
async function probeWhoami(
  client: BenchClient,
  authorization: string,
  user: string,
  method: string,
): Promise<void> {
  const answer = await client.send({
    method: 'GET',
    path: WHOAMI,
    headers: { authorization },
    wantBody: true,
  });
  const body = jsonObject(answer.body);
  if (answer.status !== 200 || body?.name !== user || body.method !== method) {
    throw new Error(
      `GET ${WHOAMI} by ${method} answered ${answer.status} ${answer.body.slice(0, 300)}; expected 200 for ${user}`,
    );
  }
}

async function tokenGrant(
  client: BenchClient,
  fields: Record<string, string>,
): Promise<Record<string, unknown>> {
  const answer = await client.send({
    method: 'POST',
    path: '/oauth/token',
    headers: FORM_HEADERS,
    body: form(fields),
    wantBody: true,
  });
  const body = jsonObject(answer.body);
  if (answer.status !== 200 || body === null) {
    throw new Error(`the ${fields.grant_type} grant answered ${answer.status} ${answer.body.slice(0, 300)}`);
  }
  return body;
}

function stringField(body: Record<string, unknown>, name: string): string {
  const value = body[name];
  if (typeof value !== 'string' || value === '') throw new Error(`the token answer has no ${name}`);
  return value;
}

const passwordGrant = (client: BenchClient, creds: BenchCredentials) =>
  tokenGrant(client, {
    grant_type: 'password',
    username: creds.user,
    password: creds.password,
    client_id: CLI_CLIENT_ID,
  });

/** The Digest challenge's nonce and opaque value for SHA-256 (RFC 7616 §3.3), from a 401's challenges. */
function digestChallenge(challenges: string[]): { realm: string; nonce: string; opaque: string | null } {
  for (const challenge of challenges) {
    const parsed = parseAuthorization(challenge);
    if ('malformed' in parsed || parsed.scheme !== 'digest') continue;
    if ((parsed.params.get('algorithm') ?? 'MD5').toUpperCase() !== 'SHA-256') continue;
    const realm = parsed.params.get('realm');
    const nonce = parsed.params.get('nonce');
    if (realm !== undefined && nonce !== undefined) {
      return { realm, nonce, opaque: parsed.params.get('opaque') ?? null };
    }
  }
  throw new Error(`no Digest SHA-256 challenge among: ${challenges.join(' | ').slice(0, 500)}`);
}

/**
 * Digest with a nonce of its own per worker, so nonce counts only ever grow for each nonce (RFC 7616
 * §3.4: a repeated count is a replay). A 401 (stale nonce) hands over a fresh nonce and counts from 1.
 */
async function digestScenario(client: BenchClient, creds: BenchCredentials): Promise<Scenario> {
  const first = await client.send({ method: 'GET', path: WHOAMI });
  const { realm } = digestChallenge(first.challenges);
  const ha1 = computeHA1('SHA-256', creds.user, realm, creds.password);
  const authorization = (state: { nonce: string; opaque: string | null; nc: number; cnonce: string }) => {
    const nc = state.nc.toString(16).padStart(8, '0');
    const cnonce = `${state.cnonce}${state.nc.toString(36)}`;
    const response = expectedResponse({
      alg: 'SHA-256',
      ha1,
      nonce: state.nonce,
      nc,
      cnonce,
      qop: 'auth',
      method: 'GET',
      uri: WHOAMI,
    });
    const fields = [
      `username=${quoteString(creds.user)}`,
      `realm=${quoteString(realm)}`,
      `uri=${quoteString(WHOAMI)}`,
      'algorithm=SHA-256',
      `nonce=${quoteString(state.nonce)}`,
      `nc=${nc}`,
      `cnonce=${quoteString(cnonce)}`,
      'qop=auth',
      `response=${quoteString(response)}`,
    ];
    if (state.opaque !== null) fields.push(`opaque=${quoteString(state.opaque)}`);
    return `Digest ${fields.join(', ')}`;
  };
  return {
    worker: async (index) => {
      const own = await client.send({ method: 'GET', path: WHOAMI });
      const challenge = digestChallenge(own.challenges);
      const state = {
        nonce: challenge.nonce,
        opaque: challenge.opaque,
        nc: 1,
        cnonce: randomBytes(6).toString('hex'),
      };
      if (index === 0) {
        await probeWhoami(client, authorization(state), creds.user, 'digest');
        state.nc++;
      }
      return {
        step: async () => {
          const answer = await sendSafely(client, {
            method: 'GET',
            path: WHOAMI,
            headers: { authorization: authorization(state) },
          });
          state.nc++;
          if ('error' in answer) return { ok: false, status: 0, detail: answer.error };
          if (answer.status === 401) {
            const fresh = digestChallenge(answer.challenges);
            state.nonce = fresh.nonce;
            state.opaque = fresh.opaque;
            state.nc = 1;
          }
          return { ok: answer.status === 200, status: answer.status };
        },
      };
    },
  };
}

/**
 * Each worker rotates its own refresh token (RFC 9700 §4.14.2). A token is dropped before it is sent,
 * so it is never presented twice: presenting a used one would revoke the whole family. After a refusal
 * or a lost answer (the server may have rotated it), the worker logs in again for a new family.
 */
function refreshScenario(client: BenchClient, creds: BenchCredentials): Scenario {
  return {
    worker: async () => {
      let token: string | null = stringField(await passwordGrant(client, creds), 'refresh_token');
      let relogins = 0;
      return {
        step: async () => {
          if (token === null) {
            if (relogins >= MAX_RELOGINS_PER_WORKER) {
              throw new Error(`refresh tokens were refused ${relogins} times in one worker; giving up`);
            }
            relogins++;
            token = stringField(await passwordGrant(client, creds), 'refresh_token');
          }
          const presented = token;
          token = null;
          const answer = await sendSafely(client, {
            method: 'POST',
            path: '/oauth/token',
            headers: FORM_HEADERS,
            body: form({ grant_type: 'refresh_token', refresh_token: presented, client_id: CLI_CLIENT_ID }),
            wantBody: true,
          });
          if ('error' in answer) return { ok: false, status: 0, detail: answer.error };
          const body = answer.status === 200 ? jsonObject(answer.body) : null;
          const next = body?.refresh_token;
          if (typeof next !== 'string' || next === '' || next === presented) {
            return { ok: false, status: answer.status, detail: answer.body.slice(0, 200) };
          }
          token = next;
          return { ok: true, status: 200 };
        },
      };
    },
  };
}

/** Wrong Basic passwords, a new one each time, on a GET and a POST in turn; 401 and 429 are expected. */
function floodScenario(client: BenchClient, creds: BenchCredentials): Scenario {
  const prefix = randomBytes(6).toString('hex');
  let sent = 0;
  const judge = expect([401, 429]);
  return {
    worker: async () => ({
      step: async () => {
        const n = sent++;
        const authorization = basicAuthorization(creds.user, `wrong-${prefix}-${n}`);
        const request: BenchRequest =
          n % 2 === 0
            ? { method: 'GET', path: WHOAMI, headers: { authorization } }
            : {
                method: 'POST',
                path: '/v1/tokens',
                headers: { authorization, 'content-type': 'application/json' },
                body: JSON.stringify({ scopes: ['requests:read'] }),
              };
        const answer = await sendSafely(client, request);
        return 'error' in answer ? { ok: false, status: 0, detail: answer.error } : judge(answer);
      },
    }),
  };
}

/** Builds the scenario: gets the tokens it needs and checks the server answers it as intended. */
export async function makeScenario(
  name: AuthScenario,
  client: BenchClient,
  creds: BenchCredentials,
): Promise<Scenario> {
  const fixed = (request: BenchRequest, statuses: number[]): Scenario => ({
    worker: async () => stepOf(client, request, expect(statuses)),
  });
  switch (name) {
    case 'bare':
      return fixed({ method: 'GET', path: '/__bench/bare' }, [200]);
    case 'bare-401':
      return fixed({ method: 'GET', path: '/__bench/bare-401' }, [401]);
    case 'anonymous-401':
      return fixed({ method: 'GET', path: WHOAMI }, [401]);
    case 'bearer': {
      const authorization = `Bearer ${stringField(await passwordGrant(client, creds), 'access_token')}`;
      await probeWhoami(client, authorization, creds.user, 'access_token');
      return fixed({ method: 'GET', path: WHOAMI, headers: { authorization } }, [200]);
    }
    case 'basic': {
      const authorization = basicAuthorization(creds.user, creds.password);
      await probeWhoami(client, authorization, creds.user, 'basic');
      return fixed({ method: 'GET', path: WHOAMI, headers: { authorization } }, [200]);
    }
    case 'digest':
      return digestScenario(client, creds);
    case 'client-credentials': {
      const request = {
        method: 'POST' as const,
        path: '/oauth/token',
        headers: { ...FORM_HEADERS, authorization: clientAuthorization(creds.clientId, creds.clientSecret) },
        body: form({ grant_type: 'client_credentials' }),
      };
      const probe = await client.send({ ...request, wantBody: true });
      const body = jsonObject(probe.body);
      if (probe.status !== 200 || body === null) {
        throw new Error(`the client_credentials grant answered ${probe.status} ${probe.body.slice(0, 300)}`);
      }
      stringField(body, 'access_token');
      return fixed(request, [200]);
    }
    case 'refresh-token':
      return refreshScenario(client, creds);
    case 'flood':
      return floodScenario(client, creds);
  }
}
