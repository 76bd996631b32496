/** One host: why can't it get or renew a certificate? */
import type { AuditStore } from '../../audit/storage-port.js';
import type { AuditRecord } from '../../audit/types.js';
import type { Store } from '../../store/certificates/store.js';
import type { CertificateRequest, Clock, IssuedCertificate } from '../../types.js';
import { adviceFor, toldStatus } from './advice.js';
import { ago, anyTarget, type CommandContext, printable, serverArg, shellWord, when } from './text.js';

export type HostVerdict = 'ok' | 'waiting' | 'blocked' | 'unknown';

export interface HostFinding {
  /** blocking: stops the host; waiting: someone must act; info: worth knowing. */
  severity: 'blocking' | 'waiting' | 'info';
  code: string;
  message: string;
  fix: string | null;
  command: string | null;
  /** The request to `certmaster explain`, when a refusal is behind the finding. */
  requestId: string | null;
}

export interface HostDiagnosis {
  name: string;
  verdict: HostVerdict;
  /** The certificate it holds now (valid, not revoked), if any. */
  holding: { serial: string; notAfter: Date } | null;
  /** Its certificates issued by renewal, newest first: which serial replaced which, and when. */
  renewals: Array<{ serial: string; renewedFrom: string; at: Date }>;
  findings: HostFinding[];
}

export type HostSources = Pick<Store, 'listRequests' | 'listCertificates'> & Pick<AuditStore, 'queryAudit'>;

/** How far back a host's history is read: its latest requests, certificates and audit records. */
const HOST_HISTORY = 20;
const HOST_AUDIT_HISTORY = 100;
/** Recent refusals of anyone, searched for ones that name the host only in passing. */
const RECENT_FAILURES_SCANNED = 500;
/** Refusals shown per host (the newest of each reason). */
const MAX_HOST_REFUSALS = 5;
const RENEW_WARNING_DAYS = 30;

export async function explainHost(
  sources: HostSources,
  name: string,
  ctx: CommandContext,
  clock: Clock,
): Promise<HostDiagnosis> {
  const [requests, certificates, byTarget, byPrincipal, recentFailures] = await Promise.all([
    sources.listRequests({ commonName: name, limit: HOST_HISTORY }),
    sources.listCertificates({ status: 'all', commonName: name, limit: HOST_HISTORY }),
    sources.queryAudit({ target: name, outcome: 'failure', newestFirst: true, limit: HOST_AUDIT_HISTORY }),
    sources.queryAudit({ principal: name, outcome: 'failure', newestFirst: true, limit: HOST_AUDIT_HISTORY }),
    sources.queryAudit({ outcome: 'failure', newestFirst: true, limit: RECENT_FAILURES_SCANNED }),
  ]);
  const audit = new Map<number, AuditRecord>();
  for (const r of [...byTarget, ...byPrincipal]) audit.set(r.seq, r);
  // A host account that failed to sign in is only the name it claimed; a submission refused before
  // its CSR was read names no target, only what it was told.
  for (const r of recentFailures) {
    const claimed = r.claimedName !== null && r.claimedName.toLowerCase() === name;
    const told = r.target === null && (mentionsName(r.told?.detail, name) || mentionsName(r.cause, name));
    // A submission refused at the front door (a spent enrollment token) records the names its CSR asked for.
    const names = r.details.names;
    const asked =
      Array.isArray(names) && names.some((n) => typeof n === 'string' && n.toLowerCase() === name);
    if (claimed || told || asked) audit.set(r.seq, r);
  }
  return diagnoseHost(name, requests, certificates, [...audit.values()], ctx, clock.now());
}

/** True when `text` names `name` as a whole host name (not as part of a longer one). */
function mentionsName(text: string | null | undefined, name: string): boolean {
  if (!text) return false;
  const lower = text.toLowerCase();
  const wanted = name.toLowerCase();
  for (let at = lower.indexOf(wanted); at !== -1; at = lower.indexOf(wanted, at + 1)) {
    const before = lower[at - 1];
    const after = lower[at + wanted.length];
    const part = (c: string | undefined) => c !== undefined && /[a-z0-9*-]/.test(c);
    // "a.example.com" inside "www.a.example.com" is another name: a dot before it continues the name.
    if (
      !part(before) &&
      before !== '.' &&
      !part(after) &&
      !(after === '.' && part(lower[at + wanted.length + 1]))
    ) {
      return true;
    }
  }
  return false;
}

/** The diagnosis from a host's requests and certificates (newest first) and audit records (any order). */
export function diagnoseHost(
  name: string,
  requests: CertificateRequest[],
  certificates: IssuedCertificate[],
  audit: AuditRecord[],
  ctx: CommandContext,
  now: Date,
): HostDiagnosis {
  const findings: HostFinding[] = [];
  const cn = shellWord(name);
  const any = anyTarget(ctx);
  const t = now.getTime();
  const valid = certificates.find(
    (c) => c.revokedAt === null && c.notBefore.getTime() <= t && c.notAfter.getTime() > t,
  );
  const latestRequest = requests[0];
  const latestCertificate = certificates[0];

  if (latestRequest?.state === 'pending') {
    findings.push({
      severity: 'waiting',
      code: 'pending_approval',
      message: `Request ${latestRequest.id} (${printable(latestRequest.keyDescription, 40)} key, from ${printable(latestRequest.requester, 80)} at ${printable(latestRequest.clientAddress, 60)}) has been waiting for an operator since ${when(latestRequest.createdAt)} (${ago(latestRequest.createdAt, now)}).`,
      fix: `Sign it if ${printable(name, 100)} should have a certificate (or reject it); to sign such names without waiting, widen ra.autosign.`,
      command: `certmaster ca sign ${cn} ${any}`,
      requestId: latestRequest.id,
    });
  }
  if (latestRequest?.state === 'rejected') {
    findings.push({
      severity: 'blocking',
      code: 'rejected',
      message: `Request ${latestRequest.id} was rejected by ${printable(latestRequest.decidedBy ?? 'an operator', 80)} at ${when(latestRequest.updatedAt)}${latestRequest.rejectionReason ? `: "${printable(latestRequest.rejectionReason, 300)}"` : ' (no reason given)'}. Sending the same CSR again returns the same rejection.`,
      fix: 'If the host should have a certificate after all, clean it so it can submit again (or have it make a new key and CSR).',
      command: `certmaster ca clean ${cn} ${any}`,
      requestId: latestRequest.id,
    });
  }
  if (valid === undefined && latestCertificate !== undefined) {
    if (latestCertificate.revokedAt !== null) {
      findings.push({
        severity: 'blocking',
        code: 'revoked',
        message: `Its latest certificate ${latestCertificate.serial} was revoked at ${when(latestCertificate.revokedAt)} (reason ${printable(latestCertificate.revocationReason ?? 'unspecified', 60)}); it holds no valid certificate.`,
        fix: 'A revoked certificate cannot be renewed: the host must enroll again with a new key.',
        command: `certmaster request --server ${serverArg(ctx)} --cn ${cn} --out DIR`,
        requestId: null,
      });
    } else if (latestCertificate.notAfter.getTime() <= t) {
      findings.push({
        severity: 'blocking',
        code: 'expired',
        message: `Its latest certificate ${latestCertificate.serial} expired at ${when(latestCertificate.notAfter)} (${ago(latestCertificate.notAfter, now)} ago); it holds no valid certificate.`,
        fix: 'An expired certificate renews only within the grace period of ra.renew_after_expiry (`certmaster renew`); otherwise the host must enroll again with `certmaster request`, and run `certmaster agent` so it renews well before expiry from then on.',
        command: `certmaster request --server ${serverArg(ctx)} --cn ${cn} --out DIR`,
        requestId: null,
      });
    } else if (latestCertificate.notBefore.getTime() > t) {
      findings.push({
        severity: 'blocking',
        code: 'clock_skew',
        message: `Its certificate ${latestCertificate.serial} is not valid before ${when(latestCertificate.notBefore)}, which is in the future for this machine: the clocks disagree.`,
        fix: 'Synchronise the clocks of the certmaster servers and of this machine with NTP.',
        command: `certmaster doctor --data ${ctx.dataDir === null ? 'DIR' : shellWord(ctx.dataDir)} --peer ${serverArg(ctx)}`,
        requestId: null,
      });
    }
  }

  // Refusals since its last certificate was issued are what stop it now (a renewal that fails).
  const since = latestCertificate?.createdAt.getTime() ?? Number.NEGATIVE_INFINITY;
  const refusals = audit
    .filter((r) => r.outcome === 'failure' && r.reason !== null && r.at.getTime() >= since)
    .sort((a, b) => b.seq - a.seq);
  const seen = new Set<string>();
  for (const r of refusals) {
    const reason = r.reason ?? '';
    if (seen.has(reason) || seen.size >= MAX_HOST_REFUSALS) continue;
    seen.add(reason);
    const advice = adviceFor({ ...r, target: r.target ?? name }, ctx);
    findings.push({
      severity: 'blocking',
      code: reason === 'token_not_yet_valid' ? 'clock_skew' : reason,
      message: `At ${when(r.at)} a request${r.clientAddress ? ` from ${printable(r.clientAddress, 60)}` : ''} was refused (${printable(reason, 60)}${toldStatus(r) === null ? '' : `, HTTP ${toldStatus(r)}`})${r.cause ? `: ${printable(r.cause, 300)}` : ''}.${advice ? ` ${advice.meaning}` : ''} For the whole story: certmaster explain ${shellWord(r.requestId)} ${any}`,
      fix: advice?.fix ?? null,
      command: advice?.command ?? null,
      requestId: r.requestId,
    });
  }

  if (valid !== undefined) {
    const daysLeft = (valid.notAfter.getTime() - t) / 86_400_000;
    if (daysLeft < RENEW_WARNING_DAYS) {
      findings.push({
        severity: 'info',
        code: 'expires_soon',
        message: `Its certificate ${valid.serial} expires in ${Math.floor(daysLeft)} days (${when(valid.notAfter)}).`,
        fix: 'Renew it on the host with the certificate itself (mutual TLS, no operator), and run `certmaster agent` there so it renews by itself from now on.',
        command: `certmaster renew --cert CERT --key KEY --server ${serverArg(ctx)}`,
        requestId: null,
      });
    }
  }

  const verdict: HostVerdict = findings.some((f) => f.severity === 'blocking')
    ? 'blocked'
    : findings.some((f) => f.severity === 'waiting')
      ? 'waiting'
      : valid !== undefined
        ? 'ok'
        : 'unknown';
  return {
    name,
    verdict,
    holding: valid === undefined ? null : { serial: valid.serial, notAfter: valid.notAfter },
    renewals: certificates.flatMap((c) =>
      c.renewedFrom ? [{ serial: c.serial, renewedFrom: c.renewedFrom, at: c.createdAt }] : [],
    ),
    findings,
  };
}

/** The diagnosis as text. */
export function renderHostDiagnosis(d: HostDiagnosis): string {
  const name = printable(d.name, 200);
  const lines: string[] = [];
  if (d.verdict === 'ok' && d.holding) {
    lines.push(
      `Nothing wrong: ${name} holds certificate ${d.holding.serial}, valid until ${when(d.holding.notAfter)}.`,
    );
  } else if (d.verdict === 'unknown') {
    lines.push(
      `certmaster has no record of ${name}: no request, certificate or refusal names it. Check the exact name the host asks for (\`certmaster ca list --all\`) and that the host reaches this server.`,
    );
  } else {
    const holding = d.holding
      ? ` It holds certificate ${d.holding.serial}, valid until ${when(d.holding.notAfter)}.`
      : ' It holds no valid certificate.';
    lines.push(
      `${name} ${d.verdict === 'waiting' ? 'is waiting for an operator' : 'cannot get or renew a certificate'}.${holding}`,
    );
  }
  if (d.renewals.length > 0) {
    lines.push('', 'Renewal history (newest first):');
    for (const r of d.renewals) lines.push(`  ${when(r.at)}  ${r.serial} renewed ${r.renewedFrom}`);
  }
  for (const f of d.findings) {
    lines.push('', `- ${f.message}`);
    if (f.fix) lines.push(`  What to do: ${f.fix}`);
    if (f.command) lines.push(`  Run: ${f.command}`);
  }
  return `${lines.join('\n')}\n`;
}

export function hostDiagnosisJson(d: HostDiagnosis) {
  return {
    name: d.name,
    verdict: d.verdict,
    holding: d.holding ? { serial: d.holding.serial, not_after: d.holding.notAfter.toISOString() } : null,
    renewals: d.renewals.map((r) => ({
      serial: r.serial,
      renewed_from: r.renewedFrom,
      at: r.at.toISOString(),
    })),
    findings: d.findings.map((f) => ({
      severity: f.severity,
      code: f.code,
      message: f.message,
      fix: f.fix,
      command: f.command,
      request_id: f.requestId,
    })),
  };
}
