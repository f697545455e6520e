// Modules loaded safely, as officers see it: the module is chosen from the administrator's list
// (no path can be typed), a refused module says why, and a module that crashes when loaded is
// reported while the terminal carries on.
import { chmodSync } from 'node:fs';
import { expect, test } from './app-driver';
import { buildFakeModule, copyOfSoftHsm, safeFolder, writeModulesFile } from '../lab/fake-modules';
import { SOFTHSM_MODULE } from '../lab/lab';

const dir = safeFolder();
const crash = buildFakeModule(dir, 'crash');
const openFolder = safeFolder('tessera-open-');
chmodSync(openFolder, 0o777);
const openCopy = copyOfSoftHsm(openFolder);
const modulesFile = writeModulesFile(dir, [
  { name: 'Crashing module', path: crash },
  { name: 'SoftHSM2 in an open folder', path: openCopy },
]);

test.describe('with the administrator\'s list', () => {
  test.use({ modules: { file: modulesFile } });

  test('the module is a choice from the list (name and path), with the lab\'s module; no path can be typed', async ({ app }) => {
    const page = app.page;
    await app.waitForPartition('Tessera Lab');
    const choices = page.getByRole('group', { name: 'PKCS#11 module' });
    await expect(choices.getByRole('radio')).toHaveCount(3);
    await expect(choices.getByRole('listitem').filter({ hasText: 'Training lab (SoftHSM2)' })).toContainText(SOFTHSM_MODULE);
    await expect(choices.getByRole('radio', { name: /Training lab \(SoftHSM2\)/ })).toBeChecked();
    await expect(choices.getByRole('listitem').filter({ hasText: 'Crashing module' })).toContainText(crash);
    await expect(page.getByRole('textbox', { name: 'PKCS#11 module' })).toHaveCount(0);
    await expect(page.locator('input[type="text"]#module-path')).toHaveCount(0);
    // A module a desktop user could replace is shown, not offered, with the reason.
    await expect(choices.getByRole('radio', { name: /SoftHSM2 in an open folder/ })).toBeDisabled();
    await expect(choices.getByRole('listitem').filter({ hasText: 'SoftHSM2 in an open folder' })).toContainText(`Refused: ${openFolder} can be changed by every user of this workstation (mode 0777).`);
  });

  test('a listed module that crashes when loaded is refused with the reason, and the terminal carries on', async ({ app }) => {
    const page = app.page;
    await app.waitForPartition('Tessera Lab');
    const choices = page.getByRole('group', { name: 'PKCS#11 module' });
    await choices.getByRole('radio', { name: /Crashing module/ }).check();
    await page.getByRole('button', { name: 'Open module' }).click();
    await expect(page.getByRole('alert').filter({ hasText: 'This library is not a usable PKCS#11 module (it crashed when loaded).' })).toBeVisible();
    await choices.getByRole('radio', { name: /Training lab \(SoftHSM2\)/ }).check();
    await page.getByRole('button', { name: 'Open module' }).click();
    await expect(page.getByRole('list', { name: 'Partitions' }).getByRole('button', { name: /^Use “Tessera Lab”/ })).toBeVisible();
    await expect(page.getByRole('alert')).toHaveCount(0);
  });
});

test.describe('without a list', () => {
  test.use({ modules: { file: '/nonexistent/tessera/modules.json', labModule: null } });

  test('says plainly that no module may be used and what the administrator must do', async ({ app }) => {
    const page = app.page;
    await expect(page.getByText(/^No PKCS#11 module may be used on this workstation yet\. There is no list of approved modules at \/nonexistent\/tessera\/modules\.json\. The workstation's administrator must create it, owned by root and writable by root only/)).toBeVisible();
    await expect(page.getByRole('group', { name: 'PKCS#11 module' }).getByRole('radio')).toHaveCount(0);
    await expect(page.getByRole('button', { name: 'Open module' })).toBeDisabled();
    // Not even the lab's partition, named as the default, is opened through a module off the list.
    await expect(page.getByRole('alert')).toContainText(`The module ${SOFTHSM_MODULE} is not on this workstation's list of approved PKCS#11 modules.`);
  });
});
