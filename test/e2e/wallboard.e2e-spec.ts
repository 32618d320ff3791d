import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { Api } from '../support/http.js';
import { newOrganizationId, startApp, tokenFor, type TestApp } from '../support/app.js';
import { buildTicket } from '../support/factories.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = join(process.cwd(), 'test', 'artifacts');

describe('wallboard in a real browser', () => {
  let server: TestApp;
  let browser: BrowserContext;
  let profile: string;

  beforeAll(async () => {
    server = await startApp();
    profile = mkdtempSync(join(tmpdir(), 'pulse-chromium-'));
    // A fresh profile per run; Playwright passes it to Chromium as --user-data-dir.
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1600, height: 900 },
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    rmSync(profile, { recursive: true, force: true });
  });

  it('shows live numbers and counts a new ticket within 2 s', async () => {
    const organizationId = newOrganizationId();
    const api = new Api(server.url, tokenFor(organizationId, 'agent'));
    await api.post('/api/v1/tickets', buildTicket({ created_at: new Date().toISOString() }));

    const page = await browser.newPage();
    await page.goto(`${server.url}/wallboard?token=${tokenFor(organizationId, 'viewer')}`);
    await page.locator('#status[data-state="connected"]').waitFor({ timeout: 10_000 });
    await page.locator('#created-today', { hasText: /^1$/ }).waitFor({ timeout: 10_000 });
    await page.locator('#backlog', { hasText: /^1$/ }).waitFor({ timeout: 10_000 });
    await page.locator('#open', { hasText: /^1$/ }).waitFor({ timeout: 10_000 });
    expect(await page.locator('#login').isVisible()).toBe(false);

    await api.post('/api/v1/tickets', buildTicket({ created_at: new Date().toISOString() }));
    await page.locator('#created-today', { hasText: /^2$/ }).waitFor({ timeout: 2000 });
    await page.locator('#backlog', { hasText: /^2$/ }).waitFor({ timeout: 5000 });

    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'wallboard.png') });
  });

  it('says unauthorized and asks for a token when the token is bad', async () => {
    const page = await browser.newPage();
    await page.goto(`${server.url}/wallboard?token=not-a-token`);
    await page.locator('#status[data-state="unauthorized"]').waitFor({ timeout: 10_000 });
    expect(await page.locator('#login').isVisible()).toBe(true);
  });
});
