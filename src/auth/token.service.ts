import { Injectable } from '@nestjs/common';
import { createSecretKey, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { AppConfig } from '../config/app-config.js';
import { DomainError } from '../common/errors.js';
import { ROLES, type Principal, type Role } from './auth.types.js';

/**
 * Verifies Pulse's HS256 tokens. Every rule of the contract is checked here:
 * the algorithm is pinned (so `alg: none` and other algorithms fail), `exp` is
 * required, `org_id` must be a positive integer and `role` one of the three.
 */
@Injectable()
export class TokenService {
  /**
   * A key object made once: given the secret as a string, jsonwebtoken tries
   * `crypto.createPublicKey` on it for every token (and catches the failure),
   * which costs about 40 times the HMAC itself.
   */
  private readonly key: KeyObject;
  /**
   * Tokens that verified, by their text (which holds their signature): a
   * wallboard or a script sends the same token on every request, and
   * checking its expiry again is all a second verification would add.
   */
  private readonly verified = new Map<string, Principal>();

  constructor(private readonly config: AppConfig) {
    this.key = createSecretKey(Buffer.from(config.jwtSecret, 'utf8'));
  }

  /**
   * `remember: false` for a token checked once per connection (a socket's
   * handshake): thousands of wallboards' tokens would only push the HTTP
   * callers' ones out of the bounded cache, and stay in memory after their
   * sockets left.
   */
  verify(token: string, { remember = true }: { remember?: boolean } = {}): Principal {
    const known = this.verified.get(token);
    if (known) {
      // jsonwebtoken's rule: expired once the current second reaches exp.
      if (Math.floor(Date.now() / 1000) < known.expiresAt.getTime() / 1000) return known;
      this.verified.delete(token);
    }
    const principal = this.verifyAnew(token);
    if (!remember) return principal;
    if (this.verified.size >= MAX_VERIFIED) this.verified.delete(this.verified.keys().next().value!);
    this.verified.set(token, principal);
    return principal;
  }

  private verifyAnew(token: string): Principal {
    let payload: string | jwt.JwtPayload;
    try {
      payload = jwt.verify(token, this.key, { algorithms: ['HS256'] });
    } catch (error) {
      throw unauthorized(error instanceof jwt.TokenExpiredError ? 'token expired' : 'invalid token');
    }
    if (typeof payload !== 'object' || payload === null) throw unauthorized('invalid token');
    const { sub, org_id: organizationId, role, exp } = payload as Record<string, unknown>;
    if (typeof exp !== 'number') throw unauthorized('token has no exp claim');
    if (typeof sub !== 'string' || sub.length === 0) throw unauthorized('token has no sub claim');
    if (typeof organizationId !== 'number' || !Number.isSafeInteger(organizationId) || organizationId <= 0) {
      throw unauthorized('token org_id must be a positive integer');
    }
    if (typeof role !== 'string' || !(ROLES as readonly string[]).includes(role)) {
      throw unauthorized(`token role must be one of ${ROLES.join(', ')}`);
    }
    return { subject: sub, organizationId, role: role as Role, expiresAt: new Date(exp * 1000) };
  }

  /** The principal of an `Authorization: Bearer` header, or null when there is none or it does not verify. */
  fromHeader(header: string | undefined): Principal | null {
    const token = bearerToken(header);
    if (token === null) return null;
    try {
      return this.verify(token);
    } catch {
      return null;
    }
  }

  sign(claims: { sub: string; org_id: number; role: Role }, expiresInSeconds: number): string {
    return signToken(claims, this.config.jwtSecret, expiresInSeconds);
  }
}

export function signToken(
  claims: { sub: string; org_id: number; role: Role },
  secret: string,
  expiresInSeconds: number,
) {
  return jwt.sign(claims, secret, { algorithm: 'HS256', expiresIn: expiresInSeconds });
}

const MAX_VERIFIED = 10_000;

/** The token of an `Authorization: Bearer <token>` header, or null. */
export function bearerToken(header: string | undefined): string | null {
  return (typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1] : undefined) ?? null;
}

function unauthorized(message: string): DomainError {
  return new DomainError('UNAUTHORIZED', message);
}
