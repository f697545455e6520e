// The app under test: a fresh terminal (own database, the lab's partition and keychain) behind the
// real dispatcher, and its GUI in Chromium. Named waits, never sleeps.
import { test as base, expect, type Locator, type Page } from '@playwright/test';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { applyLabEnvironment, findLabProfile } from '../../src/core/config/lab-profile';
import { Terminal, type TerminalOptions } from '../../src/core/terminal';
import { createDispatcher } from '../../src/main/dispatch';
import { type ChromiumApp, HOST_ORIGIN, launchChromiumApp } from '../lab/chromium-app';
import { Lab } from '../lab/lab';

export const lab = new Lab();
const root = resolve(import.meta.dirname, '../..');

export class AppDriver {
  constructor(
    readonly chromium: ChromiumApp,
    readonly terminal: Terminal,
  ) {}

  get page(): Page {
    return this.chromium.page;
  }

  async goTo(section: 'Partition' | 'Keys' | 'Cards' | 'Backup' | 'Credentials' | 'Policy' | 'Audit'): Promise<void> {
    await this.page.getByRole('navigation', { name: 'Sections' }).getByRole('button', { name: section, exact: true }).click();
  }

  async waitForPartition(label: string): Promise<void> {
    await expect(this.page.getByRole('heading', { level: 1, name: `Partition “${label}”` })).toBeVisible();
  }

  reader(name: string): Locator {
    return this.page.getByRole('list', { name: 'Card readers' }).getByRole('listitem').filter({ hasText: name });
  }

  objectRows(): Locator {
    return this.page.getByRole('table', { name: 'Objects in the partition' }).getByRole('rowgroup').nth(1).getByRole('row');
  }

  async logIn(pin: string): Promise<void> {
    const panel = this.page.getByRole('region', { name: 'Crypto-officer login' });
    await panel.getByLabel('Crypto-officer PIN').fill(pin);
    await panel.getByRole('button', { name: 'Log in' }).click();
  }

  /** Calls the preload's IPC door directly, as a compromised page could. */
  rawInvoke(channel: unknown, payload: unknown): Promise<unknown> {
    return this.page.evaluate(([c, p]) => (window as unknown as { __tesseraIpc(c: unknown, p: unknown): Promise<unknown> }).__tesseraIpc(c, p), [channel, payload] as const);
  }
}

/** The lab's profile, applied to this process (its partition, keychain and readers). */
function labProfile(): NonNullable<ReturnType<typeof findLabProfile>> {
  const profile = findLabProfile();
  if (!profile) throw new Error('The training lab is not set up: run `npm run lab -- up`.');
  applyLabEnvironment(profile);
  return profile;
}

/** Opens the GUI terminal whose data lives in `home` (default: a new one) on the lab; `modules`: its own list of modules. */
export function openLabTerminal(home = mkdtempSync(join(tmpdir(), 'tessera-e2e-')), modules?: TerminalOptions['modules']): Promise<Terminal> {
  const profile = labProfile();
  return Terminal.open({ home, frontEnd: 'gui', defaults: { modulePath: profile.modulePath, tokenLabel: profile.tokenLabel }, ...(modules ? { modules } : {}) });
}

/** The app on `terminal`: the real dispatcher, and the GUI in Chromium. `close` ends both. */
export async function launchApp(terminal: Terminal): Promise<{ app: AppDriver; close(): Promise<void> }> {
  const profile = labProfile();
  const dispatcher = createDispatcher(terminal, { origin: HOST_ORIGIN, app: { version: 'e2e', lab: { tokenLabel: profile.tokenLabel, modulePath: profile.modulePath } } });
  await terminal.readers.start();
  const chromium = await launchChromiumApp({ dispatcher, outDir: join(root, 'out'), headless: true });
  return {
    app: new AppDriver(chromium, terminal),
    close: async () => {
      await chromium.close();
      await terminal.close();
    },
  };
}

export const test = base.extend<{ app: AppDriver; modules: TerminalOptions['modules'] }>({
  /** The administrator's list of modules and the lab's module, when a spec sets its own (test.use). */
  modules: [undefined, { option: true }],
  app: async ({ modules }, use) => {
    const terminal = await openLabTerminal(undefined, modules);
    let launched;
    try {
      launched = await launchApp(terminal);
    } catch (error) {
      await terminal.close();
      throw error;
    }
    try {
      await use(launched.app);
    } finally {
      await launched.close();
    }
  },
});

export { expect };
