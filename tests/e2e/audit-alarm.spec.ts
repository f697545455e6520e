// The record that cannot vanish: a terminal whose database was deleted opens with an alarm the
// officers see at once, refuses logins, and goes on only after an officer acknowledges it.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { LAB_USER_PIN } from '../lab/lab';
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
