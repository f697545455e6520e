// What holds on every screen (issue 14, problem 4), in Chromium on the lab: a login clears the
// "Login needed" it answers; a partition created while an officer is logged in is either listed or
// the chooser says why not; state in words or icons, not colour alone; sizes, dates and counts in the
// officer's locale; keyboard use (arrow keys in the section list, Enter submits, Escape cancels a
// ceremony's prompt); an accessible name on every control; each main screen readable at 1280x800
// and at 200% zoom without horizontal overflow. Screenshots at 1280x800 go to /tmp/shots/ (as the
// other screen specs') and to /tmp/shots-i14-every/.
import { copyFileSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import { type AppDriver, blankCards, expect, freshPartition, lab, noCards, onlyCard, seededPartition, test } from './app-driver';

const SHOTS = '/tmp/shots';
const COPIES = '/tmp/shots-i14-every';
const SECTIONS = ['Partition', 'Keys', 'Cards', 'Backup', 'Credentials', 'Policy', 'Ceremonies', 'Audit'] as const;

async function shot(page: Page, name: string): Promise<void> {
  mkdirSync(SHOTS, { recursive: true });
  mkdirSync(COPIES, { recursive: true });
  const path = `${SHOTS}/everywhere-${name}.png`;
  await page.screenshot({ path, fullPage: true });
  copyFileSync(path, `${COPIES}/everywhere-${name}.png`);
}

/** The controls that a screen reader would announce without a name (Playwright's ARIA snapshot of the page). */
async function unnamedControls(page: Page): Promise<string[]> {
  const snapshot = await page.locator('body').ariaSnapshot();
  const control = /^\s*- (button|textbox|searchbox|combobox|listbox|checkbox|radio|spinbutton|slider|switch|link|tab|menuitem)(?: \[[^\]]*\])*:?\s*$/;
  return snapshot.split('\n').filter((line) => control.test(line));
}

/** The regions of the shell whose content runs past their right edge (scrollWidth > clientWidth), with the overflow in CSS pixels. */
async function overflowing(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const regions: [string, Element | null][] = [
      ['page', document.scrollingElement],
      ['main', document.querySelector('main')],
      ['header', document.querySelector('header')],
      ['nav', document.querySelector('nav')],
    ];
    // What runs past the region's right edge, deepest first: what the officer would not see.
    const past = (region: Element): string[] => {
      const edge = region.getBoundingClientRect().left + region.clientWidth;
      return [...region.querySelectorAll('*')]
        .filter((el) => el.getBoundingClientRect().right > edge + 1 && ![...el.children].some((c) => c.getBoundingClientRect().right > edge + 1))
        .slice(0, 3)
        .map((el) => `<${el.tagName.toLowerCase()}${el.className ? ` class="${String(el.className)}"` : ''}> “${(el.textContent ?? '').slice(0, 40)}”`);
    };
    return regions
      .filter(([, el]) => el && el.scrollWidth > el.clientWidth + 1)
      .map(([name, el]) => `${name}: ${el?.scrollWidth} > ${el?.clientWidth}: ${el ? past(el).join('; ') : ''}`);
  });
}

async function waitForSection(app: AppDriver, section: (typeof SECTIONS)[number]): Promise<void> {
  await app.goTo(section);
  await expect(app.page.getByRole('navigation', { name: 'Sections' }).getByRole('button', { name: section, exact: true })).toHaveAttribute('aria-current', 'page');
  await expect(app.page.getByRole('main').getByRole('heading', { level: 1 })).toBeVisible();
  // The screen as it settles, not while it reads the partition.
  await expect(app.page.getByRole('main').getByText('Reading the partition…')).toHaveCount(0);
}

test('a login clears the “Login needed” it answered', async ({ app }) => {
  test.setTimeout(180_000);
  const page = app.page;
  const state = lab.state();
  for (const f of readdirSync(state.mediaDir)) if (f.endsWith('.tsrbackup')) rmSync(join(state.mediaDir, f), { force: true });
  const partition = await seededPartition(app, 'E2E EV login');
  const [card] = await blankCards('e2e-ev', 1);
  await app.logIn(partition.userPin);
  // A backup on the stick, made with a one-card backup key set.
  await app.goTo('Backup');
  await page.getByRole('button', { name: 'Remove the last holder' }).click();
  await page.getByRole('button', { name: 'Remove the last holder' }).click();
  await page.getByLabel('Holder 1', { exact: true }).fill('Ann');
  await page.getByRole('button', { name: 'Create the backup key set' }).click();
  await expect(page.locator('.prompt')).toContainText('Card 1 of 1: Ann, insert your card.');
  await onlyCard(card as string);
  await page.getByLabel('New card PIN').fill('e2e-ev-pin-111');
  await page.getByLabel('The same PIN again').fill('e2e-ev-pin-111');
  await page.getByRole('button', { name: 'OK' }).click();
  await expect(page.getByRole('table', { name: 'Enrolled cards' }).getByRole('row')).toHaveCount(2);
  await page.getByRole('button', { name: 'Close' }).click();
  await noCards();
  await page.getByRole('button', { name: 'Back up to USB-STICK (training lab stand-in)' }).click();
  await page.getByRole('button', { name: /^Back up \d+ objects to USB-STICK/ }).click();
  await expect(page.getByRole('heading', { name: 'Backup written and verified' })).toBeVisible();
  await page.getByRole('button', { name: 'Close' }).click();
  const [file] = readdirSync(state.mediaDir).filter((f) => f.endsWith('.tsrbackup'));

  // Logged out, a restore is refused: a login is needed.
  await app.goTo('Partition');
  await page.getByRole('button', { name: 'Log out' }).click();
  await app.goTo('Backup');
  await page.getByRole('button', { name: `Restore ${file}` }).click();
  const loginNeeded = page.getByRole('alert').filter({ hasText: 'Login needed' });
  await expect(loginNeeded).toBeVisible();
  // Logging in makes it untrue: it goes, here and in every section.
  await app.goTo('Partition');
  await app.logIn(partition.userPin);
  await expect(page.getByRole('status').filter({ hasText: 'Logged in as crypto officer' })).toBeVisible();
  for (const section of SECTIONS) {
    await waitForSection(app, section);
    await expect(loginNeeded, `a stale “Login needed” in ${section} after the login`).toHaveCount(0);
  }
});

test('a partition created while the crypto officer is logged in: the chooser says why it is missing, and lists it after the logout', async ({ app }) => {
  const page = app.page;
  const partition = await freshPartition(app, 'E2E EV chooser');
  await app.logIn(partition.userPin);
  await expect(page.getByRole('status').filter({ hasText: 'Logged in as crypto officer' })).toBeVisible();
  // A new partition on the lab's token directory (softhsm2-util --init-token), made meanwhile.
  const later = await lab.newPartition(`E2E EV later ${Date.now().toString(36)}`);
  const useLater = page.getByRole('button', { name: `Use “${later.label}” (serial ${later.serial})` });
  await page.getByRole('button', { name: 'Open module' }).click();
  await expect(page.getByRole('list', { name: 'Partitions' })).toBeVisible();
  const why = page.getByRole('note', { name: 'Partitions not read afresh' });
  await expect(why, 'the chooser says why a new partition is not listed').toContainText('shows here after the crypto officer logs out');
  await expect(why).toContainText('ends every login');
  await expect(useLater).toHaveCount(0);
  await page.setViewportSize({ width: 1280, height: 800 });
  await why.scrollIntoViewIfNeeded();
  await shot(page, 'chooser-while-logged-in');
  // After the logout the module is read afresh and the new partition is there to choose.
  await page.getByRole('button', { name: 'Log out' }).click();
  await expect(useLater).toBeVisible();
  await expect(why).toHaveCount(0);
});

test('keyboard: arrow keys move through the sections, Enter opens one and submits a form, Escape cancels a ceremony prompt', async ({ app }) => {
  const page = app.page;
  const partition = await freshPartition(app, 'E2E EV keys');
  const sections = page.getByRole('navigation', { name: 'Sections' });
  await sections.getByRole('button', { name: 'Partition', exact: true }).focus();
  await page.keyboard.press('ArrowDown');
  await expect(sections.getByRole('button', { name: 'Keys', exact: true })).toBeFocused();
  await page.keyboard.press('End');
  await expect(sections.getByRole('button', { name: 'Audit', exact: true })).toBeFocused();
  await page.keyboard.press('ArrowDown');
  await expect(sections.getByRole('button', { name: 'Partition', exact: true })).toBeFocused();
  await page.keyboard.press('ArrowUp');
  await page.keyboard.press('ArrowUp');
  await expect(sections.getByRole('button', { name: 'Ceremonies', exact: true })).toBeFocused();
  await page.keyboard.press('Home');
  await page.keyboard.press('Enter');
  await app.waitForPartition(partition.label);

  // Enter in the PIN field logs in.
  await page.getByLabel('Crypto-officer PIN').fill(partition.userPin);
  await page.getByLabel('Crypto-officer PIN').press('Enter');
  await expect(page.getByRole('status').filter({ hasText: 'Logged in as crypto officer' })).toBeVisible();

  // A card check waits for a card: Escape cancels it (nothing was written, so nothing to confirm).
  await noCards();
  await waitForSection(app, 'Cards');
  await page.getByRole('button', { name: 'Check a card' }).click();
  const ceremony = page.getByRole('region', { name: 'Check a card' });
  await expect(ceremony.getByRole('button', { name: 'Cancel' })).toBeVisible();
  await page.keyboard.press('Escape');
  await expect(ceremony.getByRole('button', { name: 'Close' })).toBeVisible();
  await expect(ceremony.getByRole('button', { name: 'Cancel' })).toHaveCount(0);
  // Each step says its state in words (read out beside its icon), not by colour alone.
  const steps = ceremony.getByRole('list', { name: 'Steps' }).getByRole('listitem');
  expect(await steps.count()).toBeGreaterThan(1);
  for (const step of await steps.all()) await expect(step).toContainText(/(Done|Failed|To do|Now):/);
});

test('every main screen: a name on every control, sizes and counts in the locale, no cut-off content at 1280x800 and at 200% zoom', async ({ app }) => {
  test.setTimeout(180_000);
  const page = app.page;
  const partition = await seededPartition(app, 'E2E EV screens');
  await app.logIn(partition.userPin);
  await expect(page.getByRole('status').filter({ hasText: 'Logged in as crypto officer' })).toBeVisible();

  await test.step('the partition’s sizes in KB/MB/GB (decimal, as the backup screens), counts grouped', async () => {
    const memory = page.getByRole('region', { name: 'Memory and sessions' });
    await expect(memory).not.toContainText(/KiB|MiB|GiB/);
    await expect(memory).toContainText(/not reported|[\d.,]+ (KB|MB|GB)|\d+ bytes/);
  });

  for (const section of SECTIONS) {
    await test.step(`${section}: names, 1280x800, 200% zoom`, async () => {
      await page.setViewportSize({ width: 1280, height: 800 });
      await waitForSection(app, section);
      expect(await unnamedControls(page), `controls without an accessible name in ${section}`).toEqual([]);
      expect(await overflowing(page), `${section} at 1280x800`).toEqual([]);
      await page.getByRole('main').evaluate((el) => el.scrollTo(0, 0));
      await shot(page, section.toLowerCase());
      // 200% zoom of a 1280x800 window lays out as a 640x400 one.
      await page.setViewportSize({ width: 640, height: 400 });
      expect(await overflowing(page), `${section} at 200% zoom`).toEqual([]);
    });
  }
  await page.setViewportSize({ width: 1280, height: 800 });
});
