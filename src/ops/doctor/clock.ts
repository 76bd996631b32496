/** The clock, compared with a peer's Date header (RFC 9110 §6.6.1; one-second resolution). */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { rootCertificates } from 'node:tls';
import type { Clock } from '../../types.js';
import { printable } from '../explain/index.js';
import type { DoctorLayout } from './doctor-layout.js';
import { type CheckResult, fail, ok, warn } from './result.js';

export const SKEW_WARN_SECONDS = 30;
export const SKEW_FAIL_SECONDS = 300;

export async function checkClockSkew(
  peer: string,
  layout: DoctorLayout,
  clock: Clock,
  timeoutMs: number,
): Promise<CheckResult> {
  const check = 'clock';
  let url: URL;
  try {
    url = new URL('/healthz', peer);
  } catch {
    return fail(check, `--peer "${printable(peer, 100)}" is not a URL`, 'give the peer as https://HOST:PORT');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    return fail(
      check,
      `--peer "${printable(peer, 100)}" is not an http(s) URL`,
      'give the peer as https://HOST:PORT',
    );
  }
  let answer: { date: string | undefined; sentAt: number; receivedAt: number };
  try {
    answer = await peerDate(url, layout, clock, timeoutMs);
  } catch (e) {
    return fail(
      check,
      `could not read the clock of ${url.origin}: ${printable((e as Error).message, 200)}`,
      'check the --peer URL and that the peer is up',
    );
  }
  const peerTime = answer.date === undefined ? Number.NaN : Date.parse(answer.date);
  if (Number.isNaN(peerTime)) {
    return fail(
      check,
      `${url.origin} sent no usable Date header`,
      'give a peer that is an HTTP server (another certmaster)',
    );
  }
  // The peer stamped its Date somewhere between our send and receive: compare with the midpoint.
  const local = (answer.sentAt + answer.receivedAt) / 2;
  const skew = Math.round((peerTime - local) / 1000);
  const size = Math.abs(skew);
  const direction = skew > 0 ? 'behind' : 'ahead of';
  const message = `this machine's clock is ${size} s ${direction} ${url.origin} (round trip ${answer.receivedAt - answer.sentAt} ms)`;
  const fix =
    'synchronise both clocks with NTP (timedatectl set-ntp true, or chronyc makestep); tokens and nonces are refused as not yet valid or expired while clocks disagree';
  if (size > SKEW_FAIL_SECONDS) return fail(check, message, fix);
  if (size > SKEW_WARN_SECONDS) return warn(check, message, fix);
  return ok(check, `${message}: within ${SKEW_WARN_SECONDS} s`);
}

function peerDate(
  url: URL,
  layout: DoctorLayout,
  clock: Clock,
  timeoutMs: number,
): Promise<{ date: string | undefined; sentAt: number; receivedAt: number }> {
  // Trust this CA (a peer replica's certificate comes from it) as well as the public roots.
  const ca = [...rootCertificates];
  try {
    ca.push(readFileSync(layout.caCertificate, 'utf8'));
  } catch {
    // Without the CA file the public roots still apply; the certificate check reports the file.
  }
  return new Promise((resolve, reject) => {
    const sentAt = clock.now().getTime();
    const options = { method: 'HEAD', timeout: timeoutMs, ...(url.protocol === 'https:' ? { ca } : {}) };
    const onResponse = (res: http.IncomingMessage) => {
      const receivedAt = clock.now().getTime();
      res.resume();
      resolve({ date: res.headers.date, sentAt, receivedAt });
    };
    const req =
      url.protocol === 'https:'
        ? https.request(url, options, onResponse)
        : http.request(url, options, onResponse);
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs / 1000} s`)));
    req.on('error', reject);
    req.end();
  });
}
