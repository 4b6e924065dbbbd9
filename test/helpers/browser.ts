// Debian's Chromium driven by playwright-core (which downloads no browser of its own), in a fresh
// profile. Without the browser the suite fails and says what to install: it never passes unrun.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export interface TestBrowser {
  context: BrowserContext;
  /** A new tab: its own sessionStorage (so its own sign-in); script errors and CSP violations collected. */
  page(): Promise<WatchedPage>;
  close(): Promise<void>;
}

export interface WatchedPage {
  page: Page;
  /** Uncaught exceptions and console errors in the page. */
  errors: string[];
  /** Content-Security-Policy violations the page reported. */
  violations(): Promise<string[]>;
}

export async function launchBrowser(): Promise<TestBrowser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`no Chromium at ${CHROMIUM}: the console tests need a real browser (apt-get install -y chromium, or set CHROMIUM_PATH)`);
  }
  const profile = mkdtempSync(join(tmpdir(), 'madoguchi-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1400, height: 900 },
    locale: 'ja-JP',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  return {
    context,
    async page() {
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
      page.on('console', (m) => { if (m.type() === 'error' && !/status of (401|403|404|409|422)/.test(m.text())) errors.push(`console: ${m.text()}`); });
      await page.addInitScript(() => {
        const w = window as unknown as { __csp: string[] };
        w.__csp = [];
        document.addEventListener('securitypolicyviolation', (e) => w.__csp.push(`${e.violatedDirective} ${e.blockedURI}`));
      });
      return { page, errors, violations: () => page.evaluate(() => (window as unknown as { __csp: string[] }).__csp) };
    },
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
