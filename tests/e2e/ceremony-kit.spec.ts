// The ceremony kit in the GUI: each numbered problem of the ceremony-kit issue, walked as officers
// would (Chromium, the real core, the lab's partition and emulated cards).
import { type AppDriver, blankCards, expect, freshPartition, lab, noCards, onlyCard, test } from './app-driver';
import { OfficerCard } from '../../src/core/cards/officer-card';
import { giveBlankCardPin } from '../../src/core/ceremony/steps/pin';

const prompt = (app: AppDriver) => app.page.locator('.prompt');
const happened = (app: AppDriver) => app.page.getByRole('list', { name: 'What happened' });

async function typeNewPin(app: AppDriver, pin: string, repeat = pin): Promise<void> {
  await app.page.getByLabel('New card PIN').fill(pin);
  await app.page.getByLabel('The same PIN again').fill(repeat);
  await app.page.getByRole('button', { name: 'OK' }).click();
}

/** Adopts the chosen partition in the GUI: holders[i] gets cards[i] with PIN pins[i]. */
async function adopt(app: AppDriver, soPin: string, holders: string[], threshold: number, cards: string[], pins: string[]): Promise<void> {
  const page = app.page;
  await app.goTo('Cards');
  for (let i = 3; i < holders.length; i++) await page.getByRole('button', { name: 'Add a holder' }).click();
  for (let i = holders.length; i < 3; i++) await page.getByRole('button', { name: 'Remove the last holder' }).click();
  for (const [i, h] of holders.entries()) await page.getByLabel(`Holder ${i + 1}`, { exact: true }).fill(h);
  await page.getByLabel('Cards needed to log in').selectOption(String(threshold));
  await page.getByRole('button', { name: 'Start the adoption' }).click();
  await page.getByLabel('Current SO PIN').fill(soPin);
  await page.getByRole('button', { name: 'Use this SO PIN' }).click();
  for (const [i, h] of holders.entries()) {
    await expect(prompt(app)).toContainText(`${h}, insert your blank card.`);
    await onlyCard(cards[i] as string);
    await typeNewPin(app, pins[i] as string);
    await expect(happened(app)).toContainText(`${h}'s card is written and checked`);
  }
  await page.getByRole('button', { name: /^Change the SO PIN of/ }).click();
  await expect(page.getByRole('heading', { name: /^Completed: Adopt the partition/ })).toBeVisible();
  await page.getByRole('button', { name: 'Close' }).click();
  await noCards();
}

test.beforeEach(async () => {
  await noCards();
});

test('1. a PIN typed twice differently, or too short, is refused at the field and typed again; empty fields say so', async ({ app }) => {
  test.setTimeout(120_000);
  const page = app.page;
  const partition = await freshPartition(app, 'E2E K1');
  const [card] = await blankCards('k1', 1);
  await app.goTo('Cards');
  await page.getByRole('button', { name: 'Remove the last holder' }).click();
  await page.getByRole('button', { name: 'Remove the last holder' }).click();
  await page.getByLabel('Holder 1', { exact: true }).fill('Ann');
  await page.getByRole('button', { name: 'Start the adoption' }).click();
  // An empty PIN field is not ignored silently.
  await page.getByRole('button', { name: 'Use this SO PIN' }).click();
  await expect(page.getByRole('alert').filter({ hasText: 'Type the current SO PIN first.' })).toBeVisible();
  await page.getByLabel('Current SO PIN').fill(partition.soPin);
  await page.getByRole('button', { name: 'Use this SO PIN' }).click();
  await onlyCard(card as string);
  await typeNewPin(app, 'first-pin-1', 'other-pin-2');
  await expect(page.getByRole('alert').filter({ hasText: 'The two PINs differ. Type the same PIN twice.' })).toBeVisible();
  await typeNewPin(app, 'abc');
  await expect(page.getByRole('alert').filter({ hasText: 'A card PIN has 6 to 32 characters; that one has 3.' })).toBeVisible();
  await page.getByLabel('New card PIN').fill('good-pin-1');
  await page.getByRole('button', { name: 'OK' }).click();
  await expect(page.getByRole('alert').filter({ hasText: 'Type the new PIN in both fields.' })).toBeVisible();
  await typeNewPin(app, 'good-pin-1');
  await expect(happened(app)).toContainText("Ann's card is written and checked (1 of 1)");
  await expect(page.getByText('The ceremony has moved on')).toHaveCount(0);
  await page.getByRole('button', { name: 'Cancel' }).click();
  await page.getByRole('button', { name: 'Yes, cancel the ceremony' }).click();
  await expect(prompt(app)).toContainText('Cancelled. What stays written:');
});

test('2. a card whose enrolment stopped half way is named, and made blank again from Check a card without spending a try it need not', async ({ app }) => {
  test.setTimeout(150_000);
  const page = app.page;
  const partition = await freshPartition(app, 'E2E K2');
  const [first, second] = await blankCards('k2', 2);
  // The state a pull between the PIN change and the share leaves (the lab cannot pull a card at an
  // exact APDU): identity and enrolment mark written, PIN changed, no share. Made with the card layer.
  await onlyCard(first as string);
  const reader = lab.state().cards.find((c) => c.holder === first)?.reader as string;
  await expect.poll(() => app.terminal.readers.snapshot().readers.find((r) => r.name === reader)?.condition).toBe('card-present');
  const session = await app.terminal.readers.connect(reader);
  try {
    const card = new OfficerCard(session);
    await card.ensureSerial();
    await card.markEnrolment({ set: 'ab'.repeat(16), purpose: 'so', partition: partition.serial, holder: 'Ann', index: 1, step: 'pin-set' });
    expect(await giveBlankCardPin(card, Buffer.from('ann-chosen-1'))).toBe(true);
  } finally {
    await session.close();
  }
  await noCards();

  await app.goTo('Cards');
  await page.getByRole('button', { name: 'Check a card' }).click();
  await onlyCard(first as string);
  await expect(page.getByText(/Ann's card \(enrolment not finished\): An enrolment stopped half way/)).toBeVisible();
  await page.getByRole('button', { name: "Make Ann's card blank again" }).click();
  await page.getByRole('button', { name: "Make Ann's card blank" }).click();
  await expect(page.getByText('The card allows 3 more tries.')).toBeVisible();
  await page.getByLabel('Card PIN', { exact: true }).fill('wrong-pin-9');
  await page.getByRole('button', { name: 'OK' }).click();
  await expect(page.getByRole('alert').filter({ hasText: 'PIN wrong, 2 tries left.' })).toBeVisible();
  await page.getByLabel('Card PIN', { exact: true }).fill('ann-chosen-1');
  await page.getByRole('button', { name: 'OK' }).click();
  await expect(page.getByText("Ann's card is blank again.")).toBeVisible();
  await page.getByRole('button', { name: 'Close' }).click();
  await noCards();
  // Blank again: the adoption takes it as a blank card (the blank-card PIN works again).
  await adopt(app, partition.soPin, ['Ann', 'Ben'], 2, [first as string, second as string], ['ann-pin-11', 'ben-pin-22']);
  await expect(page.getByRole('table', { name: 'Cards of the set' }).getByRole('row')).toHaveCount(3);
});

test('3. check a card with a wrong PIN says the share was not checked and lets the officer retry; change PIN retries the current PIN', async ({ app }) => {
  test.setTimeout(150_000);
  const page = app.page;
  const partition = await freshPartition(app, 'E2E K3');
  const [card] = await blankCards('k3', 1);
  await adopt(app, partition.soPin, ['Cleo'], 1, [card as string], ['cleo-pin-1']);
  await page.getByRole('button', { name: 'Check a card' }).click();
  await onlyCard(card as string);
  await expect(prompt(app)).toContainText('Cleo: type your card PIN');
  await page.getByLabel('Card PIN', { exact: true }).fill('not-cleo-pin');
  await page.getByRole('button', { name: 'OK' }).click();
  await expect(page.getByRole('alert').filter({ hasText: 'PIN wrong, 2 tries left: the share was not checked.' })).toBeVisible();
  await expect(page.getByText('The card allows 2 more tries.')).toBeVisible();
  await page.getByLabel('Card PIN', { exact: true }).fill('cleo-pin-1');
  await page.getByRole('button', { name: 'OK' }).click();
  const report = page.getByRole('definition');
  await expect(page.getByLabel('Card report')).toContainText('yes');
  // Exactly "NO" (a case-sensitive pattern): a plain string would also match "no" inside the partition's random label.
  await expect(report.filter({ hasText: /^NO$/ })).toHaveCount(0);
  await page.getByRole('button', { name: 'Close' }).click();
  await noCards();

  await page.getByRole('button', { name: 'Change a card PIN' }).click();
  await onlyCard(card as string);
  await page.getByLabel('Card PIN', { exact: true }).fill('not-cleo-pin');
  await page.getByRole('button', { name: 'OK' }).click();
  await expect(page.getByRole('alert').filter({ hasText: 'PIN wrong, 2 tries left.' })).toBeVisible();
  await page.getByLabel('Card PIN', { exact: true }).fill('cleo-pin-1');
  await page.getByRole('button', { name: 'OK' }).click();
  await typeNewPin(app, 'cleo-pin-2');
  await expect(page.getByText("Cleo's card PIN is changed.")).toBeVisible();
  await page.getByRole('button', { name: 'Close' }).click();

});

test('4. the backup key set and a restore name an SO card for what it is, never as the expected holder\'s or as blank', async ({ app }) => {
  test.setTimeout(180_000);
  const page = app.page;
  const partition = await freshPartition(app, 'E2E K4');
  const [alice, frank] = await blankCards('k4', 2);
  await adopt(app, partition.soPin, ['Alice'], 1, [alice as string], ['alice-pin-1']);
  await app.goTo('Partition');
  await app.logIn(partition.userPin);
  await app.goTo('Backup');
  await page.getByLabel('Holder 1', { exact: true }).fill('Frank');
  await page.getByRole('button', { name: 'Remove the last holder' }).click();
  await page.getByRole('button', { name: 'Remove the last holder' }).click();
  await page.getByRole('button', { name: 'Create the backup key set' }).click();
  await expect(prompt(app)).toContainText('Card 1 of 1: Frank, insert your card.');
  await onlyCard(alice as string);
  await expect(happened(app)).toContainText("Alice's SO card: Frank's card is expected here.");
  await expect(page.getByLabel('Card PIN', { exact: true })).toHaveCount(0);
  await onlyCard(frank as string);
  await typeNewPin(app, 'frank-pin-1');
  await expect(page.getByRole('table', { name: 'Enrolled cards' })).toContainText('Frank');
  await page.getByRole('button', { name: 'Close' }).click();
  await noCards();
  // A backup, then a restore of it: Alice's SO card is named, not called blank.
  const mediaDir = lab.state().mediaDir;
  await page.getByRole('button', { name: 'Back up to USB-STICK (training lab stand-in)' }).click();
  await page.getByRole('button', { name: /^Back up \d+ objects to USB-STICK/ }).click();
  await expect(page.getByRole('heading', { name: 'Backup written and verified' })).toBeVisible();
  const file = (await page.getByRole('region', { name: /^Completed: Back up the partition/ }).textContent())?.match(/tessera-[^ ]+\.tsrbackup/)?.[0];
  expect(file, `no backup file named in the summary (media ${mediaDir})`).toBeDefined();
  await page.getByRole('button', { name: 'Close' }).click();
  await page.getByRole('button', { name: `Restore ${file}` }).click();
  await expect(prompt(app)).toContainText('insert your card (backup key set of');
  await onlyCard(alice as string);
  await expect(happened(app)).toContainText("Alice's SO card: it holds no share of this backup's key set.");
  await expect(happened(app)).not.toContainText('blank');
  await page.getByRole('button', { name: 'Cancel' }).click();
  await expect(prompt(app)).toContainText('Cancelled. Nothing was changed.');
  await page.getByRole('button', { name: 'Close' }).click();
  await noCards();
});

test('5. what officers typed survives a refusal and a change of section; forms that cannot work say why', async ({ app }) => {
  test.setTimeout(150_000);
  const page = app.page;
  const partition = await freshPartition(app, 'E2E K5');
  const [card] = await blankCards('k5', 1);
  // With the crypto officer logged in, adoption cannot work: the form says so before any PIN.
  await app.logIn(partition.userPin);
  await app.goTo('Cards');
  await expect(page.getByRole('note')).toContainText('The crypto officer is logged in. Log out first');
  await expect(page.getByRole('button', { name: 'Start the adoption' })).toBeDisabled();
  await app.goTo('Partition');
  await page.getByRole('button', { name: 'Log out' }).click();
  await app.goTo('Cards');
  await page.getByLabel('Holder 1', { exact: true }).fill('Dora');
  await page.getByLabel('Holder 2', { exact: true }).fill('dora');
  await page.getByLabel('Cards needed to log in').selectOption('2');
  await page.getByRole('button', { name: 'Start the adoption' }).click();
  await expect(page.getByRole('alert').filter({ hasText: 'Every holder needs a name' })).toBeVisible();
  await app.goTo('Keys');
  await app.goTo('Cards');
  await expect(page.getByLabel('Holder 1', { exact: true })).toHaveValue('Dora');
  await expect(page.getByLabel('Holder 2', { exact: true })).toHaveValue('dora');
  await expect(page.getByLabel('Cards needed to log in')).toHaveValue('2');
  await page.getByRole('button', { name: 'Remove the last holder' }).click();
  await page.getByRole('button', { name: 'Remove the last holder' }).click();
  await page.getByRole('button', { name: 'Start the adoption' }).click();
  await page.getByLabel('Current SO PIN').fill(partition.soPin);
  await page.getByRole('button', { name: 'Use this SO PIN' }).click();
  await onlyCard(card as string);
  await typeNewPin(app, 'dora-pin-1');
  await page.getByRole('button', { name: /^Change the SO PIN of/ }).click();
  await page.getByRole('button', { name: 'Close' }).click();
  await noCards();
  // During an SO session the crypto-officer login form is not offered, and says why.
  await page.getByRole('button', { name: 'Log in as SO with cards' }).click();
  await expect(prompt(app)).toContainText('Officer 1 of 1 (eligible: Dora): insert your card.');
  await onlyCard(card as string);
  await expect(prompt(app)).toContainText('Officer 1 of 1, Dora: type your card PIN.');
  await page.getByLabel('Card PIN', { exact: true }).fill('dora-pin-1');
  await page.getByRole('button', { name: 'OK' }).click();
  await expect(page.getByRole('heading', { name: /^Completed: Security-officer login/ })).toBeVisible();
  await app.goTo('Partition');
  await expect(page.getByLabel('Crypto-officer PIN')).toHaveCount(0);
  await expect(page.getByText('the crypto officer can log in once the SO session ends')).toBeVisible();
  // The SO session ending by itself is announced (its idle timer is proved in the integration tests).
  await app.terminal.so.end('idle');
  await expect(page.getByRole('alert').filter({ hasText: 'The security-officer session (Dora) ended at' })).toBeVisible();
  await expect(page.getByLabel('Crypto-officer PIN')).toBeVisible();
  await noCards();
});

test('6. cancelling after a card was written asks first, says what stays written, and the audit log records the end', async ({ app }) => {
  test.setTimeout(120_000);
  const page = app.page;
  const partition = await freshPartition(app, 'E2E K6');
  const [card] = await blankCards('k6', 2);
  await app.goTo('Cards');
  await page.getByRole('button', { name: 'Remove the last holder' }).click();
  await page.getByLabel('Holder 1', { exact: true }).fill('Eve');
  await page.getByLabel('Holder 2', { exact: true }).fill('Finn');
  await page.getByRole('button', { name: 'Start the adoption' }).click();
  await page.getByLabel('Current SO PIN').fill(partition.soPin);
  await page.getByRole('button', { name: 'Use this SO PIN' }).click();
  await onlyCard(card as string);
  await typeNewPin(app, 'eve-pin-11');
  await expect(happened(app)).toContainText("Eve's card is written and checked (1 of 2)");
  await page.getByRole('button', { name: 'Cancel' }).click();
  const dialog = page.getByRole('alertdialog');
  await expect(dialog).toContainText("Eve's card holds a share of this unfinished set");
  await dialog.getByRole('button', { name: 'No, go on' }).click();
  await expect(prompt(app)).toContainText('Finn, insert your blank card.');
  await page.getByRole('button', { name: 'Cancel' }).click();
  await page.getByRole('button', { name: 'Yes, cancel the ceremony' }).click();
  await expect(prompt(app)).toContainText("Cancelled. What stays written: Eve's card");
  await expect(page.getByRole('heading', { name: /^Cancelled: Adopt the partition/ })).toBeVisible();
  const entries = app.terminal.audit.list(10);
  expect(entries.find((e) => e.action === 'cardset.enrol')).toMatchObject({ outcome: 'failed', details: { error: 'cancelled' } });
  await page.getByRole('button', { name: 'Close' }).click();
  await noCards();
});

test('7. a ceremony ends in a printable summary in local time; prompts keep who is asked; no developer wording', async ({ app }) => {
  test.setTimeout(120_000);
  const page = app.page;
  const partition = await freshPartition(app, 'E2E K7');
  const [card] = await blankCards('k7', 1);
  await adopt(app, partition.soPin, ['Gil'], 1, [card as string], ['gil-pin-11']);
  await page.getByRole('button', { name: 'Check a card' }).click();
  await onlyCard(card as string);
  await page.getByLabel('Card PIN', { exact: true }).fill('gil-pin-11');
  await page.getByRole('button', { name: 'OK' }).click();
  const summary = page.getByRole('region', { name: /^Completed: Check a card/ });
  await expect(summary).toContainText("Gil's SO card was checked: it belongs to the current set, its PIN is right and its share intact. Nothing was changed on it.");
  await expect(summary.getByRole('table', { name: 'Who took part' })).toContainText('Gil');
  const today = await page.evaluate(() => new Date().toLocaleDateString(undefined, { dateStyle: 'medium' }));
  await expect(summary).toContainText(`Started ${today}`);
  await expect(summary).not.toContainText(/\d{4}-\d\d-\d\dT/);
  await expect(summary.getByRole('button', { name: 'Print the summary' })).toBeVisible();
  // Printed, the summary stands alone: no navigation, no readers, no event log.
  await page.emulateMedia({ media: 'print' });
  await expect(page.getByRole('navigation', { name: 'Sections' })).toBeHidden();
  await expect(page.getByRole('list', { name: 'What happened' })).toBeHidden();
  await expect(summary.getByRole('list', { name: 'What changed' })).toBeVisible();
  await page.emulateMedia({ media: 'screen' });
  await page.getByRole('button', { name: 'Close' }).click();
  // A request the terminal cannot take is said in officers' words.
  await page.getByRole('button', { name: 'Log in as SO with cards' }).click();
  await page.getByRole('button', { name: 'Cancel' }).click();
  await page.getByRole('button', { name: 'Close' }).click();
  await expect(page.getByText('Request refused')).toHaveCount(0);
  await noCards();
});
