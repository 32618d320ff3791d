import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { Api } from '../support/http.js';
import { newOrganizationId, startApp, tokenFor, type TestApp } from '../support/app.js';
import { ARTIFACTS, launchBrowser, TV_HOST, type Browser } from '../support/browser.js';
import { buildTicket } from '../support/factories.js';

const HOUR = 3_600_000;

/** A day of traffic with a daytime hump, so the chart has bars of many heights. */
function dayOfTickets(): Record<string, unknown>[] {
  const tickets: Record<string, unknown>[] = [];
  for (let h = 0; h < 24; h++) {
    const perHour = 3 + Math.round(12 * Math.sin((Math.PI * h) / 24));
    for (let i = 0; i < perHour; i++) {
      const priority = ['low', 'medium', 'high', 'urgent'][(h + i) % 4];
      tickets.push(
        buildTicket({ priority, created_at: new Date(Date.now() - h * HOUR - i * 60_000 - 30_000).toISOString() }),
      );
    }
  }
  return tickets;
}

/** WCAG 2 contrast ratio of two `rgb()`/`rgba()` colours (opaque ones). */
function contrast(a: string, b: string): number {
  const luminance = (css: string) => {
    const [r, g, b] = css
      .match(/[\d.]+/g)!
      .slice(0, 3)
      .map((v) => {
        const c = Number(v) / 255;
        return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
      });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

/** Every piece of text on the board with its colour, the background behind it and whether it counts as large. */
function textColours(page: Page) {
  return page.evaluate(() => {
    const backgroundOf = (element: Element | null): string => {
      for (let e = element; e; e = e.parentElement) {
        const bg = getComputedStyle(e).backgroundColor;
        if (bg && !bg.endsWith(', 0)') && bg !== 'transparent') return bg;
      }
      return getComputedStyle(document.documentElement).backgroundColor;
    };
    const selectors =
      'h1, #scope, #updated, #clock, #status, #problem, .tile h2, .value, .trend span, .by-priority li, .chart h2';
    return [...document.querySelectorAll(selectors)]
      .filter((e) => (e as HTMLElement).offsetParent !== null && e.textContent!.trim() !== '')
      .map((e) => {
        const style = getComputedStyle(e);
        const size = parseFloat(style.fontSize);
        const bold = Number(style.fontWeight) >= 700;
        return {
          text: `${e.id || e.className || e.tagName}: ${e.textContent!.trim().slice(0, 30)}`,
          color: style.color,
          background: backgroundOf(e),
          large: size >= 24 || (bold && size >= 18.66),
        };
      });
  });
}

describe('wallboard layout, host names and settings', () => {
  let server: TestApp;
  let browser: Browser;
  let organizationId: number;
  let token: string;

  beforeAll(async () => {
    server = await startApp();
    browser = await launchBrowser();
    organizationId = newOrganizationId();
    token = tokenFor(organizationId, 'viewer');
    const api = new Api(server.url, tokenFor(organizationId, 'agent'));
    expect((await api.post('/api/v1/tickets/bulk', { tickets: dayOfTickets() })).status).toBe(200);
    mkdirSync(ARTIFACTS, { recursive: true });
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  const port = () => new URL(server.url).port;

  it('loads over plain HTTP by a host name that is not localhost: styles, scripts and socket', async () => {
    const page = await browser.context.newPage();
    const failed: string[] = [];
    page.on('requestfailed', (request) => failed.push(`${request.url()}: ${request.failure()?.errorText}`));
    const response = await page.goto(`http://${TV_HOST}:${port()}/wallboard?token=${token}`);
    const headers = response!.headers();
    expect(headers['content-security-policy']).toContain("script-src 'self'");
    expect(headers['content-security-policy']).not.toContain('upgrade-insecure-requests');
    expect(headers).not.toHaveProperty('strict-transport-security');

    await page.locator('#status[data-state="connected"]').waitFor({ timeout: 10_000 });
    await page.locator('#created', { hasText: /^\d+$/ }).waitFor({ timeout: 10_000 });
    // The stylesheet applied: the dark theme's background, not the browser's white.
    expect(await page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor)).toBe(
      'rgb(11, 16, 32)',
    );
    expect(await page.evaluate(() => location.protocol)).toBe('http:');
    expect(failed).toEqual([]);
    await page.close();
  });

  it('serves /docs over plain HTTP by a host name too', async () => {
    const page = await browser.context.newPage();
    const failed: string[] = [];
    page.on('requestfailed', (request) => failed.push(request.url()));
    const response = await page.goto(`http://${TV_HOST}:${port()}/docs`);
    expect(response!.headers()['content-security-policy']).not.toContain('upgrade-insecure-requests');
    await page.locator('.swagger-ui .opblock').first().waitFor({ timeout: 15_000 });
    expect(failed).toEqual([]);
    await page.close();
  });

  for (const [name, viewport] of [
    ['tv', { width: 1600, height: 900 }],
    ['phone', { width: 390, height: 844 }],
  ] as const) {
    it(`at ${viewport.width}×${viewport.height} (${name}): no number wraps or overflows, the y-axis is labelled inside the chart`, async () => {
      const page = await browser.context.newPage();
      await page.setViewportSize(viewport);
      await page.goto(`${server.url}/wallboard?token=${token}`);
      await page.locator('#created', { hasText: /^\d+$/ }).waitFor({ timeout: 10_000 });
      await page.locator('#open', { hasText: /^\d+$/ }).waitFor({ timeout: 10_000 });
      await page.locator('#chart rect.bar.now').waitFor({ timeout: 10_000 });
      await page.locator('#created-trend span').first().waitFor({ timeout: 10_000 });

      const layout = await page.evaluate(() => {
        const box = (e: Element) => e.getBoundingClientRect();
        const values = [...document.querySelectorAll('.tile')].map((tile) => {
          const value = tile.querySelector('.value') as HTMLElement;
          const line = parseFloat(getComputedStyle(value).lineHeight);
          return {
            id: tile.id,
            left: box(tile).left,
            overflows: value.scrollWidth > value.clientWidth,
            lines: Math.round(box(value).height / line),
            inside: box(value).right <= box(tile).right + 0.5,
            // Trends and per-priority figures wrap between items, never out of their tile.
            linesInside: [...tile.querySelectorAll('.trend span, .by-priority li')].every(
              (e) => box(e).right <= box(tile).right + 0.5,
            ),
          };
        });
        const svg = document.getElementById('chart')!;
        const chart = box(svg);
        const yLabels = [...svg.querySelectorAll('text.y')].map((t) => ({ text: t.textContent, ...box(t).toJSON() }));
        return {
          values,
          pageOverflows: document.documentElement.scrollWidth > innerWidth,
          viewBox: svg.getAttribute('viewBox'),
          size: `0 0 ${svg.clientWidth} ${svg.clientHeight}`,
          aspect: svg.getAttribute('preserveAspectRatio'),
          chart: chart.toJSON(),
          yLabels,
          nowLabel: svg.querySelector('text.now')?.textContent,
        };
      });
      for (const value of layout.values) {
        expect(value, value.id).toMatchObject({ overflows: false, lines: 1, inside: true, linesInside: true });
      }
      expect(layout.pageOverflows).toBe(false);
      // Drawn in its own pixels: text is never stretched.
      expect(layout.aspect).toBeNull();
      expect(layout.viewBox).toBe(layout.size);
      expect(layout.nowLabel).toBe('now');
      expect(layout.yLabels.length).toBeGreaterThanOrEqual(3);
      expect(layout.yLabels[0].text).toBe('0');
      for (const label of layout.yLabels) {
        expect(label.left).toBeGreaterThanOrEqual(layout.chart.left);
        expect(label.right).toBeLessThanOrEqual(layout.chart.right);
        expect(label.top).toBeGreaterThanOrEqual(layout.chart.top);
        expect(label.bottom).toBeLessThanOrEqual(layout.chart.bottom);
      }
      if (name === 'phone') {
        // One column: every tile starts at the same left edge.
        expect(new Set(layout.values.map((v) => Math.round(v.left))).size).toBe(1);
      }
      await page.screenshot({
        path: join(ARTIFACTS, `wallboard-${viewport.width}x${viewport.height}.png`),
        fullPage: name === 'phone',
      });
      await page.close();
    });
  }

  for (const theme of ['dark', 'light']) {
    it(`meets WCAG AA contrast in the ${theme} theme`, async () => {
      const page = await browser.context.newPage();
      await page.goto(`${server.url}/wallboard?theme=${theme}&token=${token}`);
      await page.locator('#created', { hasText: /^\d+$/ }).waitFor({ timeout: 10_000 });
      await page.locator('#created-trend span').first().waitFor({ timeout: 10_000 });
      const texts = await textColours(page);
      expect(texts.length).toBeGreaterThan(15);
      for (const t of texts) {
        expect(contrast(t.color, t.background), `${t.text} (${t.color} on ${t.background})`).toBeGreaterThanOrEqual(
          t.large ? 3 : 4.5,
        );
      }
      await page.close();
    });
  }

  it('is set up by its URL: title, theme, window, thresholds; every tile says its window', async () => {
    const page = await browser.context.newPage();
    await page.goto(`${server.url}/wallboard?title=Night%20shift&theme=light&window=7d&sla_target=100&token=${token}`);
    await page.locator('#created', { hasText: /^\d+$/ }).waitFor({ timeout: 10_000 });
    expect(await page.locator('#title').textContent()).toBe('Night shift');
    expect(await page.title()).toBe('Night shift · Pulse');
    expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe('light');
    const windows = await page.locator('.tile .window').allTextContents();
    expect(windows.filter((w) => w === 'last 7 days')).toHaveLength(5);
    expect(windows.filter((w) => w === 'now')).toHaveLength(4);
    expect(await page.locator('#chart-title').textContent()).toBe('Tickets created per hour, last 7 days');
    expect(await page.locator('link[rel="icon"]').getAttribute('href')).toBe('/wallboard/favicon.svg');
    await page.close();
  });

  it('refuses settings it does not know, naming the parameter', async () => {
    const api = new Api(server.url);
    for (const [query, name] of [
      ['window=2d', 'window'],
      ['timezone=Mars/Olympus', 'timezone'],
      ['priority=critical', 'priority'],
      ['theme=blue', 'theme'],
      ['sla_target=abc', 'sla_target'],
      ['backlog_max=-1', 'backlog_max'],
      ['interval=0', 'interval'],
      ['title=%3Cscript%3E', 'title'],
      ['team=a', 'team'],
    ]) {
      const response = await api.get(`/wallboard?${query}`);
      expect(response.status, query).toBe(400);
      expect(JSON.stringify(response.body.message), query).toContain(name);
    }
    const favicon = await fetch(`${server.url}/wallboard/favicon.svg`);
    expect(favicon.headers.get('content-type')).toBe('image/svg+xml');
  });
});
