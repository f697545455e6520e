// Backup and restore through the GUI (real core, real lab): the backup key set on two blank cards,
// a backup with its preview and progress bar to the lab's USB-stick stand-in, then a restore of
// that backup into a fresh partition with both cards, choosing from the listing.
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { LAB_USER_PIN } from '../lab/lab';
import { seedPartition } from '../lab/seed';
import { type AppDriver, expect, lab, onlyCard, test } from './app-driver';

const cardPin = (i: number): string => `e2e-bk-pin-${i}${i}${i}`;

async function usePartition(app: AppDriver, partition: { label: string; serial: string }): Promise<void> {
  await app.goTo('Partition');
  // The module is rescanned for new partitions only when nobody is logged in to it.
  const logOut = app.page.getByRole('button', { name: 'Log out' });
  if (await logOut.isVisible()) await logOut.click();
  await app.page.getByRole('button', { name: 'Open module' }).click();
  await app.page.getByRole('button', { name: `Use “${partition.label}” (serial ${partition.serial})` }).click();
  await app.waitForPartition(partition.label);
  await app.logIn(LAB_USER_PIN);
  await expect(app.page.getByText('Crypto officer logged in')).toBeVisible();
}

test('officers create the backup key set, back up with a progress bar to the USB stick, and restore into a fresh partition', async ({ app }) => {
  test.setTimeout(180_000);
  const page = app.page;
  const state = lab.state();
  // Cards left in readers by earlier tests would be taken first, as officers' cards are.
  for (const card of lab.status().cards as { holder: string; inserted: boolean }[]) if (card.inserted) await lab.remove(card.holder);
  for (const f of readdirSync(state.mediaDir)) rmSync(join(state.mediaDir, f), { force: true });
  const source = await lab.newPartition(`E2E BK ${Date.now().toString(36)}`);
  seedPartition(state.modulePath, state.softhsmConf, source.label, LAB_USER_PIN);
  const cards = ['e2e-bk-1', 'e2e-bk-2'];
  const known = new Set(state.cards.map((c) => c.holder));
  for (const card of cards) {
    if ((lab.status().cards as { holder: string; inserted: boolean }[]).find((c) => c.holder === card)?.inserted) await lab.remove(card);
    if (known.has(card)) await lab.blankCard(card);
    else await lab.newCard(card);
  }
  await app.waitForPartition(state.tokenLabel);
  await usePartition(app, source);

  // The backup key set: two holders, both needed.
  await app.goTo('Backup');
  await page.getByRole('button', { name: 'Remove the last holder' }).click();
  await page.getByLabel('Holder 1', { exact: true }).fill('Ann');
  await page.getByLabel('Holder 2', { exact: true }).fill('Ben');
  await page.getByLabel('Cards needed to restore').selectOption('2');
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
  // The record that goes into the safe carries the set's fingerprint.
  const fingerprint = (await page.getByLabel('Set fingerprint').textContent()) ?? '';
  expect(fingerprint).toMatch(/^[A-Z2-7]{4}(-[A-Z2-7]{4}){5}$/);
  await page.getByRole('button', { name: 'Close' }).click();
  await expect(page.getByText('Any 2 of 2 cards (Ann, Ben) read and restore')).toBeVisible();
  await lab.remove(cards[1] as string);

  // Back up: the lab's stand-in is offered; officers see what goes in and what cannot, then confirm.
  await expect(page.getByRole('list', { name: 'Media' })).toContainText('USB-STICK (training lab stand-in)');
  await page.getByRole('button', { name: 'Back up to USB-STICK (training lab stand-in)' }).click();
  await expect(page.getByRole('table', { name: 'Objects left out' })).toContainText('Code Signing Root');
  await expect(page.getByRole('table', { name: 'Objects left out' })).toContainText('Not extractable');
  const included = await page.getByRole('table', { name: 'Objects in the backup' }).getByRole('row').count();
  const objects = included - 1;
  await page.getByRole('button', { name: `Back up ${objects} objects to USB-STICK (training lab stand-in)` }).click();
  await expect(page.getByRole('heading', { name: 'Backup written and verified' })).toBeVisible();
  // The bar counts the objects backed up, as the summary does (the entries naming what was left out are not progress).
  const bar = page.getByRole('progressbar', { name: 'Progress' });
  await expect(bar).toHaveAttribute('max', String(objects));
  await expect(bar).toHaveAttribute('value', String(objects));
  await expect(page.getByText(`${objects} objects backed up to ${state.mediaDir}/`)).toBeVisible();
  await page.getByRole('button', { name: 'Close' }).click();
  const [file] = readdirSync(state.mediaDir).filter((f) => f.endsWith('.tsrbackup'));
  expect(file).toBeDefined();
  await expect(page.getByRole('table', { name: 'Backups on the medium' })).toContainText('Valid (signature, every byte, manifest); written by this terminal');

  // Disaster recovery: a fresh partition, both cards, everything restorable chosen.
  const target = await lab.newPartition(`E2E BK new ${Date.now().toString(36)}`);
  await usePartition(app, target);
  await app.goTo('Backup');
  await page.getByRole('button', { name: `Restore ${file}` }).click();
  // A fresh partition trusts no backup set: the officers type the fingerprint from the record first;
  // a typo is said where it was typed, and they type it again.
  await expect(prompt).toContainText('type the fingerprint printed on it');
  await page.getByLabel('Fingerprint on the enrolment record').fill('ABCD-EFGH');
  await page.getByRole('button', { name: 'Check the fingerprint' }).click();
  await expect(page.getByRole('alert')).toContainText('That is not the fingerprint of the backup set');
  await page.getByLabel('Fingerprint on the enrolment record').fill(fingerprint.toLowerCase());
  await page.getByRole('button', { name: 'Check the fingerprint' }).click();
  for (const [i, card] of cards.entries()) {
    await expect(prompt).toContainText(`Officer ${i + 1}`);
    await onlyCard(card);
    await page.getByLabel('Card PIN', { exact: true }).fill(cardPin(i + 1));
    await page.getByRole('button', { name: 'OK' }).click();
  }
  await expect(page.getByRole('table', { name: 'Objects in the backup' })).toContainText('Not in the partition');
  await page.getByRole('button', { name: `Restore ${objects} objects` }).click();
  await expect(page.getByRole('heading', { name: 'Restore report' })).toBeVisible();
  await expect(page.getByRole('status').filter({ hasText: `Into “${target.label}”` })).toContainText(`${objects} restored`);
  await expect(page.getByRole('table', { name: 'Restored objects' })).toContainText('passed: a test signature verifies with the backed-up public key');
  expect(await page.content()).not.toContain(cardPin(1));
  for (const card of lab.status().cards as { holder: string; inserted: boolean }[]) if (card.inserted) await lab.remove(card.holder);
});
