/** First contact with a server: what CA it presents, before we trust anything it says. */
import { pemBlocks } from '../util/pem.js';
import { Transport, TransportError } from './transport.js';

/**
 * The CA certificate as the server serves it. Read without verifying TLS, because the CA is what
 * we do not know yet; it is trusted only after its fingerprint is checked, and every later request
 * verifies the server's certificate against it.
 */
export async function fetchServedCa(server: string): Promise<{ pem: string; der: Buffer }> {
  const t = new Transport(server, { skipVerify: true });
  try {
    const answer = await t.send('GET', '/ca.pem');
    const der = answer.status === 200 ? pemBlocks(answer.body, 'CERTIFICATE')[0] : undefined;
    if (!der)
      throw new TransportError(
        `${server}/ca.pem did not return a CA certificate (HTTP ${answer.status}); is this a certmaster server?`,
      );
    return { pem: answer.body, der };
  } finally {
    t.close();
  }
}
