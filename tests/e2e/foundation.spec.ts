import { execFileSync } from 'node:child_process';
import { LAB_USER_PIN } from '../lab/lab';
import { LONG_LABEL } from '../lab/seed';
import { expect, lab, noCards, test } from './app-driver';

const state = lab.state();

function labSerial(): string {
  const out = execFileSync('softhsm2-util', ['--show-slots'], { env: { ...process.env, SOFTHSM2_CONF: state.softhsmConf }, encoding: 'utf8' });
  const block = out.split('Slot ').find((b) => new RegExp(`Label:\\s+${state.tokenLabel}\\s*$`, 'm').test(b)) as string;
  return /Serial number:\s+(\S+)/.exec(block)?.[1] as string;
}

test('the dashboard shows the lab partition by label and serial, with its PIN status in words', async ({ app }) => {
  await app.waitForPartition(state.tokenLabel);
  const page = app.page;
  const token = page.getByRole('region', { name: 'Token', exact: true });
  await expect(token).toContainText(labSerial());
  await expect(token).toContainText('SoftHSM');
  await expect(page.getByRole('region', { name: 'PIN status' })).toContainText('Crypto officer (user) PIN');
  await expect(page.getByRole('region', { name: 'PIN status' })).toContainText('OK');
  await expect(page.getByRole('banner')).toContainText(`Partition “${state.tokenLabel}” · serial ${labSerial()}`);
  await expect(page.getByRole('region', { name: 'Token flags' })).toContainText('Login required');
  await page.getByText(/^Mechanisms \(\d+\)$/).click();
  await expect(page.getByRole('cell', { name: 'CKM_AES_KEY_WRAP_PAD' })).toBeVisible();
  await app.goTo('Credentials');
  await expect(page.getByRole('heading', { level: 1, name: 'Credentials' })).toBeVisible();
  await app.goTo('Policy');
  await expect(page.getByRole('heading', { level: 1, name: 'Partition policy' })).toBeVisible();
  await expect(page.getByRole('note', { name: 'Who enforces the policy' })).toContainText('other applications with the crypto-officer PIN are not held to it');
  await app.goTo('Backup');
  await expect(page.getByRole('heading', { level: 1, name: 'Backup and restore' })).toBeVisible();
  await expect(page.getByText('Log in as crypto officer (Partition) to back up')).toBeVisible();
});

test('a wrong crypto-officer PIN gives a clear error; the right one logs in; both are audited', async ({ app }) => {
  await app.waitForPartition(state.tokenLabel);
  const page = app.page;
  await app.logIn('not-the-pin');
  await expect(page.getByRole('alert')).toContainText('PIN not accepted: The PIN is wrong.');
  await expect(page.getByLabel('Crypto-officer PIN')).toHaveValue('');
  await expect(page.getByRole('alert')).not.toContainText('not-the-pin');
  await page.getByRole('alert').getByText('Technical detail').click();
  await expect(page.getByRole('alert')).toContainText('CKR_PIN_INCORRECT');

  await app.logIn(LAB_USER_PIN);
  await expect(page.getByText('Logged in as crypto officer.')).toBeVisible();
  await expect(page.getByRole('banner')).toContainText('Crypto officer logged in');
  // The PIN left the page with the request: nothing on the page holds it any more.
  expect(await page.content()).not.toContain(LAB_USER_PIN);
  expect(await page.evaluate(() => [...document.querySelectorAll('input')].map((i) => i.value).join('|'))).not.toContain(LAB_USER_PIN);

  await app.goTo('Audit');
  await expect(page.getByText(/Log intact: all 2 entries verified/)).toBeVisible();
  const rows = page.getByRole('table', { name: 'Audit entries' }).getByRole('row');
  await expect(rows.nth(1)).toContainText('partition.login');
  await expect(rows.nth(1)).toContainText('Done');
  await expect(rows.nth(2)).toContainText('Failed: wrong PIN');
  await expect(rows.nth(2)).toContainText('PIN_INCORRECT');
});

test('inserting and removing a lab card updates the readers panel without a reload', async ({ app }) => {
  const page = app.page;
  await app.goTo('Cards');
  await expect(page.getByRole('list', { name: 'Card readers' }).getByRole('listitem')).toHaveCount(6);
  await page.evaluate(() => ((window as unknown as { marker: number }).marker = 42));
  const inserted = (lab.status().cards as { holder: string; inserted: boolean }[]).filter((c) => c.inserted);
  for (const card of inserted) await lab.remove(card.holder);

  await lab.insert('dave');
  const reader = lab.state().cards.find((c) => c.holder === 'dave')?.reader as string;
  await expect(app.reader(reader)).toContainText('Card inserted');
  await expect(app.reader(reader)).toContainText('ATR 3b95');
  await expect(page.getByRole('banner')).toContainText('cards: 1');
  await lab.remove('dave');
  await expect(app.reader(reader)).toContainText('No card');
  expect(await page.evaluate(() => (window as unknown as { marker?: number }).marker)).toBe(42);
});

test('the key inventory lists the sample keys, filters them, and opens one object', async ({ app }) => {
  const page = app.page;
  await app.waitForPartition(state.tokenLabel);
  await app.goTo('Keys');
  await expect(page.getByRole('status').filter({ hasText: /objects shown/ })).toContainText(/\d+ of \d+ objects shown/);
  await expect(app.objectRows().filter({ hasText: 'TLS Server Key' })).toHaveCount(1);
  await expect(app.objectRows().filter({ hasText: 'Data Encryption Key' })).toHaveCount(0);

  await app.goTo('Partition');
  await app.logIn(LAB_USER_PIN);
  await expect(page.getByText('Logged in as crypto officer.')).toBeVisible();
  await app.goTo('Keys');
  await expect(app.objectRows().filter({ hasText: 'Data Encryption Key' })).toHaveCount(1);
  await expect(app.objectRows().filter({ hasText: LONG_LABEL })).toHaveCount(2);

  await page.getByLabel('Filter').fill('tls');
  await expect(app.objectRows()).toHaveCount(2);
  await page.getByLabel('Class').selectOption('private-key');
  await expect(app.objectRows()).toHaveCount(1);
  await expect(app.objectRows().first()).toContainText('EC');
  await expect(app.objectRows().first()).toContainText('256');
  await page.getByLabel('Filter').fill('');
  await page.getByLabel('Class').selectOption('secret-key');
  await expect(app.objectRows()).toHaveCount(3);
  await expect(app.objectRows().filter({ hasText: 'Master Key Encryption Key' })).toContainText('not extractable');

  // Keyboard only: into the table, down one row, Enter opens the details; Escape closes them.
  await page.getByRole('table', { name: 'Objects in the partition' }).focus();
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('Enter');
  const details = page.getByRole('complementary');
  await expect(details.getByRole('table', { name: 'Attributes' })).toContainText('value length');
  await expect(details).toContainText('key value: key material is never read by the terminal');
  await page.keyboard.press('Escape');
  await expect(details).toHaveCount(0);

  await page.getByLabel('Class').selectOption('all');
  await page.getByRole('columnheader', { name: /Bits/ }).getByRole('button').click();
  await page.getByRole('columnheader', { name: /Bits/ }).getByRole('button').click();
  await expect(page.getByRole('columnheader', { name: /Bits/ })).toHaveAttribute('aria-sort', 'descending');
  await expect(app.objectRows().first()).toContainText('2048');
});

test('opening a row shows that row\'s object, even when another shares its label, id and class; odd label bytes are shown escaped', async ({ app }) => {
  // Issue 13 (token case 06): two AES keys "kek"/07, one AES-256 locked down, one AES-128 extractable;
  // and a label holding ANSI escapes (case 03), which the screen shows as text, never obeys.
  await noCards();
  const partition = await lab.newPartition(`Dups ${Date.now().toString(36)}`);
  const tool = (args: string[]): void => {
    execFileSync('pkcs11-tool', ['--module', partition.modulePath, '--token-label', partition.label, '--login', '--pin', partition.userPin, ...args], { env: { ...process.env, SOFTHSM2_CONF: partition.softhsmConf }, stdio: 'ignore' });
  };
  tool(['--keygen', '--key-type', 'AES:32', '--label', 'kek', '--id', '07', '--sensitive']);
  tool(['--keygen', '--key-type', 'AES:16', '--label', 'kek', '--id', '07', '--extractable']);
  tool(['--keygen', '--key-type', 'AES:16', '--label', '\x1b[31mRED\x1b[0m', '--id', '0b']);
  const page = app.page;
  await app.waitForPartition(state.tokenLabel);
  await page.getByRole('button', { name: 'Open module' }).click();
  await page.getByRole('button', { name: `Use “${partition.label}” (serial ${partition.serial})` }).click();
  await app.waitForPartition(partition.label);
  await app.logIn(partition.userPin);
  await expect(page.getByText('Logged in as crypto officer.')).toBeVisible();
  await app.goTo('Keys');
  await expect(app.objectRows()).toHaveCount(3);

  const details = page.getByRole('complementary');
  const attribute = (name: string) => details.getByRole('table', { name: 'Attributes' }).getByRole('row', { name: new RegExp(`^${name} `) });
  for (const [bits, length, extractable] of [['256', '32', 'no'], ['128', '16', 'yes']] as const) {
    await app.objectRows().filter({ hasText: 'kek' }).filter({ hasText: bits }).click();
    await expect(details.getByRole('heading', { name: 'kek' })).toBeVisible();
    await expect(attribute('value length')).toContainText(length);
    await expect(attribute('extractable')).toContainText(extractable);
    await expect(details).not.toContainText('share this address');
    await page.screenshot({ path: `/tmp/shots-i13-ident/foundation-kek-${bits}.png` });
    await details.getByRole('button', { name: 'Close' }).click();
  }

  const red = app.objectRows().filter({ hasText: '\\x1b[31mRED\\x1b[0m' });
  await expect(red).toHaveCount(1);
  await expect(red.locator('.label-escaped')).toHaveText('\\x1b[31mRED\\x1b[0m');
  await red.click();
  await expect(attribute('id')).toContainText('0b');
  await expect(details.getByRole('heading', { level: 2 })).toHaveText('\\x1b[31mRED\\x1b[0m');
  await page.screenshot({ path: '/tmp/shots-i13-ident/foundation-escaped-label.png' });
});

test('the page cannot reach the core except through the checked contract, nor the network', async ({ app }) => {
  await app.waitForPartition(state.tokenLabel);
  const page = app.page;
  expect(await app.rawInvoke('hsm:login', { pin: 1234 })).toMatchObject({ ok: false, error: { code: 'INVALID_REQUEST' } });
  expect(await app.rawInvoke('hsm:wipeEverything', {})).toMatchObject({ ok: false, error: { code: 'UNKNOWN_CHANNEL' } });
  expect(await app.rawInvoke('keys:details', { ref: 'x'.repeat(9000) })).toMatchObject({ ok: false, error: { code: 'INVALID_REQUEST' } });

  // A subframe (here: one the page makes itself) is refused even with a well-formed request.
  const fromFrame = await page.evaluate(async () => {
    const frame = document.createElement('iframe');
    document.body.appendChild(frame);
    const ipc = (frame.contentWindow as unknown as { __tesseraIpc?(c: string, p: unknown): Promise<unknown> }).__tesseraIpc;
    return ipc ? ipc('app:info', {}) : 'no door in the subframe';
  });
  expect(JSON.stringify(fromFrame)).toMatch(/FORBIDDEN_SENDER|no door in the subframe/);

  // The CSP forbids eval and inline script; every request outside the app's own files is refused.
  const csp = await page.evaluate(async () => {
    const violations: string[] = [];
    document.addEventListener('securitypolicyviolation', (e) => violations.push(e.violatedDirective));
    const script = document.createElement('script');
    script.textContent = 'window.inlineRan = true';
    document.body.appendChild(script);
    setTimeout('window.stringTimerRan = true', 0);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const w = window as unknown as { inlineRan?: boolean; stringTimerRan?: boolean };
    return { inline: w.inlineRan === true, stringTimer: w.stringTimerRan === true, violations };
  });
  expect(csp).toEqual({ inline: false, stringTimer: false, violations: expect.arrayContaining(['script-src-elem', 'script-src']) });
  expect(app.chromium.blocked).toEqual([]);
  const fetched = await page.evaluate(() => fetch('https://example.com/').then(() => 'reached', () => 'refused'));
  expect(fetched).toBe('refused');
  expect(await page.evaluate(() => typeof (window as unknown as { require?: unknown }).require)).toBe('undefined');
  expect(await page.evaluate(() => typeof (window as unknown as { process?: unknown }).process)).toBe('undefined');
});
