/** A tiny authoritative DNS server over UDP (node:dgram) for ACME validation tests: A and TXT only. */
import { createSocket } from 'node:dgram';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface TestDns {
  address: string;
  txt: Map<string, string[]>;
  close(): Promise<void>;
}

function readName(msg: Buffer, offset: number): { name: string; end: number } {
  const labels: string[] = [];
  let i = offset;
  while (msg[i] !== 0 && i < msg.length) {
    const len = msg[i] ?? 0;
    labels.push(msg.subarray(i + 1, i + 1 + len).toString('ascii'));
    i += 1 + len;
  }
  return { name: labels.join('.').toLowerCase(), end: i + 1 };
}

/**
 * Answers every A query with 127.0.0.1 and TXT queries from `txt`, and, when `txtDir` is given, from
 * the files in it: a file named after the record (trailing dot or not) holding one value per line. A
 * third-party client (lego's `exec` DNS provider) writes records there.
 */
export async function startTestDns(options: { txtDir?: string } = {}): Promise<TestDns> {
  const txt = new Map<string, string[]>();
  const socket = createSocket('udp4');
  socket.on('message', (msg, rinfo) => {
    const { name, end } = readName(msg, 12);
    const qtype = msg.readUInt16BE(end);
    const question = msg.subarray(12, end + 4);
    const answers: Buffer[] = [];
    if (qtype === 1) answers.push(Buffer.from([127, 0, 0, 1]));
    if (qtype === 16) {
      for (const value of [...(txt.get(name) ?? []), ...fromDir(options.txtDir, name)]) {
        const v = Buffer.from(value, 'ascii');
        answers.push(Buffer.concat([Buffer.from([v.length]), v]));
      }
    }
    const header = Buffer.alloc(12);
    msg.copy(header, 0, 0, 2);
    header.writeUInt16BE(0x8400, 2);
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(answers.length, 6);
    const records = answers.map((rdata) => {
      const rr = Buffer.alloc(12);
      rr.writeUInt16BE(0xc00c, 0);
      rr.writeUInt16BE(qtype, 2);
      rr.writeUInt16BE(1, 4);
      rr.writeUInt32BE(0, 6);
      rr.writeUInt16BE(rdata.length, 10);
      return Buffer.concat([rr, rdata]);
    });
    socket.send(Buffer.concat([header, question, ...records]), rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return {
    address: `127.0.0.1:${socket.address().port}`,
    txt,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}

function fromDir(dir: string | undefined, name: string): string[] {
  if (dir === undefined) return [];
  const values: string[] = [];
  for (const file of readdirSync(dir)) {
    if (file.replace(/\.$/, '').toLowerCase() !== name) continue;
    values.push(
      ...readFileSync(join(dir, file), 'utf8')
        .split('\n')
        .filter((v) => v !== ''),
    );
  }
  return values;
}
