// The backup and restore screens as officers read them (issue 14, problem 2), in Chromium on the lab:
// sizes and dates in the officer's locale, the media list, why a button is disabled, button styles by
// consequence, counts that agree between the progress bar, the summary and the report, a restore
// button that says what it will do (and refuses to do nothing), and a report in words: restored and
// checked, already there, not in the backup (not extractable). Screenshots at 1280x800 go to /tmp/shots/.
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import { addDatedKey } from '../lab/seed';
import { blankCards, expect, lab, noCards, onlyCard, seededPartition, test } from './app-driver';

const SHOTS = '/tmp/shots';
const cardPin = (i: number): string => `e2e-bs-pin-${i}${i}${i}`;

async function shot(page: Page, name: string): Promise<void> {
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: `${SHOTS}/backup-screens-${name}.png`, fullPage: true });
}

test('the backup and restore screens say what they will do, in the officer’s words, with counts that agree', async ({ app }) => {
  test.setTimeout(240_000);
  const page = app.page;
  await page.setViewportSize({ width: 1280, height: 800 });
  const state = lab.state();
  for (const f of readdirSync(state.mediaDir)) rmSync(join(state.mediaDir, f), { force: true });
  const source = await seededPartition(app, 'E2E BS');
  const cards = await blankCards('e2e-bs', 2);
  await app.logIn(source.userPin);
  await app.goTo('Backup');

  await test.step('media: one radio per stick (no bullet), which stick it is, sizes in KB/MB/GB with one decimal', async () => {
    const media = page.getByRole('list', { name: 'Media' });
    await expect(media).toContainText('USB-STICK (training lab stand-in)');
    await expect(media).toContainText(state.mediaDir);
    expect(await media.evaluate((el) => getComputedStyle(el).listStyleType)).toBe('none');
    const text = (await media.textContent()) ?? '';
    expect(text).toMatch(/free of [\d.,]+ (GB|MB|KB|TB)/);
    // "84570.1 MB free": never more than three digits before the unit's decimal.
    expect(text).not.toMatch(/\d{4,}([.,]\d)? ?(MB|KB)/);
  });

  await test.step('backup: disabled with its reason, read out with the button', async () => {
    const backUp = page.getByRole('button', { name: 'Back up to USB-STICK (training lab stand-in)' });
    await expect(backUp).toBeDisabled();
    await expect(backUp).toHaveAccessibleDescription(/needs the backup key set: create it first/);
    await shot(page, 'backup-no-set');
  });

  // The backup key set: two holders, one card needed to restore.
  await page.getByRole('button', { name: 'Remove the last holder' }).click();
  await page.getByLabel('Holder 1', { exact: true }).fill('Ann');
  await page.getByLabel('Holder 2', { exact: true }).fill('Ben');
  await page.getByLabel('Cards needed to restore').selectOption('1');
  await page.getByRole('button', { name: 'Create the backup key set' }).click();
  const prompt = page.locator('.prompt');
  for (const [i, holder] of ['Ann', 'Ben'].entries()) {
    await expect(prompt).toContainText(`Card ${i + 1} of 2: ${holder}, insert your card.`);
    await onlyCard(cards[i] as string);
    await page.getByLabel('New card PIN').fill(cardPin(i + 1));
    await page.getByLabel('The same PIN again').fill(cardPin(i + 1));
    await page.getByRole('button', { name: 'OK' }).click();
  }
  await expect(page.getByRole('table', { name: 'Enrolled cards' }).getByRole('row')).toHaveCount(3);
  await page.getByRole('button', { name: 'Close' }).click();
  await noCards();
  const fingerprint = (await page.getByRole('region', { name: 'Backup key set' }).locator('.mono').textContent()) ?? '';
  expect(fingerprint).toMatch(/^[A-Z2-7]{4}(-[A-Z2-7]{4}){5}$/);

  let objects = 0;
  await test.step('backup: not styled as dangerous; the progress bar counts what the summary counts', async () => {
    const backUp = page.getByRole('button', { name: 'Back up to USB-STICK (training lab stand-in)' });
    await expect(backUp).toBeEnabled();
    await expect(backUp).not.toHaveClass(/danger/);
    // A key whose dates SoftHSM2 will not read once another process wrote it (SoftHSMv2 #655): it goes
    // in without them, and the preview says which attributes and why before the officers confirm.
    addDatedKey(state.modulePath, state.softhsmConf, source.label, source.userPin, 'Dated Key 655');
    await backUp.click();
    await expect(page.getByRole('table', { name: 'Objects left out' })).toContainText('Code Signing Root');
    const dated = page.getByRole('table', { name: 'Objects in the backup' }).getByRole('row').filter({ hasText: 'Dated Key 655' });
    await expect(dated).toContainText('CKA_START_DATE (start date): the HSM failed to read it: the HSM returned CKR_GENERAL_ERROR');
    await expect(page.getByRole('table', { name: 'Objects in the backup' }).getByRole('columnheader', { name: 'Attributes the HSM would not read' })).toBeVisible();
    await expect(page.getByText(/1 goes in without attributes the HSM would not read \(listed\)/)).toBeVisible();
    await expect(page.getByText(/[\d.,]+ (GB|MB|KB) free; this backup needs about [\d.,]+ (KB|MB)/)).toBeVisible();
    objects = (await page.getByRole('table', { name: 'Objects in the backup' }).getByRole('row').count()) - 1;
    const confirm = page.getByRole('button', { name: `Back up ${objects} objects to USB-STICK (training lab stand-in)` });
    // Backing up writes to the stick and changes nothing in the partition: not a dangerous action.
    await expect(confirm).not.toHaveClass(/danger/);
    await shot(page, 'backup-preview');
    await confirm.click();
    await expect(page.getByRole('heading', { name: 'Backup written and verified' })).toBeVisible();
    const bar = page.getByRole('progressbar', { name: 'Progress' });
    await expect(bar).toHaveAttribute('max', String(objects));
    await expect(bar).toHaveAttribute('value', String(objects));
    await expect(page.getByText(`${objects} of ${objects} objects`)).toBeVisible();
    await expect(page.getByText(`${objects} objects backed up to`)).toBeVisible();
    await expect(page.getByRole('table', { name: 'Objects backed up without some attributes' })).toContainText('Dated Key 655');
    await shot(page, 'backup-done');
    await page.getByRole('button', { name: 'Close' }).click();
  });

  const [file] = readdirSync(state.mediaDir).filter((f) => f.endsWith('.tsrbackup'));
  expect(file).toBeDefined();
  await test.step('the backups on the stick: a short restore button, dates in the locale on one line', async () => {
    const table = page.getByRole('table', { name: 'Backups on the medium' });
    await expect(table).toContainText('Valid');
    const restore = page.getByRole('button', { name: `Restore ${file}` });
    await expect(restore).toHaveText('Restore…');
    const box = await restore.boundingBox();
    expect(box?.height ?? 100).toBeLessThan(40);
    const made = table.getByRole('row').nth(1).getByRole('cell').nth(2);
    const madeText = (await made.textContent()) ?? '';
    expect(madeText).not.toMatch(/\d{4}-\d{2}-\d{2}T/);
    expect(madeText).toMatch(/\d/);
    expect(await made.evaluate((el) => getComputedStyle(el).whiteSpace)).toBe('nowrap');
    await shot(page, 'backups-on-stick');
  });

  await test.step('a restore that would write nothing says so and cannot be started', async () => {
    await page.getByRole('button', { name: `Restore ${file}` }).click();
    await expect(prompt).toContainText('Officer 1');
    await onlyCard(cards[0] as string);
    await page.getByLabel('Card PIN', { exact: true }).fill(cardPin(1));
    await page.getByRole('button', { name: 'OK' }).click();
    await expect(page.getByRole('table', { name: 'Objects in the backup' })).toContainText('Already in the partition');
    const nothing = page.getByRole('button', { name: 'Nothing to restore' });
    await expect(nothing).toBeDisabled();
    await expect(nothing).toHaveAccessibleDescription(/already in the partition as backed up/);
    await shot(page, 'restore-nothing-to-do');
    // Untick everything: still nothing, and the reason changes.
    for (const box of await page.getByRole('checkbox', { name: /^Restore / }).all()) await box.uncheck();
    await expect(nothing).toHaveAccessibleDescription(/No object is chosen/);
    // Nothing was written: the cancel needs no second confirmation.
    await page.getByRole('button', { name: 'Cancel' }).click();
    await page.getByRole('button', { name: 'Close' }).click();
    await expect(page.getByRole('heading', { name: 'Backups on this medium' })).toBeVisible();
    await noCards();
  });

  await test.step('into a fresh partition: the button, progress, summary and report agree; the report is in words', async () => {
    const target = await lab.newPartition(`E2E BS new ${Date.now().toString(36)}`);
    await app.goTo('Partition');
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByRole('button', { name: 'Open module' }).click();
    await page.getByRole('button', { name: `Use “${target.label}” (serial ${target.serial})` }).click();
    await app.waitForPartition(target.label);
    await app.logIn(target.userPin);
    await app.goTo('Backup');
    await page.getByRole('button', { name: `Restore ${file}` }).click();
    await expect(prompt).toContainText('type the fingerprint printed on it');
    await page.getByLabel('Fingerprint on the enrolment record').fill(fingerprint);
    await page.getByRole('button', { name: 'Check the fingerprint' }).click();
    await expect(prompt).toContainText('Officer 1');
    await onlyCard(cards[0] as string);
    await page.getByLabel('Card PIN', { exact: true }).fill(cardPin(1));
    await page.getByRole('button', { name: 'OK' }).click();
    await expect(page.getByRole('table', { name: 'Objects in the backup' })).toContainText('Not in the partition');
    await shot(page, 'restore-choice');
    const go = page.getByRole('button', { name: `Restore ${objects} objects` });
    await expect(go).toBeEnabled();
    await go.click();
    await expect(page.getByRole('heading', { name: 'Restore report' })).toBeVisible();
    const bar = page.getByRole('progressbar', { name: 'Progress' });
    await expect(bar).toHaveAttribute('max', String(objects));
    await expect(bar).toHaveAttribute('value', String(objects));
    const status = page.getByRole('status').filter({ hasText: `Into “${target.label}”` });
    await expect(status).toContainText(`${objects} restored and checked`);
    await expect(status).toContainText(/\d+ not in the backup/);
    const report = page.getByRole('table', { name: 'Restored objects' });
    await expect(report.getByRole('row').filter({ hasText: 'Code Signing Root' }).filter({ hasText: 'Private key' })).toContainText('Not in the backup (not extractable)');
    await expect(report).toContainText('Restored and checked');
    const reportText = (await report.textContent()) ?? '';
    // Attribute and mechanism names by their PKCS#11 names, never a bare number or "(empty)".
    expect(reportText).not.toMatch(/mechanism: \d+/);
    expect(reportText).not.toContain('(empty)');
    if (/not kept|reports|gives none/.test(reportText)) expect(reportText).toMatch(/CKA_[A-Z_]+ \(/);
    await shot(page, 'restore-report');
    await page.getByRole('button', { name: 'Close' }).click();
  });
  await noCards();
});
