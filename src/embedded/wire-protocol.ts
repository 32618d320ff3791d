/**
 * The parts of the PostgreSQL wire protocol (version 3) the embedded
 * database's server speaks itself: framing with length checks, and the few
 * backend messages it writes without PGlite (authentication, errors).
 */

export const PROTOCOL_3 = 196608;
export const SSL_REQUEST = 80877103;
export const GSSENC_REQUEST = 80877104;
export const CANCEL_REQUEST = 80877102;

/** PostgreSQL's own limit for a startup packet (MAX_STARTUP_PACKET_LENGTH). */
export const MAX_STARTUP_LENGTH = 10_000;
/**
 * The largest message accepted after startup. PostgreSQL allows up to 1 GB;
 * Pulse's largest (a bulk write's Bind of 10,000 tickets) is a few MB.
 */
export const MAX_MESSAGE_LENGTH = 64 * 1024 * 1024;

/** A client broke the protocol; the connection ends with an ErrorResponse carrying `code`. */
export class ProtocolViolation extends Error {
  constructor(
    message: string,
    readonly code = '08P01', // protocol_violation
  ) {
    super(message);
  }
}

/**
 * Splits a client's byte stream into messages. Before startup a message is
 * `int32 length, int32 code, …`; after it, `type byte, int32 length, …`. A
 * length outside its bounds is refused as soon as its header arrives, so a
 * client cannot make the server wait for, or hold, more than one message's
 * worth of bytes.
 */
export class FrameReader {
  /** Set once the startup message was accepted: from then on messages are typed. */
  started = false;
  private chunks: Buffer[] = [];
  private length = 0;

  /** Bytes received and not yet returned as a message. */
  get buffered(): number {
    return this.length;
  }

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.length += chunk.length;
  }

  /** The next complete message, or null until it has arrived; throws ProtocolViolation on a bad length. */
  next(): Buffer | null {
    if (this.started) {
      if (this.length < 5) return null;
      const length = this.peek(5).readInt32BE(1);
      if (length < 4 || length > MAX_MESSAGE_LENGTH)
        throw new ProtocolViolation(`invalid message length ${length} (at most ${MAX_MESSAGE_LENGTH})`);
      return this.take(1 + length);
    }
    if (this.length < 4) return null;
    const length = this.peek(4).readInt32BE(0);
    if (length < 8 || length > MAX_STARTUP_LENGTH)
      throw new ProtocolViolation(`invalid startup packet length ${length}`);
    return this.take(length);
  }

  private peek(n: number): Buffer {
    if (this.chunks[0].length < n) this.chunks = [Buffer.concat(this.chunks)];
    return this.chunks[0];
  }

  /** Concatenates once per message, however many chunks it arrived in. */
  private take(n: number): Buffer | null {
    if (this.length < n) return null;
    const all = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks, this.length);
    const message = all.subarray(0, n);
    this.chunks = all.length > n ? [all.subarray(n)] : [];
    this.length -= n;
    return message;
  }
}

/** A backend or frontend message: type byte, length, body. */
export function message(type: string, ...parts: (Buffer | string | number)[]): Buffer {
  const body = Buffer.concat(
    parts.map((part) => {
      if (typeof part === 'number') {
        const int = Buffer.alloc(4);
        int.writeInt32BE(part);
        return int;
      }
      return typeof part === 'string' ? Buffer.from(part, 'utf8') : part;
    }),
  );
  const header = Buffer.alloc(5);
  header.write(type, 0, 'latin1');
  header.writeInt32BE(4 + body.length, 1);
  return Buffer.concat([header, body]);
}

/** ErrorResponse with severity FATAL (the connection ends after it) or ERROR. */
export function errorResponse(code: string, text: string, severity: 'FATAL' | 'ERROR' = 'FATAL'): Buffer {
  const field = (name: string, value: string) => `${name}${value.replaceAll('\0', '')}\0`;
  return message('E', field('S', severity), field('V', severity), field('C', code), field('M', text), '\0');
}

/** The fields of a StartupMessage (user, database, options…). */
export function startupParameters(startup: Buffer): Map<string, string> {
  const parts = startup.toString('utf8', 8).split('\0');
  const parameters = new Map<string, string>();
  for (let i = 0; i + 1 < parts.length && parts[i] !== ''; i += 2) parameters.set(parts[i], parts[i + 1]);
  return parameters;
}

/**
 * Appended to every Query and Execute handed to PGlite: outside COPY the
 * backend ignores a CopyFail (the protocol says so); a `COPY … FROM STDIN`
 * reads it as its input and fails with SQLSTATE 57014. PGlite cannot wait
 * for COPY data from a client (its backend would exit, and the database with
 * it), so a COPY FROM STDIN has to fail at once, whichever way its text was
 * written: this relies on the backend's own state, not on reading the SQL.
 */
export const COPY_FROM_STDIN_REFUSED = message(
  'f',
  'COPY FROM STDIN is not supported by the embedded database; use INSERT\0',
);
