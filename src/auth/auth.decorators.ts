import { createParamDecorator, ExecutionContext, SetMetadata } from '@nestjs/common';
import type { Principal, Role } from './auth.types.js';

export const PUBLIC_KEY = 'pulse:public';
export const ROLE_KEY = 'pulse:role';

/** The route answers without a token (health, metrics, docs, wallboard). */
export const Public = () => SetMetadata(PUBLIC_KEY, true);

/** The lowest role that may call the route; without it, any valid token may. */
export const RequireRole = (role: Role) => SetMetadata(ROLE_KEY, role);

/** The verified caller. The organization comes from here, never from the request. */
export const Caller = createParamDecorator(
  (_: unknown, context: ExecutionContext): Principal => context.switchToHttp().getRequest().principal,
);
