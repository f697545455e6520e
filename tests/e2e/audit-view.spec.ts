// The audit view as officers read it (issue 14, problem 3), one test per problem: who acted (the
// officers whose cards were read, the terminal user beside them), wrong card PINs recorded, words
// instead of codes, filters and search, a table that fits the window, the keyboard. Chromium, the
// real core, the lab's partition and emulated cards. Screenshots go to /tmp/shots-i13-audit.
import { mkdirSync } from 'node:fs';
import type { Page } from '@playwright/test';
import { OfficerCard } from '../../src/core/cards/officer-card';
import { LAB_USER_PIN } from '../lab/lab';
import { type AppDriver, blankCards, expect, freshPartition, lab, noCards, onlyCard, test } from './app-driver';

const SHOTS = '/tmp/shots-i13-audit';
const prompt = (app: AppDriver) => app.page.locator('.prompt');
const entries = (page: Page) => page.getByRole('table', { name: 'Audit entries' });
const rowsWith = (page: Page, text: string) => entries(page).getByRole('row').filter({ hasText: text });
/** The cells of a row, by column: 0 #, 1 time, 2 outcome, 3 action, 4 target, 5 who, 6 details. */
const cell = (page: Page, text: string, column: number) => rowsWith(page, text).first().getByRole('cell').nth(column);

async function shot(page: Page, name: string): Promise<void> {
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: `${SHOTS}/${name}.png` });
}

/** The chosen partition adopted in the GUI by one holder, on `card`, with `pin`; a quorum of one. */
async function adoptByOne(app: AppDriver, soPin: string, holder: string, card: string, pin: string): Promise<void> {
  const page = app.page;
  await app.goTo('Cards');
  await page.getByRole('button', { name: 'Remove the last holder' }).click();
  await page.getByRole('button', { name: 'Remove the last holder' }).click();
  await page.getByLabel('Holder 1', { exact: true }).fill(holder);
  await page.getByRole('button', { name: 'Start the adoption' }).click();
  await page.getByLabel('Current SO PIN').fill(soPin);
  await page.getByRole('button', { name: 'Use this SO PIN' }).click();
  await expect(prompt(app)).toContainText(`${holder}, insert your blank card.`);
  await onlyCard(card);
  await page.getByLabel('New card PIN').fill(pin);
  await page.getByLabel('The same PIN again').fill(pin);
  await page.getByRole('button', { name: 'OK' }).click();
  await page.getByRole('button', { name: /^Change the SO PIN of/ }).click();
  await expect(page.getByRole('heading', { name: /^Completed: Adopt the partition/ })).toBeVisible();
  await page.getByRole('button', { name: 'Close' }).click();
  await noCards();
}

/** An SO login with `card`, typing `wrongPin` first when given. */
async function soLogin(app: AppDriver, holder: string, card: string, pin: string, wrongPin?: string): Promise<void> {
  const page = app.page;
  await app.goTo('Cards');
  await page.getByRole('button', { name: 'Log in as SO with cards' }).click();
  await expect(prompt(app)).toContainText(`Officer 1 of 1 (eligible: ${holder}): insert your card.`);
  await onlyCard(card);
  if (wrongPin) {
    await page.getByLabel('Card PIN', { exact: true }).fill(wrongPin);
    await page.getByRole('button', { name: 'OK' }).click();
    await expect(page.getByRole('list', { name: 'What happened' })).toContainText(`${holder}'s card: PIN wrong, 2 tries left.`);
  }
  await page.getByLabel('Card PIN', { exact: true }).fill(pin);
  await page.getByRole('button', { name: 'OK' }).click();
  await expect(page.getByRole('heading', { name: /^Completed: Security-officer login/ })).toBeVisible();
  await page.getByRole('button', { name: 'Close' }).click();
}

/** The serial the card itself holds, read through the card layer (not from the audit log). */
async function cardSerial(app: AppDriver, card: string): Promise<string> {
  await onlyCard(card);
  const reader = lab.state().cards.find((c) => c.holder === card)?.reader as string;
  await expect.poll(() => app.terminal.readers.snapshot().readers.find((r) => r.name === reader)?.condition).toBe('card-present');
  const session = await app.terminal.readers.connect(reader);
  try {
    const serial = await new OfficerCard(session).serial();
    if (!serial) throw new Error(`${card} has no serial`);
    return serial;
  } finally {
    await session.close();
  }
}

/** Entries written through the terminal's audit layer, as the core's writers shape them. */
async function seed(app: AppDriver): Promise<void> {
  const actor = 'terminal (workstation user e2e)';
  const audit = app.terminal.audit;
  await audit.append({ actor, action: 'so.login', target: 'Lab (serial 1234)', outcome: 'ok', details: { holders: 'Ann, Ben', cards: 'aa11aa11, bb22bb22', set: 'set-1', generation: 1, ceremony: 'so-login' } });
  await audit.append({ actor, action: 'card.pin', target: "Ben's card", outcome: 'refused', details: { holder: 'Ben', card: 'bb22bb22', triesLeft: 2, blocked: false, step: "Officers' cards", error: 'PIN_INCORRECT', ceremony: 'so-login' } });
  await audit.append({ actor, action: 'module.refused', target: '/usr/lib/not-a-module.so', outcome: 'refused', details: { error: 'INVALID_REQUEST', reason: 'The request was not valid.', practice: false, previousHeadSeq: null, sealed: true } });
  await audit.append({ actor, action: 'cardset.enrol', target: 'Lab (serial 1234)', outcome: 'failed', details: { error: 'cancelled', reason: 'cancelled by the officers', holders: 'Cleo', stillWritten: null } });
}

test.beforeEach(async () => {
  await noCards();
});

test('1. "Who" names the officers whose cards were read, with their card serials, beside the terminal user', async ({ app }) => {
  test.setTimeout(150_000);
  const page = app.page;
  const partition = await freshPartition(app, 'E2E AV1');
  const [card] = await blankCards('av1', 1);
  await adoptByOne(app, partition.soPin, 'Ada', card as string, 'ada-pin-11');
  await soLogin(app, 'Ada', card as string, 'ada-pin-11');
  const serial = await cardSerial(app, card as string);
  await noCards();
  await app.goTo('Audit');
  const who = cell(page, 'so.login', 5);
  await expect(who).toContainText('Ada');
  await expect(who).toContainText(serial);
  await expect(who).toContainText(/terminal \(workstation user .+\)/);
});

test('2. a card PIN refused by the card is recorded: the card, its holder, the tries left, the step; never the PIN', async ({ app }) => {
  test.setTimeout(150_000);
  const page = app.page;
  const partition = await freshPartition(app, 'E2E AV2');
  const [card] = await blankCards('av2', 1);
  await adoptByOne(app, partition.soPin, 'Bea', card as string, 'bea-pin-22');
  await soLogin(app, 'Bea', card as string, 'bea-pin-22', 'not-beas-pin-9');
  const serial = await cardSerial(app, card as string);
  await noCards();
  await app.goTo('Audit');
  const row = rowsWith(page, 'card.pin').first();
  await expect(row.getByRole('cell').nth(2)).toHaveText(/Wrong card PIN/);
  await expect(row.getByRole('cell').nth(5)).toContainText('Bea');
  await expect(row.getByRole('cell').nth(5)).toContainText(serial);
  const details = row.getByRole('cell').nth(6);
  await expect(details).toContainText('tries left: 2');
  await expect(details).toContainText('step:');
  await expect(details).toContainText('error code: PIN_INCORRECT');
  expect(await page.content()).not.toContain('not-beas-pin-9');
  expect(JSON.stringify(app.terminal.audit.list(100))).not.toContain('not-beas-pin-9');
});

test('3. actions and outcomes are in plain words, the codes under the details, and no raw null/true/false', async ({ app }) => {
  const page = app.page;
  await app.waitForPartition(lab.state().tokenLabel);
  await app.logIn(LAB_USER_PIN);
  await expect(page.getByRole('banner')).toContainText('Crypto officer logged in');
  await seed(app);
  await app.goTo('Audit');
  await expect(cell(page, 'partition.login', 3)).toHaveText('Crypto officer logged in');
  await expect(cell(page, 'partition.login', 2)).toHaveText(/Done/);
  await expect(cell(page, 'so.login', 3)).toHaveText('Security officers logged in');
  await expect(cell(page, 'module.refused', 2)).toHaveText(/Refused: invalid request/);
  await expect(cell(page, 'module.refused', 6)).toContainText('code: module.refused');
  await expect(cell(page, 'module.refused', 6)).toContainText('error code: INVALID_REQUEST');
  await expect(cell(page, 'module.refused', 6)).toContainText('practice: no');
  await expect(cell(page, 'module.refused', 6)).toContainText('previous head entry: none');
  await expect(cell(page, 'module.refused', 6)).toContainText('sealed: yes');
  await expect(cell(page, 'card.pin', 2)).toHaveText(/Wrong card PIN/);
  await expect(cell(page, 'cardset.enrol', 2)).toHaveText(/Cancelled/);
  for (let column = 2; column <= 4; column++) await expect(entries(page).getByRole('cell').nth(column)).not.toHaveText(/^[a-z-]+(\.[a-z-]+)+$/);
  await expect(entries(page)).not.toContainText(/\b(null|true|false)\b/);
});

test('4. filters by officer, action, outcome and period, and a search; a message when nothing matches', async ({ app }) => {
  const page = app.page;
  await seed(app);
  await app.goTo('Audit');
  const search = page.getByRole('search', { name: 'Filter the audit entries' });
  const body = entries(page).getByRole('rowgroup').nth(1).getByRole('row');
  await expect(body).toHaveCount(4);
  await search.getByLabel('Officer').selectOption('Ben');
  await expect(body).toHaveCount(2);
  await search.getByLabel('Outcome').selectOption({ label: 'Refused' });
  await expect(body).toHaveCount(1);
  await expect(body.first()).toContainText('Wrong card PIN');
  await search.getByRole('button', { name: 'Clear the filters' }).click();
  await search.getByLabel('Action').selectOption({ label: 'Security officers logged in' });
  await expect(body).toHaveCount(1);
  await search.getByRole('button', { name: 'Clear the filters' }).click();
  await search.getByRole('searchbox', { name: 'Search' }).fill('invalid request');
  await expect(body).toHaveCount(1);
  await expect(body.first()).toContainText('PKCS#11 module refused');
  await search.getByRole('searchbox', { name: 'Search' }).fill('bb22bb22');
  await expect(body).toHaveCount(2);
  await search.getByRole('button', { name: 'Clear the filters' }).click();
  const today = await page.evaluate(() => {
    const d = new Date();
    return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
  });
  await search.getByLabel('From').fill(today);
  await search.getByLabel('Until (included)').fill(today);
  await expect(body).toHaveCount(4);
  await search.getByLabel('Until (included)').fill('2000-01-01');
  await expect(body).toHaveCount(0);
  await expect(page.getByRole('status').filter({ hasText: 'No entry matches these filters.' })).toBeVisible();
  await shot(page, 'audit-view-no-match');
  await page.getByRole('status').filter({ hasText: 'No entry matches these filters.' }).getByRole('button', { name: 'Clear the filters' }).click();
  await expect(body).toHaveCount(4);
});

test('5. the table fits the window at 1280x800 and at 200% zoom, long details wrap, and the header stays when scrolling', async ({ app }) => {
  const page = app.page;
  await page.setViewportSize({ width: 1280, height: 800 });
  const long = 'f'.repeat(400);
  for (let i = 0; i < 30; i++) await app.terminal.audit.append({ actor: 'terminal (workstation user e2e)', action: 'backup.create', target: `Partition with a long label ${'x'.repeat(80)}`, outcome: 'ok', details: { digest: long, media: `/media/usb/${'deep/'.repeat(30)}backup-${i}.tsb`, holders: 'Ann, Ben', cards: `${'a'.repeat(32)}, ${'b'.repeat(32)}` } });
  await seed(app);
  await app.goTo('Audit');
  await expect(rowsWith(page, 'backup.create')).toHaveCount(30);
  const fits = async (): Promise<void> => {
    const width = page.viewportSize()?.width ?? 0;
    expect(await page.evaluate(() => document.documentElement.scrollWidth), 'the page runs off the right edge').toBeLessThanOrEqual(width);
    const details = await cell(page, 'backup.create', 6).boundingBox();
    expect((details?.x ?? 0) + (details?.width ?? 0), 'the Details column runs off the right edge').toBeLessThanOrEqual(width);
    expect(await page.evaluate(() => document.querySelector('main')?.scrollWidth ?? 0), 'the section scrolls sideways').toBeLessThanOrEqual(await page.evaluate(() => document.querySelector('main')?.clientWidth ?? 0));
  };
  await fits();
  // The header stays in view when the entries are scrolled to the oldest.
  await rowsWith(page, 'backup.create').last().scrollIntoViewIfNeeded();
  await expect(entries(page).getByRole('columnheader', { name: 'Details' })).toBeInViewport();
  await entries(page).getByRole('row').nth(1).scrollIntoViewIfNeeded();
  await shot(page, 'audit-view-1280x800');
  // 200% zoom of a 1280x800 window is a 640x400 one in CSS pixels.
  await page.setViewportSize({ width: 640, height: 400 });
  await fits();
  await shot(page, 'audit-view-200pct');
  await page.setViewportSize({ width: 1280, height: 800 });
});

test('6. the filters work from the keyboard: tab order, Enter to the entries, Escape to clear; every control is named', async ({ app }) => {
  const page = app.page;
  await seed(app);
  await app.goTo('Audit');
  const search = page.getByRole('search', { name: 'Filter the audit entries' });
  const body = entries(page).getByRole('rowgroup').nth(1).getByRole('row');
  const box = search.getByRole('searchbox', { name: 'Search' });
  for (const name of ['Officer', 'Action', 'Outcome']) await expect(search.getByRole('combobox', { name })).toBeVisible();
  await expect(search.getByLabel('From')).toBeVisible();
  await expect(search.getByLabel('Until (included)')).toBeVisible();
  await box.focus();
  await page.keyboard.type('wrong card');
  await expect(body).toHaveCount(1);
  await page.keyboard.press('Escape');
  await expect(box).toHaveValue('');
  await expect(body).toHaveCount(4);
  await page.keyboard.press('Tab');
  await expect(search.getByRole('combobox', { name: 'Officer' })).toBeFocused();
  await page.keyboard.press('Tab');
  await expect(search.getByRole('combobox', { name: 'Action' })).toBeFocused();
  await page.keyboard.press('Tab');
  await expect(search.getByRole('combobox', { name: 'Outcome' })).toBeFocused();
  await search.getByRole('combobox', { name: 'Outcome' }).selectOption({ label: 'Failed' });
  await expect(body).toHaveCount(1);
  await page.keyboard.press('Escape');
  await expect(search.getByRole('combobox', { name: 'Outcome' })).toHaveValue('');
  await expect(body).toHaveCount(4);
  await box.focus();
  await page.keyboard.type('Ben');
  await page.keyboard.press('Enter');
  await expect(page.getByRole('region', { name: 'Audit entries, scrollable' })).toBeFocused();
  await expect(body).toHaveCount(2);
});
