// The app's GUI in Debian's Chromium, for machines without the Electron binary (like the ones this
// project is built on) and for the end-to-end tests. It stands in for Electron exactly where
// Electron cannot run, and nowhere else:
// - the built renderer is served by Playwright's request interception under one origin, with the
//   app's CSP; every other request is refused and recorded. No network listener is opened.
// - the built preload (out/preload/index.cjs) runs in the page with a stand-in for the `electron`
//   module whose ipcRenderer calls a Playwright binding; the binding calls the same dispatcher
//   the Electron main process registers, with the calling frame's URL for the sender check.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, type BrowserContext, type Page, chromium } from 'playwright-core';
import type { Dispatcher } from '../../src/main/dispatch';
import { rendererFile } from '../../src/main/renderer-files';

export const CHROMIUM = '/usr/bin/chromium';
export const HOST_ORIGIN = 'https://tessera.invalid';
export const CHROMIUM_FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export interface ChromiumApp {
  browser: Browser;
  context: BrowserContext;
  page: Page;
  /** Every request the page tried that was not one of the app's own files. */
  blocked: string[];
  close(): Promise<void>;
}

/** The `electron` module as the preload sees it, backed by the Playwright binding. */
const electronStandIn = `
  const listeners = new Map();
  const electron = {
    contextBridge: {
      exposeInMainWorld: (name, api) => Object.defineProperty(window, name, { value: api, enumerable: true }),
    },
    ipcRenderer: {
      invoke: (channel, payload) => window.__tesseraIpc(channel, payload),
      on: (channel, listener) => {
        if (!listeners.has(channel)) listeners.set(channel, new Set());
        listeners.get(channel).add(listener);
      },
      removeListener: (channel, listener) => listeners.get(channel)?.delete(listener),
    },
  };
  Object.defineProperty(window, '__tesseraEmit', {
    value: (channel, payload) => { for (const l of listeners.get(channel) ?? []) l({}, payload); },
  });
`;

export async function launchChromiumApp(options: { dispatcher: Dispatcher; outDir: string; headless: boolean }): Promise<ChromiumApp> {
  const preload = readFileSync(join(options.outDir, 'preload', 'index.cjs'), 'utf8');
  const rendererDir = join(options.outDir, 'renderer');
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: options.headless, args: CHROMIUM_FLAGS });
  const context = await browser.newContext({ serviceWorkers: 'block', viewport: { width: 1360, height: 860 } });
  const blocked: string[] = [];
  await context.route('**/*', async (route) => {
    const url = new URL(route.request().url());
    if (`${url.protocol}//${url.host}` !== HOST_ORIGIN) {
      blocked.push(url.href);
      return route.abort('blockedbyclient');
    }
    const file = rendererFile(rendererDir, url.pathname);
    return route.fulfill({ status: file.status, headers: file.headers, body: file.body });
  });
  await context.exposeBinding('__tesseraIpc', (source, channel: unknown, payload: unknown) =>
    options.dispatcher.invoke({ url: source.frame.url(), isMainFrame: source.frame === source.page.mainFrame() }, channel, payload),
  );
  await context.addInitScript({
    content: `(() => { if (window !== window.top) return; ${electronStandIn}
      const module = { exports: {} };
      (function (require, module, exports) { ${preload}\n })((id) => { if (id === 'electron') return electron; throw new Error('preload may only require electron'); }, module, module.exports);
    })();`,
  });
  const page = await context.newPage();
  const unsubscribe = options.dispatcher.subscribe((event, payload) => {
    page.evaluate(([e, p]) => (globalThis as unknown as { __tesseraEmit(e: string, p: unknown): void }).__tesseraEmit(e, p), [event, payload] as const).catch(() => {
      // the page is closing; nothing to deliver to
    });
  });
  await page.goto(`${HOST_ORIGIN}/index.html`);
  return {
    browser,
    context,
    page,
    blocked,
    close: async () => {
      unsubscribe();
      await browser.close();
    },
  };
}
