// The key inventory as officers read it (issue 14, problem 1; issue 13's unreadable attributes), in
// Chromium on the lab: a table that fills the window with its header in view and its last row
// reachable, the details beside it without squeezing a column, a filter over every column shown
// (protection and usage too) that says when nothing matches, the keyboard alone, 200% zoom, and a
// key whose dates SoftHSM2 cannot read. Screenshots go to $SHOTS (default /tmp/shots).
import { mkdirSync } from 'node:fs';
import type { Locator, Page } from '@playwright/test';
import { DATED_KEY_LABEL, LONG_LABEL, seedDatedKey } from '../lab/seed';
import { type AppDriver, expect, lab, noCards, seededPartition, test } from './app-driver';

const SHOTS = process.env.SHOTS ?? '/tmp/shots';

async function shot(page: Page, name: string): Promise<void> {
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: `${SHOTS}/inventory-${name}.png` });
}

/** The seeded partition's 17 objects on screen, logged in as crypto officer. */
async function inventory(app: AppDriver, prefix: string): Promise<number> {
  const partition = await seededPartition(app, prefix);
  await app.logIn(partition.userPin);
  await expect(app.page.getByText('Logged in as crypto officer.')).toBeVisible();
  await app.goTo('Keys');
  await expect(app.page.getByRole('status').filter({ hasText: /objects shown/ })).toHaveText('17 of 17 objects shown');
  return 17;
}

const table = (page: Page): Locator => page.getByRole('table', { name: 'Objects in the partition' });
const row = (page: Page, index: number): Locator => table(page).locator(`[role="row"][aria-rowindex="${index + 2}"]`);

/** Cells of the rows on screen whose text runs past their box (cut off or ending in "…"): "Label: text". */
async function cutOffCells(page: Page): Promise<string[]> {
  return table(page).evaluate((el) =>
    [...el.querySelectorAll<HTMLElement>('[role="cell"], [role="columnheader"]')]
      .filter((c) => c.getClientRects().length > 0 && (c.scrollWidth > c.clientWidth + 1 || getComputedStyle(c).textOverflow === 'ellipsis'))
      .filter((c) => c.textContent !== '')
      .map((c) => `${c.className}: ${c.textContent}`),
  );
}

test.beforeEach(async ({ app }) => {
  await app.page.setViewportSize({ width: 1280, height: 800 });
});

test('at 1280x800 the table fills the window: its header stays in view and its last row can be scrolled to', async ({ app }) => {
  const page = app.page;
  const count = await inventory(app, 'E2E Inv size');
  const body = table(page).getByRole('rowgroup').nth(1);
  await body.evaluate((el) => {
    el.scrollTop = el.scrollHeight;
  });
  const last = row(page, count - 1);
  await expect(last, 'the last object of the list, scrolled to, is on screen in full').toBeInViewport({ ratio: 1 });
  await expect(table(page).getByRole('columnheader', { name: /Label/ }), 'the column headers stay on screen').toBeInViewport({ ratio: 1 });
  const main = await page.locator('main').evaluate((el) => ({ scroll: el.scrollHeight, client: el.clientHeight }));
  expect(main.scroll, 'the section fits the window: only the table scrolls').toBeLessThanOrEqual(main.client);
  expect(await cutOffCells(page), 'no cell is cut off').toEqual([]);
  await shot(page, '1280x800');
});

test('the details open beside the table without squeezing a column to "private k…" or "not extractabl…"', async ({ app }) => {
  const page = app.page;
  await inventory(app, 'E2E Inv pane');
  const key = page.getByRole('row').filter({ hasText: 'Code Signing Root' }).filter({ hasText: 'private key' });
  await key.click();
  const details = page.getByRole('complementary', { name: 'Code Signing Root' });
  await expect(details).toBeVisible();
  await expect(details).toBeInViewport({ ratio: 1 });
  expect(await cutOffCells(page), 'every cell shows its words in full beside the details').toEqual([]);
  await expect(key.getByRole('cell').filter({ hasText: /^(Class: )?private key$/ })).toBeVisible();
  await expect(key.getByRole('cell').filter({ hasText: /not extractable/ })).toBeVisible();
  const [t, d] = [await table(page).boundingBox(), await details.boundingBox()];
  expect(t && d && (t.x + t.width <= d.x + 1 || t.y + t.height <= d.y + 1), 'the details do not cover the table').toBe(true);
  await shot(page, '1280x800-details');
});

test('the filter searches protection and usage words, shows the usage it matched, and says when nothing matches', async ({ app }) => {
  const page = app.page;
  const count = await inventory(app, 'E2E Inv filter');
  const filter = page.getByLabel('Filter', { exact: true });
  const status = page.getByRole('status').filter({ hasText: /objects shown/ });

  await filter.fill('not extractable');
  // Three keys are made not extractable by the lab: two private keys (RSA, EC) and the MKEK.
  await expect(status).toHaveText(`3 of ${count} objects shown`);
  for (const label of ['Code Signing Root', 'Document Signing EC', 'Master Key Encryption Key (MKEK)']) await expect(app.objectRows().filter({ hasText: label })).toHaveCount(1);
  for (const r of await app.objectRows().all()) await expect(r).toContainText('not extractable');

  await filter.fill('xyz no such key');
  await expect(page.getByText('No object matches “xyz no such key”.')).toBeVisible();
  await page.getByRole('button', { name: 'Clear the filter' }).click();
  await expect(filter).toHaveValue('');
  await expect(status).toHaveText(`${count} of ${count} objects shown`);

  // "Transport Key" says nothing of signing in its label: it matches on its usage, which the row shows.
  await filter.fill('sign');
  await expect(table(page).getByRole('columnheader', { name: 'Usage' })).toBeVisible();
  const transport = app.objectRows().filter({ hasText: 'Transport Key' }).filter({ hasText: 'private key' });
  await expect(transport).toHaveCount(1);
  await expect(transport.getByRole('cell').filter({ hasText: /(^|\W)sign(\W|$)/ })).toBeVisible();
  await expect(app.objectRows().filter({ hasText: 'Transport Key' }).filter({ hasText: 'public key' })).toHaveCount(0);
});

test('keyboard only: Tab to the filter and into the table, arrows move, Enter opens, Escape closes and the focus returns to the row', async ({ app }) => {
  const page = app.page;
  await inventory(app, 'E2E Inv keys');
  const filter = page.getByLabel('Filter', { exact: true });
  const focused = page.locator(':focus');
  await page.getByRole('navigation', { name: 'Sections' }).getByRole('button', { name: 'Keys', exact: true }).focus();
  const tabTo = async (target: Locator, what: string): Promise<void> => {
    for (let i = 0; i < 20; i++) {
      await page.keyboard.press('Tab');
      if (await target.evaluate((el) => el === document.activeElement)) return;
    }
    throw new Error(`Tab never reached ${what}`);
  };
  await tabTo(filter, 'the filter');
  await tabTo(row(page, 0), 'the first row of the table');
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('ArrowDown');
  await expect(row(page, 2)).toBeFocused();
  await expect(row(page, 2)).toHaveAttribute('aria-selected', 'true');
  const label = ((await row(page, 2).getByRole('cell').first().textContent()) ?? '').trim();
  await page.keyboard.press('Enter');
  const details = page.getByRole('complementary');
  await expect(details.getByRole('heading', { level: 2 })).toHaveText(label);
  await page.keyboard.press('Escape');
  await expect(details).toHaveCount(0);
  await expect(row(page, 2)).toBeFocused();
  await expect(focused).toHaveAttribute('aria-rowindex', '4');

  // Every control of the screen has a name a screen reader reads out.
  const controls = page.locator('section.inventory').locator('button, input, select, [tabindex="0"]');
  for (const control of await controls.all()) await expect(control).toHaveAccessibleName(/\S/);
});

test('at 200% zoom (640x400) nothing runs off the right edge, with or without the details', async ({ app }) => {
  const page = app.page;
  await inventory(app, 'E2E Inv zoom');
  // 200% zoom of a 1280x800 window: the page lays out in 640x400 CSS pixels.
  await page.setViewportSize({ width: 640, height: 400 });
  const overflow = (): Promise<string[]> =>
    page.evaluate(() => {
      const out: string[] = [];
      const root = document.scrollingElement as HTMLElement;
      if (root.scrollWidth > root.clientWidth) out.push(`page ${root.scrollWidth} > ${root.clientWidth}`);
      const main = document.querySelector('main') as HTMLElement;
      if (main.scrollWidth > main.clientWidth) out.push(`main ${main.scrollWidth} > ${main.clientWidth}`);
      const right = main.getBoundingClientRect().right;
      for (const el of main.querySelectorAll<HTMLElement>('[role="row"], aside, .inventory-controls > *'))
        if (el.getClientRects().length > 0 && el.getBoundingClientRect().right > right + 1) out.push(`${el.getAttribute('role') ?? el.tagName}: ${(el.textContent ?? '').slice(0, 40)}`);
      return out;
    });
  await expect(app.objectRows().filter({ hasText: LONG_LABEL }).first()).toBeVisible();
  expect(await overflow()).toEqual([]);
  expect(await cutOffCells(page)).toEqual([]);
  await shot(page, '200pct');

  await app.objectRows().filter({ hasText: 'Code Signing Root' }).filter({ hasText: 'private key' }).click();
  const details = page.getByRole('complementary', { name: 'Code Signing Root' });
  await expect(details).toBeInViewport();
  expect(await overflow()).toEqual([]);
  expect(await cutOffCells(page)).toEqual([]);
  await shot(page, '200pct-details');
});

test('a key whose dates SoftHSM2 cannot read is marked in the list, and the details name each unreadable attribute with its reason', async ({ app }) => {
  const page = app.page;
  await noCards();
  const partition = await seededPartition(app, 'E2E Inv dates');
  seedDatedKey(lab.state().modulePath, lab.state().softhsmConf, partition.label, partition.userPin);
  await app.logIn(partition.userPin);
  await expect(page.getByText('Logged in as crypto officer.')).toBeVisible();
  await app.goTo('Keys');
  await expect(page.getByRole('status').filter({ hasText: /objects shown/ })).toHaveText('18 of 18 objects shown');
  const dated = app.objectRows().filter({ hasText: DATED_KEY_LABEL });
  await expect(dated).toContainText('some attributes unreadable');
  // Only that key carries the marker.
  await expect(app.objectRows().filter({ hasText: 'some attributes unreadable' })).toHaveCount(1);
  await page.getByLabel('Filter', { exact: true }).fill('unreadable');
  await expect(app.objectRows()).toHaveCount(1);
  await shot(page, 'unreadable');
  await dated.click();
  const list = page.getByRole('complementary', { name: DATED_KEY_LABEL }).getByRole('list', { name: 'Unreadable attributes' });
  await expect(list.getByRole('listitem')).toHaveCount(2);
  await expect(list.getByRole('listitem').filter({ hasText: 'start date' })).toContainText('CKR_GENERAL_ERROR');
  await expect(list.getByRole('listitem').filter({ hasText: 'end date' })).toContainText('CKR_GENERAL_ERROR');
});
