/**
 * What an operator command acts on: a local data directory, or a remote server through the SDK.
 * Both answer with the same JSON views, so output is identical either way.
 */
import type { Command } from 'commander';
import { ApiClient } from '../client/api.js';
import { openInstance } from '../instance/open.js';
import type { CertificateFilter } from '../store/certificates/store.js';
import type { RequestState } from '../types.js';
import { certificateJson, requestJson } from '../views.js';
import { localActor } from './local-actor.js';
import { CliError } from './output.js';

export type RequestView = ReturnType<typeof requestJson>;
export type CertificateView = ReturnType<typeof certificateJson>;

export interface OperatorBackend {
  listRequests(state: RequestState | undefined): Promise<RequestView[]>;
  listCertificates(status: CertificateFilter): Promise<CertificateView[]>;
  approve(key: string): Promise<{ request: RequestView; certificate: CertificateView | null }>;
  reject(key: string, reason: string | null): Promise<RequestView>;
  revoke(serial: string, reason: string): Promise<CertificateView>;
  clean(name: string): Promise<{ requestsRemoved: number; certificatesRevoked: string[] }>;
  close(): Promise<void>;
}

export interface TargetFlags {
  data?: string;
  server?: string;
  token?: string;
  caFile?: string;
}

/** --data for a local directory, or --server (+ login, --token or CERTMASTER_TOKEN) for a running server. */
export function targetOptions(cmd: Command): Command {
  return cmd
    .option('--data <dir>', 'local data directory')
    .option('--server <url>', 'remote certmaster server (after `certmaster login`, or with --token)')
    .option('--token <token>', 'API token for --server (default: CERTMASTER_TOKEN, else the login session)')
    .option('--ca-file <file>', 'CA certificate to trust for --server when not logged in');
}

export async function openBackend(flags: TargetFlags): Promise<OperatorBackend> {
  if (flags.data && flags.server)
    throw new CliError('give either --data DIR (local) or --server URL (remote), not both');
  if (flags.data) return localBackend(flags.data);
  if (flags.server)
    return remoteBackend(
      ApiClient.open(flags.server, {
        ...(flags.token ? { token: flags.token } : {}),
        ...(flags.caFile ? { caFile: flags.caFile } : {}),
      }),
    );
  throw new CliError(
    'say where the CA is: --data DIR for a local data directory, or --server URL for a running server',
  );
}

async function localBackend(data: string): Promise<OperatorBackend> {
  const { ra, store, close } = await openInstance(data);
  return {
    listRequests: async (state) => (await ra.listRequests(state)).map(requestJson),
    listCertificates: async (status) => (await store.listCertificates({ status })).map(certificateJson),
    approve: async (key) => {
      const view = await ra.approve(key, localActor());
      return {
        request: requestJson(view.request),
        certificate: view.certificate && certificateJson(view.certificate),
      };
    },
    reject: async (key, reason) => requestJson(await ra.reject(key, localActor(), reason)),
    revoke: async (serial, reason) => certificateJson(await ra.revoke(serial, reason, localActor())),
    clean: (name) => ra.clean(name, localActor()),
    close,
  };
}

function remoteBackend(api: ApiClient): OperatorBackend {
  const enc = encodeURIComponent;
  return {
    listRequests: async (state) =>
      (await api.call<{ requests: RequestView[] }>('GET', `/v1/requests?state=${state ?? 'all'}`)).requests,
    listCertificates: async (status) =>
      (await api.call<{ certificates: CertificateView[] }>('GET', `/v1/certificates?status=${status}`))
        .certificates,
    approve: async (key) => {
      const r = await api.call<{ request: RequestView; certificate?: CertificateView }>(
        'POST',
        `/v1/requests/${enc(key)}/approve`,
        {},
      );
      return { request: r.request, certificate: r.certificate ?? null };
    },
    reject: async (key, reason) =>
      (
        await api.call<{ request: RequestView }>(
          'POST',
          `/v1/requests/${enc(key)}/reject`,
          reason ? { reason } : {},
        )
      ).request,
    revoke: (serial, reason) =>
      api.call<CertificateView>('POST', `/v1/certificates/${enc(serial)}/revoke`, { reason }),
    clean: async (name) => {
      const r = await api.call<{ requests_removed: number; certificates_revoked: string[] }>(
        'DELETE',
        `/v1/hosts/${enc(name)}`,
      );
      return { requestsRemoved: r.requests_removed, certificatesRevoked: r.certificates_revoked };
    },
    close: async () => api.close(),
  };
}
