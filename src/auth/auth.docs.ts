import { applyDecorators } from '@nestjs/common';
import { ApiBearerAuth } from '@nestjs/swagger';
import { ApiErrors } from '../common/error-responses.docs.js';
import { ROLES, type Role } from './auth.types.js';

/** The security scheme's name in the OpenAPI document. */
export const BEARER_SCHEME = 'bearer';

/** The sentence an operation's description starts with: who may call it. */
export function roleNote(role: Role): string {
  const allowed = ROLES.slice(ROLES.indexOf(role));
  return `Required role: \`${role}\` (${allowed.map((r) => `\`${r}\``).join(', ')} may call it).`;
}

/**
 * Documents a route behind the auth guard: the bearer token, its 401, the
 * 403 of a role above viewer (every valid token is at least a viewer), and
 * the 429 of the rate limits that every authenticated route counts against.
 */
export function ApiAccess(role: Role) {
  return applyDecorators(ApiBearerAuth(BEARER_SCHEME), ApiErrors(role === 'viewer' ? [401, 429] : [401, 403, 429]));
}
