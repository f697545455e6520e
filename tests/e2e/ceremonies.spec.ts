// A ceremony run from the shipped practice script through the GUI (real core, real lab): alice, bob
// and carol hold SO and backup-set cards (2 of 3); the administrator opens the script from the
// examples, sees the preconditions met, and runs it step by step: the SO login (two cards), the
// backup (the crypto officer logs in where the step asks), an exception recorded by the witness
// before the audit export (the script says go on), the export, the logout, then the transcript
// signed by the partition. PRACTICE is on the screen, in the transcript and in the printout; the
// transcript verifies offline. Screenshots of each screen at 1280x800 go to /tmp/shots/.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import { verifyTranscriptFile } from '../../src/core/record/transcript';
import { verifyExport } from '../../src/core/audit/export-format';
import type { TranscriptFile } from '../../src/shared/transcript';
import { type AppDriver, adoptInGui, blankCards, expect, lab, noCards, onlyCard, seededPartition, test } from './app-driver';

const SHOTS = '/tmp/shots';
const cardPin = (i: number): string => `e2e-cer-pin-${i}${i}${i}`;

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: `${SHOTS}/ceremonies-${name}.png`, fullPage: true });
}

/** Each card in turn (alone in a reader) with its PIN; after the last one the step's ceremony ends and the script goes on. */
async function presentCards(app: AppDriver, cards: [card: string, index: number, holder: string][]): Promise<void> {
  const page = app.page;
  for (const [k, [card, index, holder]] of cards.entries()) {
    await onlyCard(card);
    await expect(page.locator('.ceremony .prompt')).toContainText(`${holder}: type your card PIN.`);
    await page.getByLabel('Card PIN', { exact: true }).fill(cardPin(index));
    await page.getByRole('button', { name: 'OK' }).click();
    if (k < cards.length - 1) await expect(page.getByRole('list', { name: 'What happened' })).toContainText(`${holder}'s card read`);
  }
  // The last card stays in until the ceremony has ended (pulled while it is read, it would be asked for again).
  await expect(page.locator('section.ceremony')).toHaveCount(0, { timeout: 30_000 });
  await noCards();
}

test('the practice script through the GUI: preconditions, each step with who acts, an exception, PRACTICE everywhere, and a signed transcript', async ({ app }) => {
  test.setTimeout(300_000);
  mkdirSync(SHOTS, { recursive: true });
  const page = app.page;
  await page.setViewportSize({ width: 1280, height: 800 });
  const partition = await seededPartition(app, 'Cer');
  const cards = await blankCards('e2e-cer', 3);
  const holders = ['alice', 'bob', 'carol'];
  await adoptInGui(app, partition.soPin, holders, cards, 2, cardPin);

  // The backup key set on the same cards (the crypto officer logged in), 2 of 3.
  await app.goTo('Partition');
  await app.logIn(partition.userPin);
  await expect(page.getByText('Crypto officer logged in')).toBeVisible();
  await app.goTo('Backup');
  for (const [i, holder] of holders.entries()) await page.getByLabel(`Holder ${i + 1}`, { exact: true }).fill(holder);
  await page.getByLabel('Cards needed to restore').selectOption('2');
  await page.getByRole('button', { name: 'Create the backup key set' }).click();
  for (const [i, holder] of holders.entries()) {
    await expect(page.locator('.prompt')).toContainText(`Card ${i + 1} of 3: ${holder}, insert your card.`);
    await onlyCard(cards[i] as string);
    await expect(page.getByLabel('Card PIN', { exact: true })).toBeVisible();
    await page.getByLabel('Card PIN', { exact: true }).fill(cardPin(i + 1));
    await page.getByRole('button', { name: 'OK' }).click();
  }
  await expect(page.getByRole('table', { name: 'Enrolled cards' }).getByRole('row')).toHaveCount(4);
  await page.getByRole('button', { name: 'Close' }).click();
  await noCards();

  // The script, from the examples; practice is the default on the lab.
  await app.goTo('Ceremonies');
  await expect(page.getByRole('heading', { name: 'Open a ceremony script' })).toBeVisible();
  await page.getByRole('button', { name: 'Open the script' }).click();
  await expect(page.getByRole('alert')).toHaveText('Choose a script first.');
  await page.getByRole('radio', { name: /practice-backup\.yaml/ }).check();
  await expect(page.getByRole('checkbox', { name: 'Practice run (marked PRACTICE)' })).toBeChecked();
  await shot(page, '1-choose');
  await page.getByRole('button', { name: 'Open the script' }).click();

  await expect(page.getByRole('heading', { name: 'Practice backup of the training partition' })).toBeVisible();
  await expect(page.getByRole('note', { name: 'Practice run' })).toContainText('PRACTICE');
  const preconditions = page.getByRole('list', { name: 'Preconditions' });
  await expect(preconditions.getByRole('listitem')).toHaveCount(4);
  await expect(preconditions).not.toContainText('NOT MET');
  await expect(preconditions).toContainText('SO card set: The SO card set: 2 of alice, bob, carol, as the script expects.');
  await shot(page, '2-preconditions');
  await page.getByRole('button', { name: 'Begin the ceremony' }).click();

  const now = page.getByRole('status', { name: 'What to do now' });
  const steps = page.getByRole('list', { name: 'Ceremony steps' }).locator(':scope > li');
  await expect(now).toContainText('Step 1 of 4: Two SO card holders log in. Who acts: alice, bob.');
  await expect(steps.first()).toContainText('Next');

  // Step 1: the SO login, with alice's and bob's cards.
  await page.getByRole('button', { name: 'Start step 1: Two SO card holders log in' }).click();
  await presentCards(app, [
    [cards[0] as string, 1, 'alice'],
    [cards[1] as string, 2, 'bob'],
  ]);
  await expect(steps.nth(0)).toContainText('Done');
  await expect(steps.nth(0)).toContainText('An SO session was opened with the cards of alice, bob.');
  await expect(now).toContainText('Step 2 of 4');
  await shot(page, '3-after-so-login');

  // Step 2: the backup needs the crypto officer: the step asks for the login where it is.
  await page.getByRole('button', { name: /^Start step 2: / }).click();
  await expect(now).toContainText('frank: log in to the partition as crypto officer');
  await page.getByRole('button', { name: 'Log in and go on' }).click();
  const panel = page.locator('section.script-run');
  await expect(panel.getByRole('alert')).toContainText("Type the crypto officer's PIN first.");
  await page.getByLabel('Crypto-officer PIN').fill('wrong-pin-1');
  await page.getByRole('button', { name: 'Log in and go on' }).click();
  await expect(panel.getByRole('alert')).toContainText('PIN is wrong');
  await page.getByLabel('Crypto-officer PIN').fill(partition.userPin);
  await page.getByRole('button', { name: 'Log in and go on' }).click();
  await page.getByRole('button', { name: /^Back up \d+ objects to / }).click();
  await expect(steps.nth(1)).toContainText('Done', { timeout: 60_000 });
  await expect(steps.nth(1)).toContainText('The SO session was ended first');

  // Before step 3, the witness records an exception; the script says the export step goes on.
  await expect(now).toContainText('Step 3 of 4');
  const exception = page.getByRole('form', { name: 'Record an exception' });
  await exception.getByRole('button', { name: 'Record the exception' }).click();
  await expect(exception.getByRole('alert')).toHaveText('Write what happened first.');
  await exception.getByLabel('What happened').fill('The witness saw the stick unsealed before the export; a new seal bag was used.');
  await exception.getByLabel('Recorded by').selectOption('erin');
  await exception.getByRole('button', { name: 'Record the exception' }).click();
  await expect(page.getByRole('list', { name: 'Exceptions' })).toContainText('Step 3');
  await expect(page.getByRole('list', { name: 'Exceptions' })).toContainText('erin: The witness saw the stick unsealed');
  await expect(page.getByRole('list', { name: 'Exceptions' })).toContainText('the ceremony went on');
  await shot(page, '4-exception');

  await page.getByRole('button', { name: /^Start step 3: / }).click();
  await expect(steps.nth(2)).toContainText('Done');
  await expect(steps.nth(2)).toContainText('Every entry is sealed by the partition.');
  await page.getByRole('button', { name: /^Start step 4: / }).click();
  await expect(steps.nth(3)).toContainText('Done');

  // The transcript: the crypto officer logs in again so the partition signs it.
  await expect(now).toContainText('Every step is done. frank: log in as crypto officer so the partition signs the transcript.');
  await page.getByLabel('Crypto-officer PIN').fill(partition.userPin);
  await page.getByRole('button', { name: 'Log in, sign and write the transcript' }).click();
  const transcript = page.getByLabel('Transcript');
  await expect(transcript).toContainText('.transcript.json');
  await shot(page, '5-transcript');
  const json = /\S+\.transcript\.json/.exec((await transcript.textContent()) ?? '')?.[0] as string;
  const verified = await verifyTranscriptFile(json);
  expect(verified).toMatchObject({ valid: true, practice: true, pdf: 'matches', outcome: 'completed' });
  const file = JSON.parse(readFileSync(json, 'utf8')) as TranscriptFile;
  expect(file.transcript.exceptions).toEqual([expect.objectContaining({ step: 3, by: 'erin', then: 'continued' })]);
  expect(file.transcript.steps.map((s) => s.outcome)).toEqual(['done', 'done', 'done', 'done']);
  const text = execFileSync('pdftotext', [json.replace(/\.json$/, '.pdf'), '-'], { encoding: 'utf8' });
  expect(text).toContain('PRACTICE');
  expect(text).toContain('The witness saw the stick unsealed');
  for (const name of ['alice', 'bob', 'carol', 'dana', 'erin', 'frank']) expect(text).toContain(name);

  // Closed, the section offers the scripts again.
  await page.getByRole('button', { name: 'Close the ceremony' }).click();
  await expect(page.getByRole('heading', { name: 'Open a ceremony script' })).toBeVisible();

  // The audit log says PRACTICE in the run's entries; an export for the auditor from the Audit section.
  await app.goTo('Audit');
  await expect(page.getByRole('table', { name: 'Audit entries' })).toContainText('ceremony.transcript');
  await expect(page.getByRole('table', { name: 'Audit entries' }).getByRole('row').filter({ hasText: 'ceremony.transcript' })).toContainText('practice: yes');
  await page.getByRole('radio', { name: 'The whole log' }).check();
  await page.getByRole('button', { name: 'Export to USB-STICK (training lab stand-in)' }).click();
  const written = page.getByRole('status', { name: 'Export written' });
  await expect(written).toContainText('read back and verified');
  await shot(page, '6-audit-export');
  const exportPath = /\S+\.jsonl/.exec((await written.textContent()) ?? '')?.[0] as string;
  const check = verifyExport(readFileSync(exportPath));
  expect(check).toMatchObject({ valid: true, from: 1 });
  // A period that ends before it begins is refused at the form.
  await page.getByRole('radio', { name: 'A period (days in UTC)' }).check();
  const exportForm = page.getByRole('region', { name: 'Export the log for an auditor' });
  await exportForm.getByLabel('From').fill('2026-12-02');
  await exportForm.getByLabel('to (included)').fill('2026-12-01');
  await page.getByRole('button', { name: 'Export to USB-STICK (training lab stand-in)' }).click();
  await expect(page.getByRole('region', { name: 'Export the log for an auditor' }).getByRole('alert')).toHaveText('The period ends before it begins.');
});

test('a ceremony cancelled with the crypto officer logged in is signed in that session; the cancel is recorded', async ({ app }) => {
  test.setTimeout(120_000);
  const page = app.page;
  await page.setViewportSize({ width: 1280, height: 800 });
  const state = lab.state();
  const name = `cancel-${Date.now().toString(36)}.yaml`;
  const script = join(state.mediaDir, name);
  writeFileSync(
    script,
    `tessera-ceremony: 1
title: Cancel drill
partition: { label: Tessera Lab, serial: "0000000000000000" }
roster:
  administrator: dana
  witnesses: [erin]
  officers:
    - { name: frank, roles: [crypto-officer] }
steps:
  - do: co-login
    by: frank
  - do: manual
    by: erin
    text: The witness checks the seal on bag 4711
  - do: logout
`,
  );
  try {
    await app.waitForPartition(state.tokenLabel);
    await app.goTo('Ceremonies');
    await page.getByRole('radio', { name: new RegExp(name.replace('.', '\\.')) }).check();
    await page.getByRole('button', { name: 'Open the script' }).click();
    await page.getByRole('button', { name: 'Begin the ceremony' }).click();
    await page.getByRole('button', { name: /^Start step 1: / }).click();
    await page.getByLabel('Crypto-officer PIN').fill(state.userPin);
    await page.getByRole('button', { name: 'Log in and go on' }).click();
    await expect(page.getByRole('status', { name: 'What to do now' })).toContainText('Step 2 of 3');
    await page.getByRole('button', { name: /^Start step 2: / }).click();
    await expect(page.getByRole('status', { name: 'What to do now' })).toContainText('erin: The witness checks the seal on bag 4711 Confirm when it is done.');
    await page.getByRole('button', { name: 'Cancel the ceremony…' }).click();
    await page.keyboard.press('Escape');
    await expect(page.getByRole('button', { name: 'Cancel the ceremony…' })).toBeVisible();
    await page.getByRole('button', { name: 'Cancel the ceremony…' }).click();
    await page.getByRole('group', { name: 'Cancel the ceremony?' }).getByRole('button', { name: 'Cancel the ceremony' }).click();
    await expect(page.getByRole('note', { name: 'Why the ceremony stopped' })).toHaveText('Cancelled by the administrator at step 2.');
    // The crypto officer is still logged in: the transcript is signed in that session, no PIN asked again.
    await expect(page.getByLabel('Crypto-officer PIN')).toHaveCount(0);
    await page.getByRole('button', { name: 'Sign and write the transcript' }).click();
    const transcript = page.getByLabel('Transcript');
    await expect(transcript).toContainText('.transcript.json');
    const json = /\S+\.transcript\.json/.exec((await transcript.textContent()) ?? '')?.[0] as string;
    expect(await verifyTranscriptFile(json)).toMatchObject({ valid: true, outcome: 'cancelled', practice: true });
    const entries = app.terminal.audit.list(20).map((e) => e.action);
    expect(entries).toContain('ceremony.cancelled');
    expect(entries).not.toContain('ceremony.interrupted');
  } finally {
    rmSync(script, { force: true });
  }
});
