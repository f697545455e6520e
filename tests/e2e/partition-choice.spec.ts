// Choosing the partition as officers see it (issue 13): two partitions with the same label are told
// apart by serial and each can be chosen; on the partition's final try the crypto-officer login
// asks before it sends the PIN, and the core refuses a login request without that acknowledgement.
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect, lab, noCards, test } from './app-driver';
import { markUserPinFinalTry } from '../lab/token-flags';

const shots = process.env.TESSERA_SHOTS ?? join('test-results', 'partition-choice');

/** Token flags of the partition with this serial, as OpenSC's pkcs11-tool (an independent client) prints them. */
function tokenFlags(serial: string): string {
  const state = lab.state();
  const text = execFileSync('pkcs11-tool', ['--module', state.modulePath, '--list-token-slots'], { env: { ...process.env, SOFTHSM2_CONF: state.softhsmConf }, encoding: 'utf8' });
  const block = text.split(/\nSlot /).find((b) => b.includes(`serial num         : ${serial}`));
  return /token flags\s+: (.*)/.exec(block ?? '')?.[1] ?? '';
}

/** Serials of every partition labelled `label` in the lab's SoftHSM2 directory. */
function serialsOf(label: string): string[] {
  const state = lab.state();
  const text = execFileSync('softhsm2-util', ['--show-slots'], { env: { ...process.env, SOFTHSM2_CONF: state.softhsmConf }, encoding: 'utf8' });
  const serials: string[] = [];
  let serial = '';
  for (const line of text.split('\n')) {
    const s = /^\s+Serial number:\s*(.*)$/.exec(line);
    if (s) serial = (s[1] ?? '').trim();
    const l = /^\s+Label:\s(.*)$/.exec(line);
    if (l && (l[1] ?? '').trim() === label) serials.push(serial);
  }
  return serials;
}

test('two partitions with the same label are told apart by serial, and each can be chosen', async ({ app }) => {
  const page = app.page;
  await noCards();
  const label = `Twin ${Date.now().toString(36)}`;
  const first = await lab.newPartition(label);
  // The lab makes one partition per label; the second one with the same label comes from SoftHSM2's own tool.
  const state = lab.state();
  execFileSync('softhsm2-util', ['--init-token', '--free', '--label', label, '--so-pin', state.soPin, '--pin', state.userPin], { env: { ...process.env, SOFTHSM2_CONF: state.softhsmConf }, stdio: ['ignore', 'ignore', 'pipe'] });
  const serials = serialsOf(label);
  expect(serials).toHaveLength(2);
  expect(serials).toContain(first.serial);

  await app.waitForPartition(state.tokenLabel);
  await page.getByRole('button', { name: 'Open module' }).click();
  const partitions = page.getByRole('list', { name: 'Partitions' });
  // Earlier runs leave their twins in the lab: the note names every repeated label.
  const note = page.getByRole('note').filter({ hasText: 'tell them apart by serial.' });
  await expect(note).toContainText(`“${label}”`);
  await expect(note).toContainText(/^Several partitions (are labelled|share a label)/);
  for (const serial of serials) await expect(partitions.getByRole('button', { name: `Use “${label}” (serial ${serial})` })).toBeVisible();
  mkdirSync(shots, { recursive: true });
  await page.getByRole('region', { name: 'Choose a partition' }).screenshot({ path: join(shots, 'twins.png') });

  for (const serial of serials) {
    await page.getByRole('button', { name: 'Open module' }).click();
    await partitions.getByRole('button', { name: `Use “${label}” (serial ${serial})` }).click();
    await app.waitForPartition(label);
    await expect(page.getByRole('region', { name: 'Token' }).getByText(serial, { exact: true })).toBeVisible();
    expect(app.terminal.partition.token().serial).toBe(serial);
  }
});

test('on the final try the login asks first, and a request without the acknowledgement is refused untried', async ({ app }) => {
  const page = app.page;
  await noCards();
  const partition = await lab.newPartition(`Final ${Date.now().toString(36)}`);
  // SoftHSM2 never reports a final try by itself: it is set in the token's stored flags (see tests/lab/token-flags.ts).
  markUserPinFinalTry(lab.state().softhsmConf, partition.serial);
  expect(tokenFlags(partition.serial)).toContain('final user PIN try');

  await app.waitForPartition(lab.state().tokenLabel);
  await page.getByRole('button', { name: 'Open module' }).click();
  await page.getByRole('button', { name: `Use “${partition.label}” (serial ${partition.serial})` }).click();
  await app.waitForPartition(partition.label);

  const panel = page.getByRole('region', { name: 'Crypto-officer login' });
  await expect(panel.getByRole('alert')).toHaveText('One try left: the partition says the next wrong crypto-officer PIN locks the crypto officer out. Only a security officer can then reset it.');
  const logIn = panel.getByRole('button', { name: 'Log in' });
  const accept = panel.getByRole('checkbox', { name: 'I am sure of the PIN: use the last try' });
  await expect(accept).not.toBeChecked();
  await expect(logIn).toBeDisabled();
  mkdirSync(shots, { recursive: true });
  await panel.screenshot({ path: join(shots, 'final-try.png') });

  // The core refuses too: a login request without the acknowledgement (as a compromised page could send) is not tried.
  expect(await app.rawInvoke('hsm:login', { pin: 'not-the-pin' })).toMatchObject({ ok: false, error: { code: 'PIN_FINAL_TRY' } });
  expect(tokenFlags(partition.serial)).not.toContain('user PIN count low');

  await panel.getByLabel('Crypto-officer PIN').fill(partition.userPin);
  await accept.check();
  await expect(logIn).toBeEnabled();
  await logIn.click();
  await expect(panel.getByRole('status')).toHaveText('Logged in as crypto officer. Private objects are visible in Keys.');
  await panel.screenshot({ path: join(shots, 'final-try-logged-in.png') });
});
