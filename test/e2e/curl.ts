/** Runs the real curl (no shell) and splits what `curl -i` prints into responses. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface CurlResponse {
  status: number;
  /** Header names in lower case; a repeated header keeps every value, in order. */
  headers: Map<string, string[]>;
  body: string;
}

export interface CurlResult {
  /** Every response curl printed: with --digest the 401 challenge comes before the answer. */
  responses: CurlResponse[];
  /** The last response, the one the command ends with. */
  final: CurlResponse;
  json: Record<string, unknown>;
}

/** `curl -sS -i --cacert CA ...args`; curl itself must succeed (an HTTP error status is still exit 0). */
export async function curl(caFile: string, args: string[]): Promise<CurlResult> {
  const { stdout } = await run('curl', ['-sS', '-i', '--max-time', '30', '--cacert', caFile, ...args], {
    encoding: 'utf8',
    maxBuffer: 4 * 1024 * 1024,
  });
  const responses = parseResponses(stdout);
  const final = responses.at(-1);
  if (!final) throw new Error(`curl printed no HTTP response: ${stdout.slice(0, 200)}`);
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(final.body) as Record<string, unknown>;
  } catch {
    json = {};
  }
  return { responses, final, json };
}

export function header(response: CurlResponse, name: string): string | undefined {
  return response.headers.get(name.toLowerCase())?.[0];
}

function parseResponses(text: string): CurlResponse[] {
  const responses: CurlResponse[] = [];
  let rest = text;
  // Bounded: each round consumes one header block.
  for (let i = 0; i < 10 && rest.startsWith('HTTP/'); i++) {
    const end = rest.indexOf('\r\n\r\n');
    const block = end === -1 ? rest : rest.slice(0, end);
    rest = end === -1 ? '' : rest.slice(end + 4);
    const [statusLine = '', ...lines] = block.split('\r\n');
    const headers = new Map<string, string[]>();
    for (const line of lines) {
      const colon = line.indexOf(':');
      if (colon <= 0) continue;
      const name = line.slice(0, colon).trim().toLowerCase();
      headers.set(name, [...(headers.get(name) ?? []), line.slice(colon + 1).trim()]);
    }
    const status = Number(statusLine.split(' ')[1]);
    // Curl prints the bodies of intermediate (authentication) responses only when it read them.
    const next = rest.startsWith('HTTP/') ? -1 : rest.search(/\r?\nHTTP\/[\d.]+ \d{3}/);
    const body = rest.startsWith('HTTP/') ? '' : next === -1 ? rest : rest.slice(0, next);
    rest = rest.startsWith('HTTP/') ? rest : next === -1 ? '' : rest.slice(next).replace(/^\r?\n/, '');
    responses.push({ status, headers, body });
  }
  return responses;
}
