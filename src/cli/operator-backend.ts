/**
 * What an operator command acts on: a local data directory, or a remote server through the SDK.
 * Both answer with the same JSON views, so output is identical either way.
 */
import type { Command } from 'commander';
import { ApiClient } from '../client/api.js';
import { openInstance } from '../instance/open.js';
import type { CertificateFilter, PageKey } from '../store/certificates/store.js';
import type { CertificateRequest, IssuedCertificate, RequestState } from '../types.js';
import { certificateJson, requestJson } from '../views.js';
import { localActor } from './local-actor.js';
import { CliError } from './output.js';

export type RequestView = ReturnType<typeof requestJson>;
export type CertificateView = ReturnType<typeof certificateJson>;

/** A listing of at most the limit asked for; `more` says that the server holds further items. */
export interface Listing<T> {
  items: T[];
  more: boolean;
}

/** Items per request when following pages. */
const PAGE = 1000;

/**
 * Gathers up to `limit` items (null: all of them) from a newest-first paged source, page by page,
 * following each page's continuation until the limit or the end.
 */
export async function gather<T, C>(
  limit: number | null,
  fetchPage: (size: number, after: C | undefined) => Promise<{ items: T[]; next: C | null }>,
): Promise<Listing<T>> {
  const items: T[] = [];
  let after: C | undefined;
  for (;;) {
    const want = limit === null ? PAGE : Math.min(PAGE, limit - items.length);
    const page = await fetchPage(want, after);
    items.push(...page.items);
    if (page.next === null) return { items, more: false };
    if (limit !== null && items.length >= limit) return { items, more: true };
    after = page.next;
  }
}

/** A store page as `gather` reads it: one item more than asked tells whether another page follows. */
export async function storePage<T>(
  size: number,
  fetch: (limit: number) => Promise<T[]>,
  keyOf: (item: T) => PageKey,
): Promise<{ items: T[]; next: PageKey | null }> {
  const rows = await fetch(size + 1);
  const items = rows.slice(0, size);
  const last = items[items.length - 1];
  return { items, next: rows.length > size && last !== undefined ? keyOf(last) : null };
}

export interface OperatorBackend {
  /** Newest first; `limit` null lists every one, following the pages. */
  listRequests(state: RequestState | undefined, limit: number | null): Promise<Listing<RequestView>>;
  listCertificates(status: CertificateFilter, limit: number | null): Promise<Listing<CertificateView>>;
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
    listRequests: async (state, limit) => {
      const listing = await gather<CertificateRequest, PageKey>(limit, (size, after) =>
        storePage(
          size,
          (n) => store.listRequests({ ...(state ? { state } : {}), limit: n, ...(after ? { after } : {}) }),
          (r) => ({ at: r.createdAt, key: r.id }),
        ),
      );
      return { items: listing.items.map(requestJson), more: listing.more };
    },
    listCertificates: async (status, limit) => {
      const listing = await gather<IssuedCertificate, PageKey>(limit, (size, after) =>
        storePage(
          size,
          (n) => store.listCertificates({ status, limit: n, ...(after ? { after } : {}) }),
          (c) => ({ at: c.createdAt, key: c.serial }),
        ),
      );
      return { items: listing.items.map(certificateJson), more: listing.more };
    },
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
    listRequests: (state, limit) =>
      gather<RequestView, string>(limit, async (size, cursor) => {
        const answer = await api.call<{ requests: RequestView[]; next?: string | null }>(
          'GET',
          `/v1/requests?state=${state ?? 'all'}&limit=${size}${cursor ? `&cursor=${enc(cursor)}` : ''}`,
        );
        return { items: answer.requests, next: answer.next ?? null };
      }),
    listCertificates: (status, limit) =>
      gather<CertificateView, string>(limit, async (size, cursor) => {
        const answer = await api.call<{ certificates: CertificateView[]; next?: string | null }>(
          'GET',
          `/v1/certificates?status=${status}&limit=${size}${cursor ? `&cursor=${enc(cursor)}` : ''}`,
        );
        return { items: answer.certificates, next: answer.next ?? null };
      }),
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
