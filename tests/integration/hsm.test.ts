// Core against the lab's SoftHSM2 partition, checked with OpenSC's pkcs11-tool as the
// independent client.
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TesseraError } from '../../src/core/errors';
import { A, type AttributeSpec } from '../../src/core/hsm/attributes';
import { CKA, CKO } from '../../src/core/hsm/constants';
import type { Terminal } from '../../src/core/terminal';
import { LAB_USER_PIN } from '../lab/lab';
import { LONG_LABEL, SAMPLE_KEYS } from '../lab/seed';
import { type ListedObject, lab, openTerminal, parseObjectList, pkcs11Tool } from './support';

let terminal: Terminal;
const state = lab.state();

async function failure(promise: Promise<unknown> | (() => unknown)): Promise<TesseraError> {
  try {
    await (typeof promise === 'function' ? promise() : promise);
  } catch (error) {
    if (error instanceof TesseraError) return error;
    throw error;
  }
  throw new Error('expected a TesseraError, but the call succeeded');
}

const key = (o: { kind?: string; class?: string; label: string; id: string }): string => `${o.kind ?? o.class}|${o.label}|${o.id}`;

beforeAll(async () => {
  terminal = await openTerminal();
  await terminal.partition.selectByLabel(state.modulePath, state.tokenLabel);
});

afterAll(() => terminal.close());

describe('partition status', () => {
  it('agrees with pkcs11-tool on label, serial, model and PIN lengths, in plain words', () => {
    const view = terminal.partition.view();
    const listing = pkcs11Tool(['--list-token-slots']);
    const block = listing.split(/\nSlot /).find((b) => b.includes(`token label        : ${state.tokenLabel}\n`)) as string;
    expect(block).toBeDefined();
    expect(view.token.serial).toBe(/serial num\s+: (\S+)/.exec(block)?.[1]);
    expect(view.token.model).toBe(/token model\s+: (.+)/.exec(block)?.[1]?.trim());
    expect(`${view.token.pinLength.min}/${view.token.pinLength.max}`).toBe(/pin min\/max\s+: (\S+)/.exec(block)?.[1]);
    expect(view.token.flags).toEqual(expect.arrayContaining(['Login required', 'User PIN initialised', 'Initialised', 'Has a random number generator']));
    expect(view.token.userPin.condition).toBe('ok');
    expect(view.token.loggedIn).toBe(false);
  });

  it('lists the mechanisms pkcs11-tool lists', () => {
    const listed = pkcs11Tool(['--list-mechanisms', '--token-label', state.tokenLabel])
      .split('\n')
      .map((l) => /^\s+(\S+?),?(\s|$)/.exec(l)?.[1])
      .filter((n): n is string => !!n);
    const mechanisms = terminal.partition.view().mechanisms;
    expect(listed.length).toBeGreaterThan(20);
    for (const name of listed) {
      // pkcs11-tool writes AES-CBC for CKM_AES_CBC, and mechtype-0x210A for mechanisms it does not name.
      const type = /^mechtype-0x([0-9A-F]+)$/i.exec(name)?.[1];
      const found = type ? mechanisms.some((m) => m.type === parseInt(type, 16)) : mechanisms.some((m) => m.name === `CKM_${name.replaceAll('-', '_')}`);
      expect(found, name).toBe(true);
    }
    expect(mechanisms).toHaveLength(listed.length);
    expect(mechanisms.find((m) => m.name === 'CKM_AES_KEY_WRAP_PAD')?.flags).toEqual(expect.arrayContaining(['wrap', 'unwrap']));
  });

  it('remembers the chosen partition for the next start', async () => {
    const again = await openTerminal(terminal.home);
    try {
      expect((await again.partition.current())?.token.serial).toBe(terminal.partition.view().token.serial);
    } finally {
      await again.close();
    }
  });
});

describe('object inventory', () => {
  it('lists exactly the public objects pkcs11-tool sees without login', async () => {
    const ours = (await terminal.partition.objects()).map(key).sort();
    const theirs = parseObjectList(pkcs11Tool(['--token-label', state.tokenLabel, '--list-objects'])).map(key).sort();
    expect(ours).toEqual(theirs);
    expect(ours.some((k) => k.startsWith('private-key'))).toBe(false);
  });

  it('after a crypto-officer login, lists every object pkcs11-tool sees with login, with sizes and protection', async () => {
    await terminal.partition.login(Buffer.from(LAB_USER_PIN));
    try {
      const objects = await terminal.partition.objects();
      const theirs: ListedObject[] = parseObjectList(pkcs11Tool(['--token-label', state.tokenLabel, '--login', '--pin', LAB_USER_PIN, '--list-objects']));
      expect(objects.map(key).sort()).toEqual(theirs.map(key).sort());
      for (const sample of SAMPLE_KEYS) {
        const kind = sample.kind === 'aes' ? 'secret-key' : 'private-key';
        const found = objects.find((o) => o.class === kind && o.label === sample.label);
        expect(found, sample.label).toBeDefined();
        expect(found?.size).toBe({ rsa: 2048, ec: 256, aes: 256 }[sample.kind]);
        expect(found?.extractable).toBe(sample.extractable);
        expect(found?.sensitive).toBe(true);
        expect(found?.keyType).toBe({ rsa: 'RSA', ec: 'EC', aes: 'AES' }[sample.kind]);
      }
      const long = objects.find((o) => o.label === LONG_LABEL);
      expect([...(long?.label ?? '')]).toHaveLength(64);
      expect(objects.find((o) => o.class === 'certificate')?.label).toBe('Lab Root CA');
      // Other data objects (the terminal's own records) may be there too, depending on what ran before.
      expect(objects.filter((o) => o.class === 'data').map((o) => o.label)).toContain('Partition Notes');
    } finally {
      await terminal.partition.logout();
    }
  });

  it('searches the partition off the main thread, seeing what the crypto officer\'s own session sees: private keys only after the login', async () => {
    const privateKeys = [{ type: CKA.CLASS, value: CKO.PRIVATE_KEY }];
    const count = (listing: string): number => listing.split('\n').filter((l) => l.startsWith('Private Key Object')).length;
    expect(await terminal.partition.find(privateKeys)).toEqual([]);
    await terminal.partition.login(Buffer.from(LAB_USER_PIN));
    try {
      const found = await terminal.partition.find(privateKeys);
      const theirs = count(pkcs11Tool(['--token-label', state.tokenLabel, '--login', '--pin', LAB_USER_PIN, '--list-objects', '--type', 'privkey']));
      expect(found).toHaveLength(theirs);
      expect(found.map((h) => h.toString('hex')).sort()).toEqual(terminal.partition.coSession().findAll(privateKeys).map((h) => h.toString('hex')).sort());
      const [sample] = SAMPLE_KEYS.filter((k) => k.kind === 'rsa');
      const byLabel = await terminal.partition.find([...privateKeys, { type: CKA.LABEL, value: sample?.label ?? '' }]);
      expect(byLabel).toHaveLength(1);
    } finally {
      await terminal.partition.logout();
    }
  });

  it('shows one object\'s full public attribute set, and never key material', async () => {
    await terminal.partition.login(Buffer.from(LAB_USER_PIN));
    try {
      const objects = await terminal.partition.objects();
      const rsaPublic = objects.find((o) => o.class === 'public-key' && o.label === 'Signing Key 2026');
      const details = await terminal.partition.details(rsaPublic?.uri as string);
      const attribute = (name: string): string | undefined => details.attributes.find((a) => a.name === name)?.value;
      expect(attribute('public exponent')).toBe('010001');
      expect(attribute('modulus')).toHaveLength(512);
      expect(attribute('modulus bits')).toBe('2048');
      expect(attribute('start date')).toBe('not set');
      // The modulus pkcs11-tool reads from the same key.
      const read = pkcs11Tool(['--token-label', state.tokenLabel, '--read-object', '--type', 'pubkey', '--id', '01']);
      expect(read.length).toBeGreaterThan(0);

      const aes = objects.find((o) => o.label === 'Data Encryption Key');
      const secret = await terminal.partition.details(aes?.uri as string);
      expect(secret.attributes.map((a) => a.type)).not.toContain(0x11);
      expect(secret.withheld.map((w) => w.name)).toContain('key value');
      expect(secret.attributes.find((a) => a.name === 'check value')?.value).toMatch(/^[0-9a-f]{6}$/);
    } finally {
      await terminal.partition.logout();
    }
  });

  it('never reads key material, whether a template was checked before or changed since', async () => {
    await terminal.partition.login(Buffer.from(LAB_USER_PIN));
    try {
      const session = terminal.partition.coSession();
      const [aes] = session.findAll([{ type: CKA.CLASS, value: CKO.SECRET_KEY }]);
      if (!aes) throw new Error('the lab partition holds no secret key');
      const refusal = (specs: readonly AttributeSpec[], objectClass: number): string | undefined => {
        try {
          session.read(aes, specs, objectClass);
        } catch (error) {
          return error instanceof TesseraError ? `${error.code}: ${error.message}` : String(error);
        }
        return undefined;
      };
      // A frozen template is checked once per object class: CKA_VALUE is a certificate's DER, but a
      // secret key's key material, so the same template passes for one and is refused for the other.
      const value = Object.freeze([A.label, A.certificateValue]);
      expect(refusal(value, CKO.CERTIFICATE)).toBeUndefined();
      expect(refusal(value, CKO.SECRET_KEY)).toBe('INTERNAL: The terminal refused to read key material.');
      expect(refusal(value, CKO.SECRET_KEY)).toBe('INTERNAL: The terminal refused to read key material.');
      // An array that is not frozen is checked at every read: changed after a read, it is refused.
      const open: AttributeSpec[] = [A.label];
      expect(refusal(open, CKO.SECRET_KEY)).toBeUndefined();
      open.push(A.certificateValue);
      expect(refusal(open, CKO.SECRET_KEY)).toBe('INTERNAL: The terminal refused to read key material.');
    } finally {
      await terminal.partition.logout();
    }
  });

  it('refuses a malformed or foreign object address with clear words', async () => {
    expect((await failure(terminal.partition.details('pkcs11:object=x'))).code).toBe('INVALID_REQUEST');
    const other = await failure(terminal.partition.details('pkcs11:token=x;serial=nope;object=a;id=%01;type=public'));
    expect(other.code).toBe('OBJECT_NOT_FOUND');
    expect(other.message).toMatch(/another partition/);
    const serial = terminal.partition.view().token.serial;
    expect((await failure(terminal.partition.details(`pkcs11:token=x;serial=${serial};object=gone;id=%99;type=public`))).code).toBe('OBJECT_NOT_FOUND');
  });
});

describe('choosing a module and partition', () => {
  it('explains a missing module, a file that is not a PKCS#11 module and a missing partition', async () => {
    const missing = await failure(() => terminal.partition.openModule('/nonexistent/libpkcs11.so'));
    expect(missing.code).toBe('MODULE_NOT_FOUND');
    expect(missing.message).toContain('/nonexistent/libpkcs11.so');

    const dir = mkdtempSync(join(tmpdir(), 'not-a-module-'));
    writeFileSync(join(dir, 'fake.so'), 'not a library');
    expect((await failure(() => terminal.partition.openModule(join(dir, 'fake.so')))).code).toBe('MODULE_INVALID');
    copyFileSync('/usr/lib/x86_64-linux-gnu/libz.so.1', join(dir, 'libz.so'));
    const wrongLibrary = await failure(() => terminal.partition.openModule(join(dir, 'libz.so')));
    expect(wrongLibrary.code).toBe('MODULE_INVALID');
    expect(wrongLibrary.detail).toMatch(/C_GetFunctionList/);
    expect((await failure(() => terminal.partition.openModule(dir))).code).toBe('MODULE_INVALID');

    const token = await failure(() => terminal.partition.select(state.modulePath, 'no-such-serial'));
    expect(token.code).toBe('TOKEN_NOT_FOUND');
    expect((await failure(() => terminal.partition.selectByLabel(state.modulePath, 'No Such Partition'))).code).toBe('TOKEN_NOT_FOUND');
  });

  it('sees a partition created after it started, and names partitions by label and serial', async () => {
    const label = `IT ${Date.now().toString(36)}`;
    const created = await lab.newPartition(label);
    const choice = await terminal.partition.openModule(state.modulePath);
    expect(choice.tokens).toContainEqual(expect.objectContaining({ label, serial: created.serial }));
    expect(choice.uninitialisedSlots).toBe(1);
    for (const token of choice.tokens) expect(Object.keys(token).sort()).toEqual(['label', 'labelHex', 'manufacturer', 'model', 'serial']);
  });
});

describe('crypto-officer login', () => {
  it('refuses a wrong PIN in officers\' words, and audits every attempt without the PIN', async () => {
    const fresh = await openTerminal();
    try {
      await fresh.partition.selectByLabel(state.modulePath, state.tokenLabel);
      const wrong = await failure(fresh.partition.login(Buffer.from('not-the-pin')));
      expect(wrong.code).toBe('PIN_INCORRECT');
      expect(wrong.message).toMatch(/^The PIN is wrong\./);
      expect(wrong.detail).toContain('CKR_PIN_INCORRECT');
      expect(fresh.partition.view().token.loggedIn).toBe(false);

      const pin = Buffer.from(LAB_USER_PIN);
      const view = await fresh.partition.login(pin);
      expect(view.token.loggedIn).toBe(true);
      expect([...pin].every((b) => b === 0)).toBe(true);
      await fresh.partition.logout();

      const entries = fresh.audit.list(10);
      expect(entries.map((e) => `${e.action}:${e.outcome}`)).toEqual(['partition.logout:ok', 'audit.seal:ok', 'partition.login:ok', 'partition.login:failed']);
      expect(entries[3]?.details).toMatchObject({ error: 'PIN_INCORRECT' });
      expect(entries[3]?.target).toContain(fresh.partition.view().token.serial);
      expect((await fresh.audit.verify()).intact).toBe(true);
      const db = readFileSync(join(fresh.home, 'tessera.db')).toString('latin1') + readFileSync(join(fresh.home, 'tessera.db-wal')).toString('latin1');
      expect(db).not.toContain('not-the-pin');
      expect(db).not.toContain(LAB_USER_PIN);
    } finally {
      await fresh.close();
    }
  });

});
