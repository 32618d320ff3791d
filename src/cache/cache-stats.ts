import type { CacheSection, Scope } from './cache-scopes.js';
import type { CacheStore } from './cache-store.js';

/**
 * A stored result's member in its organization's entry index: what `stats`
 * needs to tell whether it is still reachable (its scopes, and the tag it was
 * stored under).
 */
export function memberOf(section: CacheSection, scopes: readonly Scope[], digest: string, tag: string): string {
  return `${section}|${scopes.join(',')}|${digest}|${tag}`;
}

/**
 * The organization's counters, and how many stored results are still
 * reachable (stored under the current generations and not expired).
 */
export async function cacheStats(
  store: CacheStore,
  organizationId: number,
): Promise<{ hits: number; misses: number; entries: number }> {
  const [{ hits, misses }, members] = await Promise.all([
    store.counters(organizationId),
    store.entries(organizationId),
  ]);
  if (members.length === 0) return { hits, misses, entries: 0 };
  // One read of every generation the stored results name; their tags are rebuilt from it.
  const scopesOfMember = members.map((member) => member.split('|')[1]!.split(',') as Scope[]);
  const unique = [...new Set(scopesOfMember.flat())];
  const [incarnation, ...values] = (await store.generations(organizationId, unique)).split('.');
  const current = new Map(unique.map((scope, i) => [scope, values[i]]));
  const entries = members.filter(
    (member, i) => member.split('|')[3] === [incarnation, ...scopesOfMember[i]!.map((s) => current.get(s))].join('.'),
  ).length;
  return { hits, misses, entries };
}
