// The Credentials section: officers reset the crypto officer's PIN through the GUI with 2 of their 3
// SO cards, past a new PIN typed differently the second time; then the new PIN logs in through the
// app's Partition login and through pkcs11-tool, and the old one does not. A roll call of the set
// then shows its report (who proved their card, who is missing). Screenshots of each step
// at 1280x800 go to /tmp/shots/ for a person to look at.
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { type Page } from '@playwright/test';
import { type AppDriver as App, blankCards, expect, freshPartition, lab, noCards, onlyCard, test } from './app-driver';

const cardPin = (i: number): string => `e2e-copin-${i}${i}${i}`;
const SHOTS = '/tmp/shots';

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: `${SHOTS}/credentials-${name}.png` });
}

/** Whether the crypto officer logs in with this PIN, through OpenSC's pkcs11-tool (an independent client). */
function coPinLogsIn(label: string, pin: string): boolean {
  const state = lab.state();
  const result = spawnSync('pkcs11-tool', ['--module', state.modulePath, '--token-label', label, '--login', '--pin', pin, '--list-objects'], { env: { ...process.env, SOFTHSM2_CONF: state.softhsmConf }, encoding: 'utf8' });
  return result.status === 0;
}

/** A fresh partition adopted by Alice, Bob and Carol onto blank cards `${prefix}-1…3`: any 2 of 3 log in as SO. */
async function adoptedByThree(app: App, prefix: string, label: string, pinOf: (i: number) => string): Promise<{ cards: string[]; partition: Awaited<ReturnType<typeof freshPartition>> }> {
  const page = app.page;
  const cards = await blankCards(prefix, 3);
  const partition = await freshPartition(app, label);
  await app.goTo('Cards');
  const holders = ['Alice', 'Bob', 'Carol'];
  for (const [i, holder] of holders.entries()) await page.getByLabel(`Holder ${i + 1}`, { exact: true }).fill(holder);
  await page.getByLabel('Cards needed to log in').selectOption('2');
  await page.getByRole('button', { name: 'Start the adoption' }).click();
  const prompt = page.locator('.prompt');
  await page.getByLabel('Current SO PIN').fill(partition.soPin);
  await page.getByRole('button', { name: 'Use this SO PIN' }).click();
  for (let i = 1; i <= 3; i++) {
    await expect(prompt).toContainText(`Card ${i} of 3: ${holders[i - 1]}, insert your blank card.`);
    await onlyCard(cards[i - 1] as string);
    await page.getByLabel('New card PIN').fill(pinOf(i));
    await page.getByLabel('The same PIN again').fill(pinOf(i));
    await page.getByRole('button', { name: 'OK' }).click();
    await expect(page.getByRole('list', { name: 'What happened' })).toContainText(`${holders[i - 1]}'s card is written and checked (${i} of 3)`);
  }
  await page.getByRole('button', { name: `Change the SO PIN of “${partition.label}”` }).click();
  await expect(page.getByRole('table', { name: 'Enrolled cards' }).getByRole('row')).toHaveCount(4);
  await page.getByRole('button', { name: 'Close' }).click();
  await noCards();
  return { cards, partition };
}

test("officers reset the crypto officer's PIN with 2 of 3 SO cards; the new PIN logs in, the old one does not; a roll call names who proved their card", async ({ app }) => {
  test.setTimeout(240_000);
  mkdirSync(SHOTS, { recursive: true });
  const page = app.page;
  await page.setViewportSize({ width: 1280, height: 800 });
  const { cards, partition } = await adoptedByThree(app, 'e2e-copin', 'E2E CoPin', cardPin);
  const prompt = page.locator('.prompt');

  // Credentials: each ceremony says who must be present, the blank cards it needs and what stops working.
  await app.goTo('Credentials');
  await expect(page.getByRole('heading', { level: 1, name: 'Credentials' })).toBeVisible();
  const card = page.getByRole('region', { name: "Reset the crypto officer's PIN" });
  await expect(card).toContainText('Any 2 of the 3 holders of the SO card set (Alice, Bob, Carol), each with their own card and its PIN.');
  await expect(card).toContainText("The crypto officer's current PIN, at once.");
  // The backup key set does not exist yet: its ceremonies say so and cannot start.
  const resplit = page.getByRole('form', { name: 'Re-split the backup key set' });
  await expect(resplit).toContainText('This partition has no backup key set yet. Create it first (Backup).');
  await expect(resplit.getByRole('button', { name: 'Re-split the backup key set' })).toBeDisabled();
  // The SO rotation is pre-filled with the SO set's holders and m.
  const rotate = page.getByRole('form', { name: 'Rotate the SO credential' });
  await expect(rotate.getByLabel('Holder 2', { exact: true })).toHaveValue('Bob');
  await expect(rotate.getByLabel('Cards needed to log in')).toHaveValue('2');
  await shot(page, '1-section');
  await page.getByRole('region', { name: 'Replace a lost or compromised card' }).scrollIntoViewIfNeeded();
  await shot(page, '1b-replace-and-roll-call');
  await resplit.scrollIntoViewIfNeeded();
  await shot(page, '1c-re-split');
  await card.scrollIntoViewIfNeeded();

  // The reset: the briefing first, then two officers' cards.
  await card.getByRole('button', { name: "Reset the crypto officer's PIN" }).click();
  await expect(page.getByRole('heading', { level: 2, name: "Reset the crypto officer's PIN" })).toBeVisible();
  await expect(prompt).toContainText(`Reset the crypto officer's PIN of partition “${partition.label}” (serial ${partition.serial}).`);
  await expect(prompt).toContainText('Who must be present: any 2 of the 3 holders of the SO card set, each with their own card and its PIN: Alice (card ');
  await expect(prompt).toContainText('No blank card is needed.');
  await shot(page, '2-briefing');
  await page.getByRole('button', { name: 'The officers are here: go on' }).click();
  await expect(prompt).toContainText(/Officer 1 of 2 \(eligible: Alice, Bob, Carol\): insert your card to approve the crypto-officer PIN reset \(digest [0-9a-f]{4}( [0-9a-f]{4}){3}\)\./);
  await onlyCard('e2e-copin-1');
  await expect(prompt).toContainText('Alice: type your card PIN.');
  await page.getByLabel('Card PIN', { exact: true }).fill(cardPin(1));
  await shot(page, '3-card-pin');
  await page.getByRole('button', { name: 'OK' }).click();
  await expect(page.getByLabel('Collected')).toContainText('1 of 2 collected: Alice');
  await onlyCard('e2e-copin-3');
  await page.getByLabel('Card PIN', { exact: true }).fill(cardPin(3));
  await page.getByRole('button', { name: 'OK' }).click();

  // The new PIN, typed differently the second time: refused at the field, typed again.
  await expect(prompt).toContainText(`Choose the new crypto-officer PIN of “${partition.label}” (4 to 255 characters) and type it twice.`);
  await noCards();
  const newPin = `e2e-co-${Date.now().toString(36)}`;
  await page.getByLabel('New crypto-officer PIN').fill(newPin);
  await page.getByLabel('The same PIN again').fill(`${newPin}x`);
  await page.getByRole('button', { name: 'OK' }).click();
  await expect(page.getByRole('alert').filter({ hasText: 'The two PINs differ. Type the same PIN twice.' })).toBeVisible();
  await expect(page.getByLabel('New crypto-officer PIN')).toHaveValue('');
  await shot(page, '4-pin-mismatch');
  await page.getByLabel('New crypto-officer PIN').fill(newPin);
  await page.getByLabel('The same PIN again').fill(newPin);
  await page.getByRole('button', { name: 'OK' }).click();

  // The confirmation names the partition and who approved.
  await expect(prompt).toContainText(`Reset the crypto officer's PIN of partition “${partition.label}” (serial ${partition.serial}) now, approved by the cards of Alice, Carol?`);
  await shot(page, '5-confirm');
  await page.getByRole('button', { name: `Reset the crypto officer's PIN of “${partition.label}”` }).click();
  await expect(page.getByText(`The crypto officer's PIN of “${partition.label}” is reset, approved by the cards of Alice, Carol.`)).toBeVisible();
  await expect(page.getByRole('list', { name: 'What changed' })).toContainText(`The crypto officer's PIN of “${partition.label}” was reset by the SO (cards of Alice, Carol); the old PIN no longer works.`);
  await expect(page.getByRole('table', { name: 'Who took part' }).getByRole('row')).toHaveCount(3);
  await shot(page, '6-done');
  expect(await page.content()).not.toContain(newPin);
  expect(await page.content()).not.toContain(cardPin(1));
  await page.getByRole('button', { name: 'Close' }).click();
  await expect(card).toBeVisible();

  // The old PIN is refused and the new one logs in: through the app, and through pkcs11-tool.
  await app.goTo('Partition');
  await app.logIn(partition.userPin);
  await expect(page.getByRole('alert')).toContainText('The PIN is wrong.');
  await app.logIn(newPin);
  await expect(page.getByLabel('Status', { exact: true })).toContainText('Crypto officer logged in');
  await shot(page, '7-logged-in');
  await page.getByRole('button', { name: 'Log out' }).click();
  await expect(page.getByLabel('Status', { exact: true })).toContainText('Crypto officer not logged in');
  expect(coPinLogsIn(partition.label, newPin)).toBe(true);
  expect(coPinLogsIn(partition.label, partition.userPin)).toBe(false);

  await app.goTo('Audit');
  await expect(page.getByRole('table', { name: 'Audit entries' })).toContainText('co-pin.reset');

  // A roll call of the SO set: Alice and Carol prove their cards, the officers finish without Bob.
  await app.goTo('Credentials');
  const rollCall = page.getByRole('region', { name: 'Roll call' });
  await rollCall.getByRole('button', { name: 'Start the roll call' }).click();
  await expect(prompt).toContainText(`Roll call of the SO card set of “${partition.label}”`);
  await page.getByRole('button', { name: 'The officers are here: go on' }).click();
  for (const [i, holder] of [[1, 'Alice'], [3, 'Carol']] as const) {
    await expect(prompt).toContainText('insert your card.');
    await onlyCard(cards[i - 1] as string);
    await expect(prompt).toContainText(`${holder}: type your card PIN.`);
    await page.getByLabel('Card PIN', { exact: true }).fill(cardPin(i));
    await page.getByRole('button', { name: 'OK' }).click();
    await expect(page.getByRole('list', { name: 'What happened' })).toContainText(`${holder}'s card is proved`);
  }
  await noCards();
  await page.getByRole('button', { name: 'Finish the roll call with the cards read' }).click();
  const table = page.getByRole('table', { name: 'Roll call' });
  await expect(table.getByRole('row')).toHaveCount(4);
  await expect(table.getByRole('row').filter({ hasText: 'Alice' })).toContainText('Proved: PIN right, share intact, current generation');
  await expect(table.getByRole('row').filter({ hasText: 'Bob' })).toContainText('Missing: the card was not presented');
  await expect(page.getByText('2 of 3 cards proved')).toBeVisible();
  await expect(page.getByRole('note').filter({ hasText: 'Missing: Bob.' })).toBeVisible();
  await page.getByRole('heading', { name: /^Roll call of the SO card set/ }).scrollIntoViewIfNeeded();
  await shot(page, '8-roll-call');
});

test("a lost SO card is replaced through the GUI: the old card is refused in the quorum and afterwards, named as replaced; the new card logs in", async ({ app }) => {
  test.setTimeout(300_000);
  mkdirSync(SHOTS, { recursive: true });
  const page = app.page;
  await page.setViewportSize({ width: 1280, height: 800 });
  const pinOf = (i: number): string => `e2e-repl-${i}${i}${i}`;
  const { cards, partition } = await adoptedByThree(app, 'e2e-repl', 'E2E Replace', pinOf);
  const [alice, bob, carol] = cards as [string, string, string];
  const [fresh] = await blankCards('e2e-repl-new', 1);
  const prompt = page.locator('.prompt');
  const happened = page.getByRole('list', { name: 'What happened' });

  await app.goTo('Credentials');
  const form = page.getByRole('region', { name: 'Replace a lost or compromised card' });
  await expect(form.getByRole('button', { name: 'Replace the card' })).toBeDisabled();
  await form.getByLabel('Whose card').selectOption('Bob');
  await form.getByRole('button', { name: "Replace Bob's card" }).click();
  await expect(prompt).toContainText('Present first: any 2 of Alice, Carol');
  await expect(prompt).toContainText('1 blank card, for Bob');
  await shot(page, 'replace-1-briefing');
  await page.getByRole('button', { name: 'The officers are here: go on' }).click();

  // Bob's old card turns up in the quorum: refused before any PIN is asked.
  await expect(prompt).toContainText('Officer 1 of 2');
  await onlyCard(bob);
  await expect(happened).toContainText('this is the card this ceremony replaces: it does not count in the quorum');
  await expect(prompt).toContainText('Officer 1 of 2 (eligible: Alice, Carol)');
  for (const [card, i, holder] of [[alice, 1, 'Alice'], [carol, 3, 'Carol']] as const) {
    await onlyCard(card);
    await expect(prompt).toContainText(`${holder}: type your card PIN.`);
    await page.getByLabel('Card PIN', { exact: true }).fill(pinOf(i));
    await page.getByRole('button', { name: 'OK' }).click();
    await expect(happened).toContainText(`${holder}'s card read`);
  }
  // The new generation: Carol's card, still in the reader, is taken again at once (its own PIN);
  // then Alice's; then a blank card for Bob.
  for (const [card, i, holder] of [[carol, 3, 'Carol'], [alice, 1, 'Alice']] as const) {
    await onlyCard(card);
    await expect(prompt).toContainText(`${holder}: type your card PIN. Your new share is sealed under it.`);
    if (holder === 'Carol') await shot(page, 'replace-2-write');
    await page.getByLabel('Card PIN', { exact: true }).fill(pinOf(i));
    await page.getByRole('button', { name: 'OK' }).click();
    await expect(happened).toContainText(`${holder}'s card is written and checked.`);
  }
  await expect(prompt).toContainText('a blank card for Bob');
  await onlyCard(fresh as string);
  await expect(prompt).toContainText('Bob: choose a PIN for your card');
  await page.getByLabel('New card PIN').fill(pinOf(4));
  await page.getByLabel('The same PIN again').fill(pinOf(4));
  await page.getByRole('button', { name: 'OK' }).click();
  await page.getByRole('button', { name: `Change the SO PIN of “${partition.label}”` }).click();
  // The old generation is retired on the kept cards: each once more, no PIN.
  await expect(prompt).toContainText('Retire the old generation: Alice, Carol, insert your card once more');
  await shot(page, 'replace-3-retire');
  await onlyCard(alice);
  await expect(happened).toContainText("Alice's card: the old generation is retired.");
  await onlyCard(carol);
  await expect(page.getByRole('heading', { name: 'New generation of the SO card set' })).toBeVisible();
  await expect(page.getByRole('list', { name: 'What changed' })).toContainText("Bob's old card");
  await shot(page, 'replace-4-done');
  await page.getByRole('button', { name: 'Close' }).click();
  await noCards();

  // Bob's old card is refused at an SO login, named as replaced, at no try; his new card and Alice's log in.
  await app.goTo('Cards');
  await page.getByRole('button', { name: 'Log in as SO with cards' }).click();
  await onlyCard(bob);
  await expect(happened).toContainText(`This card was replaced on ${new Date().toISOString().slice(0, 10)} (generation 2)`);
  await shot(page, 'replace-5-old-card-refused');
  await onlyCard(fresh as string);
  await expect(prompt).toContainText('Bob: type your card PIN.');
  await page.getByLabel('Card PIN', { exact: true }).fill(pinOf(4));
  await page.getByRole('button', { name: 'OK' }).click();
  await expect(happened).toContainText("Bob's card read");
  await onlyCard(alice);
  await page.getByLabel('Card PIN', { exact: true }).fill(pinOf(1));
  await page.getByRole('button', { name: 'OK' }).click();
  await expect(page.getByText('Logged in as security officer with the cards of Alice, Bob.')).toBeVisible();
  await noCards();
});
