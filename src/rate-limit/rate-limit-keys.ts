import type { Principal } from '../auth/auth.types.js';

/**
 * The keys of the limits, in one place: the throttler at the door and the
 * cached-read script count the same caller under the same key, in the
 * organization's Redis slot (`{o<org>}`).
 */
export const callerTracker = (principal: Principal): string =>
  `{o${principal.organizationId}}:sub:${encodeURIComponent(principal.subject)}`;

export const addressTracker = (ip: string): string => `{ip:${ip}}`;

/** The throttler's key for a tracker and a named limit (`default`, `exports`). */
export const limitKey = (tracker: string, name: string): string => `${tracker}:${name}`;
