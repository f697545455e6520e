// The record that cannot vanish: a terminal whose database was deleted opens with an alarm the
// officers see at once, refuses logins, and goes on only after an officer acknowledges it.
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { LAB_USER_PIN } from '../lab/lab';
import { tokenSerial } from '../lab/seed';
import { markUserPinFinalTry } from '../lab/token-flags';
import { expect, lab, launchApp, openLabTerminal, test } from './app-driver';

test('a deleted database raises the audit alarm at start; logins are refused until an officer acknowledges it', async () => {
  const before = await openLabTerminal();
  for (let i = 1; i <= 3; i++) await before.audit.append({ actor: `officer ${i}`, action: 'test.step', target: 'Tessera Lab', outcome: 'ok' });
  const home = before.home;
  await before.close();
  for (const f of ['tessera.db', 'tessera.db-wal', 'tessera.db-shm']) rmSync(join(home, f), { force: true });

  const { app, close } = await launchApp(await openLabTerminal(home));
  try {
    const page = app.page;
    await app.waitForPartition(lab.state().tokenLabel);
    const alarm = page.getByRole('alert', { name: 'Audit log alarm' });
    await expect(alarm).toBeVisible();
    await expect(alarm).toContainText('The audit log was replaced');
    await expect(alarm).toContainText('reached entry 3, but the database holds a new, empty log');

    await app.logIn(LAB_USER_PIN);
    await expect(page.getByRole('alert').filter({ hasText: 'The audit log cannot be extended' })).toContainText('Audit log alarm:');
    await expect(page.getByRole('banner')).toContainText('Crypto officer not logged in');

    await alarm.getByLabel('Crypto-officer PIN').fill('not-the-pin');
    await alarm.getByRole('button', { name: 'Acknowledge the alarm' }).click();
    await expect(alarm).toContainText('PIN not accepted: The PIN is wrong.');
    await alarm.getByLabel('Crypto-officer PIN').fill(LAB_USER_PIN);
    await alarm.getByRole('button', { name: 'Acknowledge the alarm' }).click();
    await expect(alarm).toBeHidden();

    await app.goTo('Audit');
    await expect(page.getByText(/Log intact: all 4 entries verified/)).toBeVisible();
    const rows = page.getByRole('table', { name: 'Audit entries' }).getByRole('row');
    await expect(rows.nth(4)).toContainText('audit.acknowledge');
    await expect(rows.nth(4)).toContainText('previous head entry: 3');
    await expect(rows.nth(2)).toContainText('audit.seal');
    expect(await page.content()).not.toContain(LAB_USER_PIN);
  } finally {
    await close();
  }
});

test('on the final try the acknowledgement asks first, like the login, and a request without it is refused untried', async () => {
  const state = lab.state();
  const before = await openLabTerminal();
  await before.audit.append({ actor: 'officer 1', action: 'test.step', target: 'Tessera Lab', outcome: 'ok' });
  const home = before.home;
  const serial = tokenSerial(state.softhsmConf, state.tokenLabel) as string;
  await before.close();
  for (const f of ['tessera.db', 'tessera.db-wal', 'tessera.db-shm']) rmSync(join(home, f), { force: true });
  // SoftHSM2 never reports a final try by itself: it is set in the token's stored flags (tests/lab/token-flags.ts).
  markUserPinFinalTry(state.softhsmConf, serial);
  const flags = (): string => {
    const text = execFileSync('pkcs11-tool', ['--module', state.modulePath, '--list-token-slots'], { env: { ...process.env, SOFTHSM2_CONF: state.softhsmConf }, encoding: 'utf8' });
    return /token flags\s+: (.*)/.exec(text.split(/\nSlot /).find((b) => b.includes(`serial num         : ${serial}`)) ?? '')?.[1] ?? '';
  };
  expect(flags()).toContain('final user PIN try');

  const { app, close } = await launchApp(await openLabTerminal(home));
  try {
    const page = app.page;
    await app.waitForPartition(state.tokenLabel);
    const alarm = page.getByRole('alert', { name: 'Audit log alarm' });
    await expect(alarm.getByRole('group', { name: 'Final try' })).toContainText('One try left: the partition says the next wrong crypto-officer PIN locks the crypto officer out.');
    const acknowledge = alarm.getByRole('button', { name: 'Acknowledge the alarm' });
    const accept = alarm.getByRole('checkbox', { name: 'I am sure of the PIN: use the last try' });
    await expect(accept).not.toBeChecked();
    await expect(acknowledge).toBeDisabled();
    // The core refuses too: a request without the confirmation (as a compromised page could send) is not tried.
    expect(await app.rawInvoke('audit:acknowledge', { pin: 'not-the-pin' })).toMatchObject({ ok: false, error: { code: 'PIN_FINAL_TRY' } });
    expect(flags()).toContain('final user PIN try');

    await alarm.getByLabel('Crypto-officer PIN').fill(LAB_USER_PIN);
    await accept.check();
    await acknowledge.click();
    await expect(alarm).toBeHidden();
    await expect(page.getByRole('banner')).not.toContainText('Audit log alarm');
  } finally {
    await close();
    // The lab's partition serves the next specs: its flags as they were.
    markUserPinFinalTry(state.softhsmConf, serial, false);
  }
});
