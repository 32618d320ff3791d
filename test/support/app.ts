import { randomInt } from 'node:crypto';
import { inject } from 'vitest';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { DestinationStream } from 'pino';
import { createApp } from '../../src/app.factory.js';
import { parseConfig, type AppConfig } from '../../src/config/app-config.js';
import type { Role } from '../../src/auth/auth.types.js';
import { signToken } from '../../src/auth/token.service.js';

export const JWT_SECRET = process.env.JWT_SECRET!;

/** Whether this file runs in the embedded project (PGlite, the in-process cache): see vitest.config.ts. */
export const EMBEDDED = process.env.PULSE_EMBEDDED === 'true';

/** The database the apps of this project use, for tests that look into it directly. */
export function testDatabaseUrl(): string {
  return EMBEDDED ? inject('embeddedDatabaseUrl') : process.env.DATABASE_URL!;
}

/** The test configuration, with overrides (environment variable names). */
export function testConfig(overrides: Record<string, string> = {}): AppConfig {
  return parseConfig({ ...process.env, DATABASE_URL: testDatabaseUrl(), ...overrides });
}

export interface TestApp {
  readonly app: NestFastifyApplication;
  readonly url: string;
  readonly config: AppConfig;
  close(): Promise<void>;
}

/** Boots the real application on a free port; `logDestination` receives its request log. */
export async function startApp(
  overrides: Record<string, string> = {},
  logDestination?: DestinationStream,
): Promise<TestApp> {
  const config = testConfig(overrides);
  const app = await createApp(config, logDestination);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.getHttpServer().address() as { port: number };
  return { app, url: `http://127.0.0.1:${address.port}`, config, close: () => app.close() };
}

/** A fresh organization id: tests never share one, so nothing needs truncating. */
export function newOrganizationId(): number {
  return randomInt(1, 2 ** 47);
}

export function tokenFor(organizationId: number, role: Role = 'admin', secret = JWT_SECRET): string {
  return signToken({ sub: `test-${role}`, org_id: organizationId, role }, secret, 3600);
}
