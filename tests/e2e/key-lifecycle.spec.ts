// The key lifecycle and the partition policy through the GUI (real core, real lab): the crypto
// officer deletes keys from the inventory (with key invalidation on they are invalidated: marked in
// the table, unusable to pkcs11-tool, in the trash bin); from the trash bin the SO cards approve a
// reactivation (the key signs again) and a destroy of two keys at once (gone from the partition);
// then a policy change, seen side by side (rows and digest) before and during its ceremony, turns
// object destruction off, and the next delete is refused naming the setting. Screenshots of each
// screen at 1280x800 go to /tmp/shots/ for a person to look at.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Locator, Page } from '@playwright/test';
import { type AppDriver, adoptInGui, blankCards, expect, lab, noCards, onlyCard, seededPartition, test } from './app-driver';

const SHOTS = '/tmp/shots';
const cardPin = (i: number): string => `e2e-kl-pin-${i}${i}${i}`;

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: `${SHOTS}/key-lifecycle-${name}.png` });
}

/** Whether the private key with this id signs, through OpenSC's pkcs11-tool (an independent client). */
function signs(label: string, pin: string, id: string, mechanism: string): boolean {
  const state = lab.state();
  const dir = mkdtempSync(join(tmpdir(), 'tessera-e2e-sign-'));
  writeFileSync(join(dir, 'in'), Buffer.alloc(32, 7));
  const result = spawnSync('pkcs11-tool', ['--module', state.modulePath, '--token-label', label, '--login', '--pin', pin, '--sign', '--id', id, '-m', mechanism, '--input-file', join(dir, 'in'), '--output-file', join(dir, 'out')], { env: { ...process.env, SOFTHSM2_CONF: state.softhsmConf }, encoding: 'utf8' });
  return result.status === 0;
}

/** The CKA_IDs of the partition's objects, as pkcs11-tool lists them. */
function idsIn(label: string, pin: string): string[] {
  const state = lab.state();
  const result = spawnSync('pkcs11-tool', ['--module', state.modulePath, '--token-label', label, '--login', '--pin', pin, '--list-objects'], { env: { ...process.env, SOFTHSM2_CONF: state.softhsmConf }, encoding: 'utf8' });
  expect(result.status, result.stderr).toBe(0);
  return [...result.stdout.matchAll(/^\s*ID:\s*([0-9a-f]+)\s*$/gim)].map((m) => (m[1] as string).toLowerCase());
}

/** The officers' cards, one after another, each with its PIN, until the last one's card is read. */
async function approveWith(app: AppDriver, officers: [card: string, index: number, holder: string][]): Promise<void> {
  const page = app.page;
  const prompt = page.locator('.prompt');
  for (const [k, [card, index, holder]] of officers.entries()) {
    await expect(prompt).toContainText(`Officer ${k + 1} of ${officers.length}`);
    await onlyCard(card);
    await expect(prompt).toContainText(`${holder}: type your card PIN.`);
    await page.getByLabel('Card PIN', { exact: true }).fill(cardPin(index));
    await page.getByRole('button', { name: 'OK' }).click();
    await expect(page.getByRole('list', { name: 'What happened' })).toContainText(`${holder}'s card read`);
  }
  await noCards();
}

/** The row of the side-by-side table whose setting is `title`. */
const row = (table: Locator, title: string): Locator => table.getByRole('row').filter({ has: table.page().getByRole('rowheader', { name: title, exact: true }) });

test('keys deleted from the inventory go into the trash bin; the SO cards reactivate one and destroy two; a policy change shown side by side turns object destruction off and the next delete is refused', async ({ app }) => {
  test.setTimeout(300_000);
  mkdirSync(SHOTS, { recursive: true });
  const page = app.page;
  await page.setViewportSize({ width: 1280, height: 800 });
  const cards = await blankCards('e2e-kl', 3);
  const [alice, bob, carol] = cards as [string, string, string];
  const partition = await seededPartition(app, 'E2E Keys');
  await adoptInGui(app, partition.soPin, ['Alice', 'Bob', 'Carol'], cards, 2, cardPin);
  const prompt = page.locator('.prompt');

  await app.goTo('Partition');
  await app.logIn(partition.userPin);
  await expect(page.getByLabel('Status', { exact: true })).toContainText('Crypto officer logged in');
  expect(signs(partition.label, partition.userPin, '11', 'ECDSA')).toBe(true);

  // Delete from the inventory: the confirmation names the key pair and says what key invalidation does.
  await app.goTo('Keys');
  const details = page.getByRole('complementary');
  await page.getByLabel('Filter', { exact: true }).fill('TLS Server');
  await expect(app.objectRows()).toHaveCount(2);
  await app.objectRows().filter({ hasText: 'private key' }).click();
  await details.getByRole('button', { name: 'Delete “TLS Server Key”…' }).click();
  const confirmation = page.getByRole('alertdialog', { name: 'Delete “TLS Server Key” (id 11): private key and public key?' });
  await expect(confirmation).toContainText('Key invalidation is on in the partition policy: “TLS Server Key” (id 11): private key and public key is invalidated, not destroyed.');
  await expect(confirmation).toContainText('It still takes space and keeps its label and id.');
  await shot(page, '1-delete-confirmation');
  // Escape keeps the key, like "Keep the key"; asked again, the officer confirms.
  await expect(confirmation).toBeFocused();
  await page.keyboard.press('Escape');
  await expect(confirmation).toHaveCount(0);
  expect(signs(partition.label, partition.userPin, '11', 'ECDSA')).toBe(true);
  await details.getByRole('button', { name: 'Delete “TLS Server Key”…' }).click();
  await confirmation.getByRole('button', { name: 'Invalidate “TLS Server Key”' }).click();
  await expect(details.getByRole('status')).toContainText('“TLS Server Key” (id 11) is invalidated and in the trash bin.');
  // Both objects of the pair are marked in words; the note says they still take space.
  await expect(app.objectRows().filter({ hasText: 'invalidated' })).toHaveCount(2);
  await expect(page.getByRole('note').filter({ hasText: 'Invalidated keys still take space and keep their label and id' })).toBeVisible();
  await shot(page, '2-invalidated-in-inventory');
  expect(signs(partition.label, partition.userPin, '11', 'ECDSA')).toBe(false);
  expect(idsIn(partition.label, partition.userPin)).toContain('11');

  // Keyboard only: a secret key, Delete on its row, Tab to the confirmation's button, Enter.
  await page.getByLabel('Filter', { exact: true }).fill('Data Encryption');
  await expect(app.objectRows()).toHaveCount(1);
  await page.getByRole('table', { name: 'Objects in the partition' }).focus();
  await page.keyboard.press('Home');
  await page.keyboard.press('Delete');
  const keyboardConfirm = page.getByRole('alertdialog', { name: 'Delete “Data Encryption Key” (id 22): secret key?' });
  await expect(keyboardConfirm).toBeFocused();
  await page.keyboard.press('Tab');
  await expect(keyboardConfirm.getByRole('button', { name: 'Invalidate “Data Encryption Key”' })).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(details.getByRole('status')).toContainText('“Data Encryption Key” (id 22) is invalidated and in the trash bin.');

  await page.getByLabel('Filter', { exact: true }).fill('Document Signing');
  await app.objectRows().filter({ hasText: 'private key' }).click();
  await details.getByRole('button', { name: 'Delete “Document Signing EC”…' }).click();
  await page.getByRole('button', { name: 'Invalidate “Document Signing EC”' }).click();
  await expect(details.getByRole('status')).toContainText('“Document Signing EC” (id 12) is invalidated and in the trash bin.');

  // The trash bin: three keys, filtered by the box.
  await page.getByRole('tab', { name: 'Trash bin (3)' }).click();
  const bin = page.getByRole('table', { name: 'Invalidated keys' });
  await expect(bin.getByRole('row')).toHaveCount(4);
  const tls = bin.getByRole('row').filter({ hasText: 'TLS Server Key' });
  await expect(tls).toContainText('private key (EC)');
  await expect(tls).toContainText('public key (EC)');
  await expect(tls).toContainText('CKA_SIGN');
  await expect(tls).toContainText('Invalidated: unusable');
  await shot(page, '3-trash-bin');
  await page.getByLabel('Filter', { exact: true }).fill('tls');
  await expect(bin.getByRole('row')).toHaveCount(2);
  await page.getByLabel('Filter', { exact: true }).fill('');

  // Reactivate one key: the ceremony shows what comes back and the digest; two SO cards approve.
  await bin.getByRole('button', { name: 'Reactivate “TLS Server Key” (id 11)' }).click();
  await expect(page.getByRole('heading', { level: 2, name: 'Reactivate an invalidated key' })).toBeVisible();
  const comesBack = page.getByRole('table', { name: 'Key to reactivate' });
  await expect(comesBack).toContainText(/private key: [A-Z_, ]*CKA_SIGN/);
  const reactivateDigest = (await page.getByLabel('Digest', { exact: true }).textContent()) ?? '';
  expect(reactivateDigest).toMatch(/^[0-9a-f]{4}( [0-9a-f]{4}){3}$/);
  await expect(prompt).toContainText(`Digest of this change: ${reactivateDigest}.`);
  await shot(page, '4-reactivate-briefing');
  await page.getByRole('button', { name: 'The officers are here: go on' }).click();
  await approveWith(app, [
    [alice, 1, 'Alice'],
    [carol, 3, 'Carol'],
  ]);
  const report = page.getByRole('table', { name: 'Report per key' });
  await expect(report.getByRole('row').filter({ hasText: 'TLS Server Key' })).toContainText('Reactivated: usable again, exactly as before');
  await expect(page.getByRole('region', { name: 'Reactivation report' })).toContainText(`Digest of this change: ${reactivateDigest}`);
  await shot(page, '5-reactivate-report');
  expect(signs(partition.label, partition.userPin, '11', 'ECDSA')).toBe(true);
  await page.getByRole('button', { name: 'Close' }).click();
  await expect(bin.getByRole('row')).toHaveCount(3);

  // Destroy two at once: the ceremony's confirmation names each key.
  await bin.getByRole('checkbox', { name: 'Choose “Data Encryption Key” (id 22) to destroy' }).check();
  await bin.getByRole('checkbox', { name: 'Choose “Document Signing EC” (id 12) to destroy' }).check();
  await page.getByRole('button', { name: 'Destroy 2 chosen keys for good' }).click();
  await expect(prompt).toContainText('“Data Encryption Key” (id 22): secret key');
  await expect(prompt).toContainText('“Document Signing EC” (id 12): private key and public key');
  await expect(page.getByRole('table', { name: 'Keys to destroy' }).getByRole('row')).toHaveCount(3);
  await shot(page, '6-destroy-briefing');
  await page.getByRole('button', { name: 'The officers are here: go on' }).click();
  await approveWith(app, [
    [bob, 2, 'Bob'],
    [carol, 3, 'Carol'],
  ]);
  await expect(report.getByRole('row').filter({ hasText: 'Data Encryption Key' })).toContainText('Destroyed for good');
  await expect(report.getByRole('row').filter({ hasText: 'Document Signing EC' })).toContainText('Destroyed for good');
  await expect(page.getByRole('status').filter({ hasText: '2 of 2 keys destroyed' })).toBeVisible();
  await shot(page, '7-destroy-report');
  const left = idsIn(partition.label, partition.userPin);
  expect(left).not.toContain('22');
  expect(left).not.toContain('12');
  expect(left).toContain('11');
  await page.getByRole('button', { name: 'Close' }).click();
  await expect(page.getByText('The trash bin is empty.')).toBeVisible();

  // The policy in force, then a change: its side-by-side view is live in the form.
  await app.goTo('Partition');
  await page.getByRole('button', { name: 'Log out' }).click();
  await expect(page.getByLabel('Status', { exact: true })).toContainText('Crypto officer not logged in');
  // Without the crypto officer the bin is this terminal's records only, and its actions wait for the login.
  await app.goTo('Keys');
  await expect(page.getByRole('note').filter({ hasText: "this list is this terminal's records only" })).toContainText('needs the crypto-officer login');
  await expect(page.getByRole('button', { name: 'Destroy the chosen keys for good' })).toBeDisabled();
  await app.goTo('Policy');
  await expect(page.getByRole('heading', { level: 2, name: 'Policy in force: version 0' })).toBeVisible();
  await expect(row(page.getByRole('table', { name: 'Settings in force' }), 'Object destruction')).toContainText('On');
  await expect(row(page.getByRole('table', { name: 'Approvals in force' }), 'Destroy keys for good')).toContainText('2 of 3 SO holders');
  await expect(page.getByRole('note', { name: 'Who enforces the policy' })).toContainText('other applications with the crypto-officer PIN are not held to it');
  await shot(page, '8-policy-in-force');
  const form = page.getByRole('form', { name: 'Change the policy' });
  await form.getByRole('checkbox', { name: 'Object destruction' }).uncheck();
  await form.getByLabel('Approvals: destroy keys for good').fill('3');
  const preview = form.getByRole('table', { name: 'Proposed change' });
  await expect(row(preview, 'Object destruction')).toContainText(/on\s*off\s*Changed\s*Invalidated keys stay in the trash bin; no key can be removed\./);
  await expect(row(preview, 'Approvals: destroy keys for good')).toContainText(/2 of 3 SO holders\s*3 of 3 SO holders\s*Changed/);
  await expect(row(preview, 'Key export')).toContainText(/on\s*on\s*Unchanged/);
  await form.getByRole('button', { name: 'Start the policy change (2 changes)' }).scrollIntoViewIfNeeded();
  await shot(page, '9-policy-form');
  await form.getByRole('button', { name: 'Start the policy change (2 changes)' }).click();

  // In the ceremony: current and proposed side by side, changed rows said in words, and the digest.
  const sideBySide = page.getByRole('table', { name: 'Current and proposed policy' });
  await expect(sideBySide.getByRole('row')).toHaveCount(11);
  await expect(sideBySide.getByRole('row').filter({ hasText: 'Changed' }).filter({ hasNotText: 'Unchanged' })).toHaveCount(2);
  await expect(row(sideBySide, 'Object destruction')).toContainText(/on\s*off\s*Changed/);
  await expect(row(sideBySide, 'Approvals: destroy keys for good')).toContainText(/2 of 3 SO holders\s*3 of 3 SO holders\s*Changed\s*More officers must be present each time/);
  await expect(row(sideBySide, 'Key invalidation')).toContainText(/on\s*on\s*Unchanged/);
  const policyDigest = (await page.getByLabel('Digest', { exact: true }).textContent()) ?? '';
  expect(policyDigest).toMatch(/^[0-9a-f]{4}( [0-9a-f]{4}){3}$/);
  await expect(prompt).toContainText(`Digest of this change: ${policyDigest}.`);
  await expect(prompt).toContainText('from version 0 (the defaults) to version 1');
  await shot(page, '10-policy-ceremony');
  await page.getByRole('button', { name: 'The officers are here: go on' }).click();
  await approveWith(app, [
    [alice, 1, 'Alice'],
    [bob, 2, 'Bob'],
  ]);
  await expect(page.getByRole('heading', { name: 'Policy version 1 is in force' })).toBeVisible();
  await expect(page.getByRole('list', { name: 'Policy changes' })).toContainText('object-destruction: on → off');
  await expect(page.getByRole('region', { name: 'Policy version 1 is in force' })).toContainText(`Digest of this change: ${policyDigest}`);
  await shot(page, '11-policy-done');
  await page.getByRole('button', { name: 'Close' }).click();
  await expect(page.getByRole('heading', { level: 2, name: 'Policy in force: version 1' })).toBeVisible();
  await expect(page.getByRole('region', { name: 'Policy in force: version 1' })).toContainText('Approved on');
  await expect(page.getByRole('region', { name: 'Policy in force: version 1' })).toContainText('by Alice (card');
  await expect(row(page.getByRole('table', { name: 'Settings in force' }), 'Object destruction')).toContainText('Off');
  await shot(page, '12-policy-version-1');

  // The terminal enforces it: the next delete is refused, naming the setting, and the key still signs.
  await app.goTo('Partition');
  await app.logIn(partition.userPin);
  await expect(page.getByLabel('Status', { exact: true })).toContainText('Crypto officer logged in');
  await app.goTo('Keys');
  await page.getByRole('tab', { name: 'Objects' }).click();
  await page.getByLabel('Filter', { exact: true }).fill('Signing Key 2026');
  await app.objectRows().filter({ hasText: 'private key' }).click();
  await expect(details.getByRole('note')).toContainText('Object destruction is off in the partition policy');
  await details.getByRole('button', { name: 'Delete “Signing Key 2026”…' }).click();
  await expect(page.getByRole('alertdialog')).toContainText('every delete fails, so the terminal refuses to delete “Signing Key 2026” (id 01)');
  await page.getByRole('alertdialog').getByRole('button', { name: 'Delete “Signing Key 2026”' }).click();
  await expect(details.getByRole('alert')).toContainText('Refused by the partition policy: Object destruction is off in the partition policy');
  await expect(app.objectRows().filter({ hasText: 'invalidated' })).toHaveCount(0);
  await shot(page, '13-delete-refused');
  expect(signs(partition.label, partition.userPin, '01', 'SHA256-RSA-PKCS')).toBe(true);
  await page.getByRole('tab', { name: 'Trash bin' }).click();
  await expect(page.getByText('The trash bin is empty.')).toBeVisible();
});
