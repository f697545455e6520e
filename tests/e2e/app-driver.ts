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
import { seedPartition } from '../lab/seed';

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

  async goTo(section: 'Partition' | 'Keys' | 'Cards' | 'Backup' | 'Credentials' | 'Policy' | 'Ceremonies' | 'Audit'): Promise<void> {
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

type LabCard = { holder: string; inserted: boolean };
const labCards = (): LabCard[] => lab.status().cards as LabCard[];

/** Only `holder`'s card in the lab's readers (the others are taken out first). */
export async function onlyCard(holder: string): Promise<void> {
  for (const card of labCards()) if (card.inserted && card.holder !== holder) await lab.remove(card.holder);
  if (!labCards().find((c) => c.holder === holder)?.inserted) await lab.insert(holder);
}

/** Every card out of the lab's readers (a card left in one would be taken first, as an officer's card is). */
export async function noCards(): Promise<void> {
  for (const card of labCards()) if (card.inserted) await lab.remove(card.holder);
}

/** Fresh blank cards `${prefix}-1…`. */
export async function blankCards(prefix: string, count: number): Promise<string[]> {
  const known = new Set(lab.state().cards.map((c) => c.holder));
  const names = Array.from({ length: count }, (_, i) => `${prefix}-${i + 1}`);
  for (const name of names) {
    if (labCards().find((c) => c.holder === name)?.inserted) await lab.remove(name);
    if (known.has(name)) await lab.blankCard(name);
    else await lab.newCard(name);
  }
  return names;
}

/** A new partition, chosen in the GUI (with no card in a reader). */
export async function freshPartition(app: AppDriver, prefix: string): Promise<{ label: string; serial: string; soPin: string; userPin: string }> {
  await noCards();
  const partition = await lab.newPartition(`${prefix} ${Date.now().toString(36)}`);
  await app.waitForPartition(lab.state().tokenLabel);
  await app.page.getByRole('button', { name: 'Open module' }).click();
  await app.page.getByRole('button', { name: `Use “${partition.label}” (serial ${partition.serial})` }).click();
  await app.waitForPartition(partition.label);
  return partition;
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

/** A new partition with the lab's sample keys (ids 01…03, 11…13, 21…23), chosen in the GUI (with no card in a reader). */
export async function seededPartition(app: AppDriver, prefix: string): Promise<{ label: string; serial: string; soPin: string; userPin: string }> {
  await noCards();
  const partition = await lab.newPartition(`${prefix} ${Date.now().toString(36)}`);
  seedPartition(lab.state().modulePath, lab.state().softhsmConf, partition.label, partition.userPin);
  await app.waitForPartition(lab.state().tokenLabel);
  await app.page.getByRole('button', { name: 'Open module' }).click();
  await app.page.getByRole('button', { name: `Use “${partition.label}” (serial ${partition.serial})` }).click();
  await app.waitForPartition(partition.label);
  return partition;
}

/**
 * The chosen partition adopted in the GUI by `holders` onto the blank lab cards `cards` (same
 * order), any `threshold` of them logging in as SO; card i's PIN is `pinOf(i)` (1-based).
 */
export async function adoptInGui(app: AppDriver, soPin: string, holders: string[], cards: string[], threshold: number, pinOf: (i: number) => string): Promise<void> {
  const page = app.page;
  await app.goTo('Cards');
  for (const [i, holder] of holders.entries()) await page.getByLabel(`Holder ${i + 1}`, { exact: true }).fill(holder);
  await page.getByLabel('Cards needed to log in').selectOption(String(threshold));
  await page.getByRole('button', { name: 'Start the adoption' }).click();
  await page.getByLabel('Current SO PIN').fill(soPin);
  await page.getByRole('button', { name: 'Use this SO PIN' }).click();
  const prompt = page.locator('.prompt');
  for (let i = 1; i <= holders.length; i++) {
    await expect(prompt).toContainText(`Card ${i} of ${holders.length}: ${holders[i - 1]}, insert your blank card.`);
    await onlyCard(cards[i - 1] as string);
    await page.getByLabel('New card PIN').fill(pinOf(i));
    await page.getByLabel('The same PIN again').fill(pinOf(i));
    await page.getByRole('button', { name: 'OK' }).click();
    await expect(page.getByRole('list', { name: 'What happened' })).toContainText(`${holders[i - 1]}'s card is written and checked (${i} of ${holders.length})`);
  }
  await page.getByRole('button', { name: /^Change the SO PIN of “/ }).click();
  await expect(page.getByRole('table', { name: 'Enrolled cards' }).getByRole('row')).toHaveCount(holders.length + 1);
  await page.getByRole('button', { name: 'Close' }).click();
  await noCards();
}
