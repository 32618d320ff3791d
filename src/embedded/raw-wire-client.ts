import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { message } from './wire-protocol.js';

export interface BackendMessage {
  readonly type: string;
  readonly body: Buffer;
}

/**
 * A PostgreSQL client at the byte level, for the wire server's specs: it
 * sends what `pg` never would (bad lengths, queries before authentication)
 * and shows every message the server answers.
 */
export class RawWireClient {
  private buffer = Buffer.alloc(0);
  private readonly received: BackendMessage[] = [];
  private wake: (() => void) | null = null;
  private ended = false;

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      while (this.buffer.length >= 5 && this.buffer.length >= 1 + this.buffer.readInt32BE(1)) {
        const length = 1 + this.buffer.readInt32BE(1);
        this.received.push({ type: String.fromCharCode(this.buffer[0]), body: this.buffer.subarray(5, length) });
        this.buffer = this.buffer.subarray(length);
      }
      this.wake?.();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.ended = true;
      this.wake?.();
    });
  }

  /** Connects and sends a StartupMessage; with a password, completes SCRAM-SHA-256 and waits for ReadyForQuery. */
  static async connect(port: number, password?: string): Promise<RawWireClient> {
    const client = await RawWireClient.open(port);
    const parameters = Buffer.from('user\0postgres\0database\0postgres\0\0');
    const startup = Buffer.alloc(8);
    startup.writeInt32BE(8 + parameters.length, 0);
    startup.writeInt32BE(196608, 4);
    client.send(Buffer.concat([startup, parameters]));
    if (password !== undefined) await client.authenticate(password);
    return client;
  }

  /** Connects and sends nothing. */
  static async open(port: number): Promise<RawWireClient> {
    const socket = connect(port, '127.0.0.1');
    await once(socket, 'connect');
    return new RawWireClient(socket);
  }

  /** The next message, or null once the server closed the connection. */
  async next(): Promise<BackendMessage | null> {
    for (;;) {
      const first = this.received.shift();
      if (first) return first;
      if (this.ended) return null;
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = null;
    }
  }

  /** Every message up to ReadyForQuery or the end of the connection. */
  async untilReady(): Promise<BackendMessage[]> {
    const messages: BackendMessage[] = [];
    for (let m = await this.next(); m; m = await this.next()) {
      messages.push(m);
      if (m.type === 'Z') break;
    }
    return messages;
  }

  /** Resolves when the server has closed the connection. */
  async closed(): Promise<void> {
    while (await this.next());
  }

  send(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  query(sql: string): void {
    this.send(message('Q', `${sql}\0`));
  }

  close(): void {
    this.socket.destroy();
  }

  private async authenticate(password: string): Promise<void> {
    const expect = async (code: number) => {
      const m = await this.next();
      if (m?.type !== 'R' || m.body.readInt32BE(0) !== code)
        throw new Error(`expected authentication message ${code}, got ${m?.type} ${m?.body.toString('latin1')}`);
      return m.body.toString('utf8', 4);
    };
    await expect(10);
    const clientFirstBare = `n=*,r=${randomBytes(18).toString('base64')}`;
    const initial = Buffer.from(`n,,${clientFirstBare}`);
    this.send(message('p', 'SCRAM-SHA-256\0', initial.length, initial));
    const serverFirst = await expect(11);
    const fields = Object.fromEntries(serverFirst.split(',').map((f) => [f[0], f.slice(2)]));
    const salted = pbkdf2Sync(password, Buffer.from(fields.s, 'base64'), Number(fields.i), 32, 'sha256');
    const clientKey = createHmac('sha256', salted).update('Client Key').digest();
    const storedKey = createHash('sha256').update(clientKey).digest();
    const withoutProof = `c=biws,r=${fields.r}`;
    const signature = createHmac('sha256', storedKey)
      .update(`${clientFirstBare},${serverFirst},${withoutProof}`)
      .digest();
    const proof = Buffer.from(clientKey.map((byte, i) => byte ^ signature[i])).toString('base64');
    this.send(message('p', `${withoutProof},p=${proof}`));
    await expect(12);
    await expect(0);
    const rest = await this.untilReady();
    if (rest.at(-1)?.type !== 'Z') throw new Error('the connection ended during startup');
  }
}

/** The SQLSTATE of an ErrorResponse's body. */
export function sqlState(error: BackendMessage | undefined): string | undefined {
  if (error?.type !== 'E') return undefined;
  const field = error.body
    .toString('utf8')
    .split('\0')
    .find((f) => f.startsWith('C'));
  return field?.slice(1);
}
