import { createHash } from 'node:crypto';
import type { CacheSection, Scope } from './cache-scopes.js';

/**
 * Pure key builders. Every key of an organization carries the hash tag
 * `{o<id>}`, so on Redis Cluster all of them live in one slot and multi-key
 * commands stay legal.
 */
export class CacheKeys {
  constructor(private readonly prefix: string) {}

  private org(organizationId: number): string {
    return `${this.prefix}:{o${organizationId}}`;
  }

  generation(organizationId: number, scope: Scope): string {
    return `${this.org(organizationId)}:gen:${scope}`;
  }

  /** A result: its section, the digest of its normalized query, the generations it was computed under. */
  entry(organizationId: number, section: CacheSection, digest: string, tag: string): string {
    return `${this.org(organizationId)}:res:${section}:${digest}:${tag}`;
  }

  lock(entryKey: string): string {
    return `${entryKey}:lock`;
  }

  counters(organizationId: number): string {
    return `${this.org(organizationId)}:counters`;
  }

  index(organizationId: number): string {
    return `${this.org(organizationId)}:entries`;
  }
}

/** Digest of a normalized query: equal queries (whatever their key order) share it. */
export function digestOf(query: unknown): string {
  return createHash('sha256').update(canonicalJson(query)).digest('base64url').slice(0, 32);
}

/** JSON with object keys sorted at every depth. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
        )
      : v,
  );
}

/** A strong validator of a body: equal bodies, equal ETags. */
export function etagOf(body: string): string {
  return `"${createHash('sha256').update(body).digest('base64url').slice(0, 32)}"`;
}
