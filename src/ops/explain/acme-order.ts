/**
 * One ACME order's whole story (`certmaster explain --acme-order ID`): the account that placed it and
 * what it may order, each authorization with its challenges and what the validator saw on its last
 * attempt, the order's error, the RA request finalize made and the certificate, and what comes next.
 */
import type { AcmeAccount, AcmeAuthorization, AcmeOrder } from '../../domain/acme.js';
import type { AcmeStore } from '../../store/acme/acme-store.js';
import { printable, when } from './text.js';

export interface AcmeOrderStory {
  order: AcmeOrder;
  account: AcmeAccount | null;
  authorizations: AcmeAuthorization[];
  next: string;
}

export async function explainAcmeOrder(
  store: Pick<AcmeStore, 'getOrder' | 'getAccount' | 'listAuthorizations'>,
  id: string,
): Promise<AcmeOrderStory | null> {
  const order = await store.getOrder(id);
  if (!order) return null;
  const account = await store.getAccount(order.accountId);
  const authorizations = await store.listAuthorizations(order.id);
  return { order, account, authorizations, next: nextStep(order, authorizations) };
}

function nextStep(order: AcmeOrder, authzs: AcmeAuthorization[]): string {
  switch (order.status) {
    case 'pending': {
      const open = authzs.filter((a) => a.status === 'pending').map((a) => a.identifier.value);
      return `the client must answer a challenge for ${open.join(', ') || 'its names'} (serve the key authorization, then POST {} to the challenge URL)`;
    }
    case 'ready':
      return 'every name is proven: the client must finalize with a CSR for exactly the order’s names';
    case 'processing':
      return `the RA request ${order.requestId ?? '(not yet made)'} waits for an operator: certmaster request list --data DIR, then sign or reject it`;
    case 'valid':
      return `nothing: certificate ${order.serial ?? '?'} was issued`;
    case 'invalid':
      return 'the order cannot go on: fix what the error says, then the client places a new order';
  }
}

export function acmeOrderStoryJson(story: AcmeOrderStory): Record<string, unknown> {
  const { order, account } = story;
  return {
    order: {
      id: order.id,
      status: order.status,
      names: order.identifiers.map((i) => i.value),
      created_at: order.createdAt.toISOString(),
      expires_at: order.expiresAt.toISOString(),
      error: order.error,
      request_id: order.requestId,
      serial: order.serial,
    },
    account: account
      ? {
          id: account.id,
          status: account.status,
          thumbprint: account.thumbprint,
          eab_token: account.eabTokenId,
          name_patterns: account.namePatterns,
        }
      : null,
    authorizations: story.authorizations.map((a) => ({
      id: a.id,
      name: a.identifier.value,
      wildcard: a.wildcard,
      status: a.status,
      challenges: a.challenges.map((c) => ({
        type: c.type,
        status: c.status,
        validated_at: c.validated?.toISOString() ?? null,
        seen: c.seen,
        error: c.error,
      })),
    })),
    next: story.next,
  };
}

export function renderAcmeOrderStory(story: AcmeOrderStory): string {
  const { order, account } = story;
  const lines = [
    `ACME order ${order.id}: ${order.status}`,
    `  names:    ${order.identifiers.map((i) => printable(i.value, 253)).join(', ')}`,
    `  placed:   ${when(order.createdAt)}, expires ${when(order.expiresAt)}`,
  ];
  if (account) {
    const may =
      account.namePatterns === null
        ? 'the names ra.autosign allows'
        : `only ${account.namePatterns.join(', ')} (External Account Binding with token ${account.eabTokenId ?? '?'})`;
    lines.push(
      `  account:  ${account.id} (${account.status}, key thumbprint ${account.thumbprint}), registered ${when(account.createdAt)}; may order ${may}`,
    );
  } else lines.push(`  account:  ${order.accountId} (no longer in the store)`);
  for (const a of story.authorizations) {
    lines.push(
      `  authorization ${a.id} for ${a.wildcard ? '*.' : ''}${printable(a.identifier.value, 253)}: ${a.status}`,
    );
    for (const c of a.challenges) {
      const parts = [`    ${c.type}: ${c.status}`];
      if (c.validated) parts.push(`validated ${when(c.validated)}`);
      lines.push(parts.join(', '));
      if (c.seen) lines.push(`      the validator saw: ${printable(c.seen, 500)}`);
      if (c.error)
        lines.push(`      error: ${c.error.type}: ${printable(c.error.detail, 500)} (${c.error.reason})`);
    }
  }
  if (order.error)
    lines.push(
      `  error:    ${order.error.type}: ${printable(order.error.detail, 500)} (${order.error.reason})`,
    );
  if (order.requestId) lines.push(`  request:  ${order.requestId} (the RA request finalize made)`);
  if (order.serial) lines.push(`  certificate: ${order.serial}`);
  lines.push(`Next: ${story.next}`);
  return `${lines.join('\n')}\n`;
}
