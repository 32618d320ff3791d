import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const ARTIFACTS = join(process.cwd(), 'test', 'artifacts');
/** A host name that is not localhost: browsers treat it as any LAN or DNS name (no secure-context exemption). */
export const TV_HOST = 'pulse-tv.test';

export interface Browser {
  readonly context: BrowserContext;
  close(): Promise<void>;
}

/** Debian's Chromium (or CHROMIUM_PATH) with a fresh profile, `TV_HOST` resolving to 127.0.0.1. */
export async function launchBrowser(viewport = { width: 1600, height: 900 }): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), 'pulse-chromium-'));
  // Playwright passes the profile to Chromium as --user-data-dir.
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      `--host-resolver-rules=MAP ${TV_HOST} 127.0.0.1`,
    ],
  });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
