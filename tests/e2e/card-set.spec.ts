import { expect, lab, onlyCard, test } from './app-driver';

const cardPin = (i: number): string => `e2e-pin-${i}${i}${i}`;

test('officers adopt a partition with 3 of 5 cards and log in as SO, past a wrong PIN and a repeated card', async ({ app }) => {
  test.setTimeout(180_000);
  const page = app.page;
  // Cards left in readers by earlier tests would be taken first, as officers' cards are.
  for (const card of lab.status().cards as { holder: string; inserted: boolean }[]) if (card.inserted) await lab.remove(card.holder);
  const partition = await lab.newPartition(`E2E ${Date.now().toString(36)}`);
  const cards = Array.from({ length: 5 }, (_, i) => `e2e-${i + 1}`);
  const known = new Set(lab.state().cards.map((c) => c.holder));
  for (const card of cards) {
    if ((lab.status().cards as { holder: string; inserted: boolean }[]).find((c) => c.holder === card)?.inserted) await lab.remove(card);
    if (known.has(card)) await lab.blankCard(card);
    else await lab.newCard(card);
  }

  // Choose the new partition by label and serial.
  await app.waitForPartition(lab.state().tokenLabel);
  await page.getByRole('button', { name: 'Open module' }).click();
  await page.getByRole('button', { name: `Use “${partition.label}” (serial ${partition.serial})` }).click();
  await app.waitForPartition(partition.label);

  // Adopt: five holders, three needed.
  await app.goTo('Cards');
  await page.getByRole('button', { name: 'Add a holder' }).click();
  await page.getByRole('button', { name: 'Add a holder' }).click();
  for (let i = 0; i < 4; i++) await page.getByLabel(`Holder ${i + 1}`, { exact: true }).fill(`Officer ${i + 1}`);
  await page.getByLabel('Cards needed to log in').selectOption('3');
  // A holder left unnamed: refused before anything starts, and nothing typed is lost.
  await page.getByRole('button', { name: 'Start the adoption' }).click();
  await expect(page.getByRole('alert')).toContainText('Every holder needs a name');
  await expect(page.getByLabel('Holder 4', { exact: true })).toHaveValue('Officer 4');
  await page.getByLabel('Holder 5', { exact: true }).fill('Officer 5');
  await page.getByRole('button', { name: 'Start the adoption' }).click();

  const prompt = page.locator('.prompt');
  await expect(prompt).toContainText('current SO PIN');
  await page.getByLabel('Current SO PIN').fill(partition.soPin);
  await page.getByRole('button', { name: 'Use this SO PIN' }).click();
  for (let i = 1; i <= 5; i++) {
    await expect(prompt).toContainText(`Card ${i} of 5: Officer ${i}, insert your blank card.`);
    await onlyCard(cards[i - 1] as string);
    await page.getByLabel('New card PIN').fill(cardPin(i));
    await page.getByLabel('The same PIN again').fill(cardPin(i));
    await page.getByRole('button', { name: 'OK' }).click();
    await expect(page.getByRole('list', { name: 'What happened' })).toContainText(`Officer ${i}'s card is written and checked (${i} of 5)`);
  }
  await expect(prompt).toContainText(`Change the SO PIN of partition “${partition.label}” (serial ${partition.serial}) now?`);
  await page.getByRole('button', { name: `Change the SO PIN of “${partition.label}”` }).click();
  await expect(page.getByRole('table', { name: 'Enrolled cards' }).getByRole('row')).toHaveCount(6);
  await page.getByRole('button', { name: 'Close' }).click();
  await expect(page.getByRole('table', { name: 'Cards of the set' }).getByRole('row')).toHaveCount(6);

  // Log in: officer 1 mistypes, then the same card comes back, then two more officers.
  await lab.remove('e2e-5');
  await page.getByRole('button', { name: 'Log in as SO with cards' }).click();
  await expect(prompt).toContainText('Officer 1 of 3 (eligible: Officer 1, Officer 2, Officer 3, Officer 4, Officer 5): insert your card.');
  await onlyCard('e2e-1');
  await page.getByLabel('Card PIN', { exact: true }).fill('not-my-pin');
  await page.getByRole('button', { name: 'OK' }).click();
  await expect(page.getByRole('list', { name: 'What happened' })).toContainText("Officer 1's card: PIN wrong, 2 tries left.");
  await expect(page.getByText('The card allows 2 more tries.')).toBeVisible();
  await page.getByLabel('Card PIN', { exact: true }).fill(cardPin(1));
  await page.getByRole('button', { name: 'OK' }).click();
  await expect(page.getByLabel('Collected')).toContainText('1 of 3 collected: Officer 1');
  await lab.remove('e2e-1');
  await lab.insert('e2e-1');
  await expect(page.getByRole('list', { name: 'What happened' })).toContainText("Officer 1's SO card: already read.");
  await onlyCard('e2e-4');
  await page.getByLabel('Card PIN', { exact: true }).fill(cardPin(4));
  await page.getByRole('button', { name: 'OK' }).click();
  await expect(page.getByLabel('Collected')).toContainText('2 of 3 collected: Officer 1, Officer 4');
  await onlyCard('e2e-2');
  await page.getByLabel('Card PIN', { exact: true }).fill(cardPin(2));
  await page.getByRole('button', { name: 'OK' }).click();
  await expect(page.getByText('Logged in as security officer with the cards of Officer 1, Officer 2, Officer 4.')).toBeVisible();
  const badge = page.getByRole('status', { name: 'Security-officer session' });
  await expect(badge).toContainText('SO logged in (Officer 1, Officer 2, Officer 4)');
  await expect(badge).toContainText(/\d:\d\d left/);
  expect(await page.content()).not.toContain(cardPin(1));

  await badge.getByRole('button', { name: 'End SO session' }).click();
  await expect(badge).toHaveCount(0);
  await app.goTo('Audit');
  await expect(page.getByRole('table', { name: 'Audit entries' })).toContainText('so.logout');
  await expect(page.getByText(/Log intact/)).toBeVisible();
  for (const card of lab.status().cards as { holder: string; inserted: boolean }[]) if (card.inserted) await lab.remove(card.holder);
});
