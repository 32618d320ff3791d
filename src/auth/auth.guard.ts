import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { DomainError } from '../common/errors.js';
import { PUBLIC_KEY, ROLE_KEY } from './auth.decorators.js';
import { roleAllows, type Principal, type Role } from './auth.types.js';
import { bearerToken, TokenService } from './token.service.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
}

/** Global guard: a bearer token on every route not marked public, then the role. */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly tokens: TokenService,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    if (context.getType() !== 'http') return true;
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_KEY, targets)) return true;

    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const header = request.headers.authorization;
    const token = bearerToken(header);
    if (token === null) throw new DomainError('UNAUTHORIZED', 'missing bearer token');
    const principal = this.tokens.verify(token);

    const required = this.reflector.getAllAndOverride<Role | undefined>(ROLE_KEY, targets);
    if (required && !roleAllows(principal.role, required)) {
      throw new DomainError('FORBIDDEN', `this operation requires the ${required} role`);
    }
    request.principal = principal;
    return true;
  }
}
