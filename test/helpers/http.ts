/** Plain HTTPS requests for tests, trusting only the given CA. */
import https from 'node:https';

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: Record<string, unknown>;
}

export function call(
  url: string,
  options: {
    method?: string;
    ca: string;
    body?: string | Buffer;
    headers?: Record<string, string>;
    agent?: https.Agent;
  },
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      url,
      {
        method: options.method ?? 'GET',
        ca: options.ca,
        headers: options.headers,
        ...(options.agent ? { agent: options.agent } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: Record<string, unknown> = {};
          try {
            json = JSON.parse(text) as Record<string, unknown>;
          } catch {
            json = {};
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

export function postCsr(base: string, ca: string, csrPem: string, agent?: https.Agent): Promise<Reply> {
  return call(`${base}/v1/requests`, {
    method: 'POST',
    ca,
    body: JSON.stringify({ csr: csrPem }),
    headers: { 'content-type': 'application/json' },
    ...(agent ? { agent } : {}),
  });
}
