/**
 * What a flood of refused requests costs on disk: for each kind (no credentials, a malformed
 * Authorization header, wrong Basic passwords from an address the throttle already holds), `count`
 * refused requests against a real `certmaster serve`, and the bytes they added to the data directory
 * per request, with flood summaries on (the default) and off (`audit.summarize_floods false`).
 *
 * The data directory is measured with the write-ahead log folded into the database, before the flood
 * and after the server stopped (SIGTERM writes the open window's summaries), so the figure is what stays.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import https from 'node:https';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { startCertmaster } from './certmaster-server.js';
import { type ProcessGroup, stop } from './processes.js';

export type FloodKind = 'no_credentials' | 'malformed_header' | 'throttled_basic';
export const FLOOD_KINDS: readonly FloodKind[] = ['no_credentials', 'malformed_header', 'throttled_basic'];

const HEADERS: Record<FloodKind, Record<string, string>> = {
  no_credentials: {},
  malformed_header: { authorization: 'Basic %%%not-base64%%%' },
  throttled_basic: { authorization: `Basic ${Buffer.from('alice:wrong-password').toString('base64')}` },
};

export interface FloodResult {
  kind: FloodKind;
  summarize: boolean;
  requests: number;
  statuses: Record<string, number>;
  bytesAdded: number;
  bytesPerRequest: number;
  perSecond: number;
}

/** Every file's size but SQLite's shared-memory index (-shm), which goes when the server stops. */
function dirBytes(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name.endsWith('-shm')) continue;
    const path = join(dir, entry.name);
    total += entry.isDirectory() ? dirBytes(path) : statSync(path).size;
  }
  return total;
}

function checkpointedBytes(dataDir: string): number {
  const db = new Database(join(dataDir, 'certmaster.db'));
  try {
    db.pragma('busy_timeout = 5000');
    db.pragma('wal_checkpoint(TRUNCATE)');
  } finally {
    db.close();
  }
  return dirBytes(dataDir);
}

async function send(
  url: string,
  ca: string,
  headers: Record<string, string>,
  total: number,
  connections: number,
): Promise<Record<string, number>> {
  const agent = new https.Agent({ keepAlive: true, maxSockets: connections, ca });
  const statuses: Record<string, number> = {};
  let sent = 0;
  const one = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const request = https.get(`${url}/v1/audit`, { agent, headers }, (reply) => {
        reply.resume();
        reply.on('end', () => {
          const status = String(reply.statusCode ?? 0);
          statuses[status] = (statuses[status] ?? 0) + 1;
          resolve();
        });
      });
      request.on('error', reject);
    });
  const worker = async (): Promise<void> => {
    while (sent < total) {
      sent += 1;
      await one();
    }
  };
  try {
    await Promise.all(Array.from({ length: connections }, worker));
  } finally {
    agent.destroy();
  }
  return statuses;
}

export async function runAuditFlood(
  processes: ProcessGroup,
  options: { repo: string; dataDir: string; kind: FloodKind; summarize: boolean; requests: number },
): Promise<FloodResult> {
  const server = await startCertmaster(processes, {
    repo: options.repo,
    dataDir: options.dataDir,
    profileDir: null,
    // The tarpit would hold each throttled answer a second (32 a second at this concurrency): it is off
    // here, where what is measured is the bytes a refusal adds, not how fast a flood can be sent.
    settings: { 'audit.summarize_floods': String(options.summarize), 'auth.throttle_tarpit_ms': '0' },
  });
  const ca = readFileSync(server.caFile, 'utf8');
  const headers = HEADERS[options.kind];
  if (options.kind === 'throttled_basic') {
    // Wrong guesses until the throttle answers 429: from then on the address is throttled.
    for (let i = 0; i < 50; i++) {
      const statuses = await send(server.url, ca, headers, 1, 1);
      if (statuses['429']) break;
    }
  }
  const before = checkpointedBytes(options.dataDir);
  const started = process.hrtime.bigint();
  const statuses = await send(server.url, ca, headers, options.requests, 32);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await stop(server.started.child, 15_000);
  await server.started.exited;
  const bytesAdded = checkpointedBytes(options.dataDir) - before;
  return {
    kind: options.kind,
    summarize: options.summarize,
    requests: options.requests,
    statuses,
    bytesAdded,
    bytesPerRequest: bytesAdded / options.requests,
    perSecond: Math.round(options.requests / seconds),
  };
}

export function formatAuditFlood(results: FloodResult[]): string {
  const lines = [
    `${'flood kind'.padEnd(20)}${'summaries'.padEnd(11)}${'requests'.padStart(9)}${'bytes added'.padStart(13)}${'bytes/request'.padStart(15)}${'req/s'.padStart(8)}   answers`,
  ];
  for (const r of results) {
    const answers = Object.entries(r.statuses)
      .map(([status, n]) => `${n}x${status}`)
      .join(' ');
    lines.push(
      `${r.kind.padEnd(20)}${(r.summarize ? 'on' : 'off').padEnd(11)}${String(r.requests).padStart(9)}${String(r.bytesAdded).padStart(13)}${r.bytesPerRequest.toFixed(1).padStart(15)}${String(r.perSecond).padStart(8)}   ${answers}`,
    );
  }
  return lines.join('\n');
}
