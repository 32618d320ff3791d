import { Api, qs } from './http.js';
import { newOrganizationId, tokenFor } from './app.js';
import { buildFixture, seedOrganization } from './analytics-truth.js';

/** A fresh organization holding a seeded fixture of 40 tickets, and an admin client for it. */
export async function seededOrganization(baseUrl: string, seed: number, prefix: string) {
  const organizationId = newOrganizationId();
  const tickets = buildFixture(seed, prefix, 40);
  await seedOrganization(baseUrl, organizationId, tickets);
  return { organizationId, tickets, api: new Api(baseUrl, tokenFor(organizationId, 'admin')) };
}

/** The X-Cache of a successful GET. */
export async function cacheOf(api: Api, path: string): Promise<string | null> {
  const res = await api.get(path);
  expect(res.status, res.text).toBe(200);
  return res.headers.get('x-cache');
}

export async function invalidate(api: Api, pattern: string): Promise<void> {
  const res = await api.delete(`/api/v1/analytics/cache${qs({ pattern })}`);
  expect(res.status, res.text).toBe(200);
  expect(res.body.pattern).toBe(pattern);
}
