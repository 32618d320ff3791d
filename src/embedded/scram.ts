import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';

export const SCRAM_SHA_256 = 'SCRAM-SHA-256';
const ITERATIONS = 4096;

/**
 * The server side of SCRAM-SHA-256 (RFC 5802, RFC 7677), as PostgreSQL runs
 * it: the password itself never crosses the socket, and the client checks
 * that the server knew it too. Only the verifier is kept, as PostgreSQL keeps
 * it in pg_authid; channel binding is not offered (there is no TLS).
 */
export class ScramVerifier {
  private readonly salt = randomBytes(16);
  private readonly storedKey: Buffer;
  private readonly serverKey: Buffer;

  constructor(password: string) {
    // SASLprep leaves the ASCII passwords this server is given unchanged.
    const salted = pbkdf2Sync(password, this.salt, ITERATIONS, 32, 'sha256');
    this.storedKey = sha256(hmac(salted, 'Client Key'));
    this.serverKey = hmac(salted, 'Server Key');
  }

  /**
   * Answers the client-first-message with the server-first-message; the
   * returned `finish` checks the client-final-message and gives the
   * server-final-message, or null when the proof is wrong. Throws on a
   * malformed message.
   */
  start(clientFirst: string): { serverFirst: string; finish(clientFinal: string): string | null } {
    const match = /^([ny]),,(n=[^,]*,r=([!-+\--~]+))$/.exec(clientFirst);
    if (!match) throw new Error('malformed SCRAM client-first-message (channel binding is not supported)');
    const [, gs2, clientFirstBare, clientNonce] = match;
    const nonce = clientNonce + randomBytes(18).toString('base64');
    const serverFirst = `r=${nonce},s=${this.salt.toString('base64')},i=${ITERATIONS}`;
    return {
      serverFirst,
      finish: (clientFinal) => {
        const final = /^(c=([^,]*),r=([^,]*)),p=([A-Za-z0-9+/=]+)$/.exec(clientFinal);
        if (!final) throw new Error('malformed SCRAM client-final-message');
        const [, withoutProof, binding, finalNonce, proofText] = final;
        if (binding !== Buffer.from(`${gs2},,`).toString('base64') || finalNonce !== nonce) return null;
        const proof = Buffer.from(proofText, 'base64');
        if (proof.length !== 32) return null;
        const authMessage = `${clientFirstBare},${serverFirst},${withoutProof}`;
        const signature = hmac(this.storedKey, authMessage);
        const clientKey = Buffer.from(proof.map((byte, i) => byte ^ signature[i]));
        if (!timingSafeEqual(sha256(clientKey), this.storedKey)) return null;
        return `v=${hmac(this.serverKey, authMessage).toString('base64')}`;
      },
    };
  }
}

function hmac(key: Buffer, text: string): Buffer {
  return createHmac('sha256', key).update(text).digest();
}

function sha256(data: Buffer): Buffer {
  return createHash('sha256').update(data).digest();
}
