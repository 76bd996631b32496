/** Settings of the server process itself: where it listens, where it keeps its data, who may read metrics. */
import { availableParallelism } from 'node:os';
import { parseByteSize } from '../../util/byte-size.js';
import { checkListen, checkOptionalListen, checkStoreUrl } from '../checks.js';
import { booleanSetting, integerSetting, stringSetting } from '../setting-kinds.js';

export const serverShape = {
  listen: stringSetting(
    '127.0.0.1:8443',
    'HOST:PORT, such as 127.0.0.1:8443 or [::1]:8443',
    'Address and port that `certmaster serve` listens on (HTTPS). --listen overrides it.',
    checkListen,
  ),
  body_limit_bytes: integerSetting(1024, 10485760, 65536, 'Largest request body the server reads, in bytes.'),
  plain_http: booleanSetting(
    false,
    'Serve plain HTTP instead of HTTPS (behind a TLS-terminating proxy); Basic is then refused except from loopback. --insecure-http does the same for one run.',
  ),
  public_http_listen: stringSetting(
    '',
    'empty (off), or HOST:PORT such as 0.0.0.0:8080',
    'A second, plain-HTTP listener for relying parties that serves only /ca.pem, /ca.crt, /crl, /crl.pem and /ocsp; the URLs put in certificates use it when set.',
    checkOptionalListen,
  ),
  crypto_threads: stringSetting(
    'auto',
    'auto, or a whole number from 0 to 16',
    'Worker threads that check CSRs (key import, signature) and sign certificates, so issuance uses more than one core: auto is one per core beyond the first (at least one), 0 does it all on the event loop. Read at start.',
    checkCryptoThreads,
  ),
};

export const storeShape = {
  url: stringSetting(
    'sqlite:certmaster.db',
    'sqlite:PATH (relative to the data directory), or a postgres:// or postgresql:// URL',
    'Where requests and certificates are kept: an SQLite file, or PostgreSQL for several servers.',
    checkStoreUrl,
  ),
  writer_thread: booleanSetting(
    false,
    "SQLite only: `serve` writes from a worker thread with its own connection, so commits and their fsync leave the event loop (about half the main thread's time per certificate), at the price of a thread hop per commit; on 2 cores it issued fewer certificates per second than the event loop (docs/benchmarks.md), hence off by default. Read at start.",
  ),
};

const METRICS_ACCESS = ['loopback', 'scope', 'open'];

export const metricsShape = {
  access: stringSetting(
    'loopback',
    'loopback, scope or open',
    'Who may read /metrics: loopback (callers on this host only; behind a reverse proxy on the same host that is everyone, so use scope), scope (credentials with audit:read), or open (anyone).',
    (value) => (METRICS_ACCESS.includes(value) ? null : `must be one of ${METRICS_ACCESS.join(', ')}`),
  ),
};

const MAX_CRYPTO_THREADS = 16;

function checkCryptoThreads(value: string): string | null {
  if (value === 'auto') return null;
  const n = Number(value);
  return /^[0-9]{1,2}$/.test(value) && n <= MAX_CRYPTO_THREADS
    ? null
    : `must be auto or a whole number from 0 to ${MAX_CRYPTO_THREADS}`;
}

/** How many crypto threads `server.crypto_threads` asks for on this machine. */
export function cryptoThreads(value: string): number {
  if (value !== 'auto') return Number(value);
  // The event loop keeps one core for TLS, HTTP and the store.
  return Math.min(4, Math.max(1, availableParallelism() - 1));
}

export const auditShape = {
  min_free_disk: stringSetting(
    '1GiB',
    'a size such as 1GiB, 500MiB or 2GB; 0 turns the warning off',
    "Free space on the data directory's filesystem below which the server warns (log, the metric certmaster_data_dir_free_bytes next to certmaster_data_dir_min_free_bytes, and doctor): on a full disk every audited action is refused 503 audit_unavailable.",
    (value) => (parseByteSize(value) === null ? 'must be a size such as 1GiB, 500MiB, 2GB or 0' : null),
  ),
  summarize_floods: booleanSetting(
    true,
    'Summarise refusals that name nobody, and those of a throttled source: 5 records per (source, reason) a minute, then one summary with a count. Off, every refusal is one record (the disk grows with every refused request).',
  ),
};
