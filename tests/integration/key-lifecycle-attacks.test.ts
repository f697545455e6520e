// Attacks on the key lifecycle and the partition policy (issue 11), as a malicious insider would try
// them: a crypto-officer session with another tool (pkcs11-tool, a bare PKCS#11 client), write access
// to the terminal's database, or a crash at a chosen step. Each test asserts the SAFE behaviour:
// "what held" passes today; "what broke" fails today, naming the hole it proves.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/core/store/database';
import type { InvalidatedKeyView, PolicyView } from '../../src/shared/types';
import { seedPartition } from '../lab/seed';
import { removeAll } from './ceremony-driver';
import { lab, parseObjectList, pkcs11Tool, root, tempHome, tessera } from './support';

const tag = Date.now().toString(36);
const cards = ['ka-a', 'ka-b', 'ka-c'];
const cardPins = ['ka-pin-4141', 'ka-pin-5252', 'ka-pin-6363'];
const BACKUP_CARD = 'ka-oz';
const BACKUP_PIN = 'ka-oz-pin-7474';
const TRASH = 'Tessera invalidated key';
const POLICY = 'Tessera partition policy';

let label: string;
let serial: string;
let userPin: string;
let soPin: string;
let home: string;
/** Everything the CLI printed, searched for secrets at the end. */
const printed: string[] = [];

async function only(...inserted: string[]): Promise<void> {
  await removeAll();
  for (const card of inserted) await lab.insert(card);
}
const pinsOf = (...inserted: string[]): string => inserted.map((c) => `${cardPins[cards.indexOf(c)]}\n`).join('');

function cli(args: string[], fds: string[] = [], env: Record<string, string> = {}): ReturnType<typeof tessera> {
  const r = tessera([...args, '--token', label], { home, fds, env });
  printed.push(r.stdout, r.stderr);
  return r;
}
const invalidate = (id: string, env: Record<string, string> = {}): ReturnType<typeof tessera> => cli(['keys', 'invalidate', '--id', id, '--pin-fd', '3', '--json'], [`${userPin}\n`], env);
const bin = (): InvalidatedKeyView[] => {
  const r = cli(['keys', 'invalidated', '--pin-fd', '3', '--json'], [`${userPin}\n`]);
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as InvalidatedKeyView[];
};
const reactivate = (id: string, inserted: string[]): ReturnType<typeof tessera> => cli(['keys', 'reactivate', '--id', id, '--pin-fd', '3', '--pins-from', '4', '--wait', '6', '--json'], [`${userPin}\n`, pinsOf(...inserted)]);
const destroy = (ids: string, inserted: string[]): ReturnType<typeof tessera> => cli(['keys', 'destroy', '--id', ids, '--pin-fd', '3', '--pins-from', '4', '--wait', '6', '--json'], [`${userPin}\n`, pinsOf(...inserted)]);
const policyView = (): PolicyView => JSON.parse(cli(['policy', 'show', '--json']).stdout) as PolicyView;
const setPolicy = (changes: string[], inserted: string[], env: Record<string, string> = {}): ReturnType<typeof tessera> => cli(['policy', 'set', ...changes, '--pins-from', '3', '--wait', '10', '--json'], [pinsOf(...inserted)], env);

const keysIn = (): string => pkcs11Tool(['--token-label', label, '--login', '--pin', userPin, '--list-objects']);
const idsIn = (): string[] => [...keysIn().matchAll(/^\s+ID:\s+([0-9a-f]+)/gm)].map((m) => m[1] as string);
function attributesOf(id: string): string {
  const blocks = keysIn().split(/\n(?=\S)/);
  return blocks.filter((b) => new RegExp(`^\\s+ID:\\s+${id}$`, 'm').test(b) && /Key Object/.test(b)).join('\n');
}

/** A bare PKCS#11 client (another application with the crypto-officer PIN), in a process of its own. */
const RAW = `
const pkcs11js = require('pkcs11js');
const [modulePath, label, pin, op, arg] = process.argv.slice(1);
const a = JSON.parse(arg);
const p = new pkcs11js.PKCS11();
p.load(modulePath);
p.C_Initialize();
try {
  const slot = p.C_GetSlotList(true).find((s) => p.C_GetTokenInfo(s).label.trimEnd() === label);
  const s = p.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
  p.C_Login(s, pkcs11js.CKU_USER, pin);
  const data = [{ type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_DATA }, { type: pkcs11js.CKA_PRIVATE, value: a.private }, { type: pkcs11js.CKA_APPLICATION, value: 'Tessera' }, { type: pkcs11js.CKA_LABEL, value: a.label }];
  if (op === 'create') {
    p.C_CreateObject(s, [...data, { type: pkcs11js.CKA_TOKEN, value: true }, { type: pkcs11js.CKA_MODIFIABLE, value: a.modifiable }, { type: pkcs11js.CKA_VALUE, value: Buffer.from(a.value, 'utf8') }]);
  } else if (op === 'destroy') {
    p.C_FindObjectsInit(s, data);
    const handles = p.C_FindObjects(s, 100);
    p.C_FindObjectsFinal(s);
    for (const h of handles) {
      const v = p.C_GetAttributeValue(s, h, [{ type: pkcs11js.CKA_VALUE }])[0].value.toString('utf8');
      if (!a.contains || v.includes(a.contains)) p.C_DestroyObject(s, h);
    }
  }
  p.C_Logout(s);
  p.C_CloseSession(s);
} finally {
  p.C_Finalize();
}
`;
function raw(op: 'create' | 'destroy', arg: Record<string, unknown>): void {
  const state = lab.state();
  execFileSync(process.execPath, ['-e', RAW, state.modulePath, label, userPin, op, JSON.stringify(arg)], { cwd: root, env: { ...process.env, SOFTHSM2_CONF: state.softhsmConf }, stdio: ['ignore', 'pipe', 'pipe'] });
}
/** A trash-bin record as the terminal writes them, for `id`, with `objects` as the forger chooses. */
function trashRecord(id: string, keyLabel: string, objects: { class: string; keyType: string | null; label: string; usage: Record<string, boolean> }[], partition = serial): string {
  return JSON.stringify({ format: 'tessera-invalidated-key-v1', partition, id, label: keyLabel, objects, by: 'mallory (pkcs11-tool)', at: '2020-01-01T00:00:00.000Z' });
}
const plantTrash = (value: string, modifiable = false): void => raw('create', { private: true, modifiable, label: TRASH, value });
const db = (): ReturnType<typeof openDatabase> => openDatabase(join(home, 'tessera.db'));

beforeAll(async () => {
  await lab.up();
  await removeAll();
  const created = await lab.newPartition(`KA ${tag}`);
  ({ label, serial, userPin, soPin } = created);
  seedPartition(created.modulePath, created.softhsmConf, label, userPin);
  home = tempHome();
  for (const card of [...cards, BACKUP_CARD]) {
    if (lab.state().cards.some((c) => c.holder === card)) await lab.blankCard(card);
    else await lab.newCard(card);
  }
  await only(...cards);
  const adopted = tessera(['adopt', '--token', label, '--holders', 'alice,bob,carol', '--threshold', '2', '--so-pin-fd', '3', '--pins-from', '4', '--wait', '15', '--json'], { home, fds: [`${created.soPin}\n`, pinsOf(...cards)] });
  printed.push(adopted.stdout, adopted.stderr);
  expect(adopted.status, adopted.stderr).toBe(0);
}, 240_000);

afterAll(async () => {
  await removeAll();
});

describe('what held', () => {
  it('a crash after the record is written and before the usages are turned off: the next invalidate finishes from the record, nothing lost', () => {
    const killed = invalidate('12', { TESSERA_TEST_CRASH_AT: 'key-invalidate:recorded' });
    expect(killed.signal).toBe('SIGKILL');
    // The key is still usable, its record in the bin: listed as such.
    expect(bin().find((k) => k.id === '12')).toMatchObject({ state: 'usable-again' });
    const again = invalidate('12');
    expect(again.status, again.stderr).toBe(0);
    const view = bin().find((k) => k.id === '12');
    expect(view).toMatchObject({ state: 'invalidated', problem: null, recordedOn: ['partition', 'terminal'] });
    expect(view?.objects.find((o) => o.class === 'private-key')?.usage).toMatchObject({ CKA_SIGN: true });
  }, 120_000);

  it('an invalidated_keys row edited in the database (a usage added) makes the reactivation refuse before any card', () => {
    const d = db();
    const row = d.prepare("SELECT invalidated_at, record FROM invalidated_keys WHERE token_serial = ? AND key_id = '12' AND state = 'invalidated'").get(serial) as { invalidated_at: string; record: string };
    const edited = JSON.parse(row.record) as { objects: { class: string; usage: Record<string, boolean> }[] };
    // A usage the key did not have, turned on in the database's record.
    const off = edited.objects.flatMap((o) => Object.entries(o.usage).filter(([, v]) => !v).map(([name]) => ({ o, name })))[0];
    expect(off).toBeTruthy();
    if (off) off.o.usage[off.name] = true;
    d.prepare("UPDATE invalidated_keys SET record = ? WHERE token_serial = ? AND key_id = '12' AND invalidated_at = ?").run(JSON.stringify(edited), serial, row.invalidated_at);
    d.close();
    const before = attributesOf('12');
    const r = reactivate('12', []);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/differs from this terminal's/);
    expect(attributesOf('12')).toBe(before);
    const back = db();
    back.prepare("UPDATE invalidated_keys SET record = ? WHERE token_serial = ? AND key_id = '12' AND invalidated_at = ?").run(row.record, serial, row.invalidated_at);
    back.close();
    expect(bin().find((k) => k.id === '12')).toMatchObject({ state: 'invalidated', problem: null });
  }, 120_000);

  it('modifiable, malformed and other-partition trash records are shown as not trusted and bring no key into the bin', () => {
    const objects = [{ class: 'private-key', keyType: 'EC', label: 'x', usage: { CKA_SIGN: true } }];
    plantTrash(trashRecord('13', 'x', objects), true);
    plantTrash(trashRecord('13', 'x', objects, '0000000000000000'));
    plantTrash('{"format":"tessera-invalidated-key-v1","junk":');
    const listed = bin();
    expect(listed.filter((k) => k.id === '13')).toEqual([]);
    expect(listed.filter((k) => k.label === '(unreadable record)')).toHaveLength(3);
    const r = reactivate('13', []);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/No key with id 13 is in the trash bin/);
    const d = destroy('13', []);
    expect(d.status).toBe(1);
    expect(d.stderr).toMatch(/is not in the trash bin/);
    expect(idsIn()).toContain('13');
    raw('destroy', { private: true, label: TRASH, contains: '"id":"13"' });
    raw('destroy', { private: true, label: TRASH, contains: '"junk"' });
    expect(bin().filter((k) => k.label === '(unreadable record)')).toEqual([]);
  }, 120_000);

  it("the partition's audit key and an id shared by several keys are refused", () => {
    const auditKey = parseObjectList(keysIn()).find((o) => o.kind === 'private-key' && o.label === 'Tessera audit key');
    expect(auditKey?.id).toBeTruthy();
    const r = invalidate(auditKey?.id as string);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/is the partition's audit key/);
    // A secret key planted with the id of a key pair.
    pkcs11Tool(['--token-label', label, '--login', '--pin', userPin, '--keygen', '--key-type', 'AES:32', '--id', '13', '--label', 'planted']);
    const shared = invalidate('13');
    expect(shared.status).toBe(1);
    expect(shared.stderr).toMatch(/More than one key has id 13/);
    pkcs11Tool(['--token-label', label, '--login', '--pin', userPin, '--delete-object', '--type', 'secrkey', '--label', 'planted']);
  }, 120_000);

  it('look-alike policy objects, a replayed version and edited database copies change nothing and are reported', async () => {
    await only('ka-a', 'ka-b');
    const set = setPolicy(['approvals.co-pin-reset=3'], ['ka-a', 'ka-b']);
    expect(set.status, set.stderr).toBe(0);
    const d = db();
    const genuine = (d.prepare('SELECT record FROM policies WHERE token_serial = ? AND version = 1').get(serial) as { record: string }).record;
    d.close();
    const parsed = JSON.parse(genuine) as { version: number; partition: string; policy: { settings: Record<string, boolean> } };
    // A replay of the genuine version as a second object: the same record, nothing changes.
    raw('create', { private: false, modifiable: false, label: POLICY, value: genuine });
    // The genuine record, made modifiable; a higher version with the old signature; another partition's serial.
    raw('create', { private: false, modifiable: true, label: POLICY, value: JSON.stringify({ ...parsed, version: 9 }) });
    raw('create', { private: false, modifiable: false, label: POLICY, value: JSON.stringify({ ...parsed, version: 2, policy: { ...parsed.policy, settings: { ...parsed.policy.settings, 'read-only': true } } }) });
    raw('create', { private: false, modifiable: false, label: POLICY, value: JSON.stringify({ ...parsed, partition: '0000000000000000' }) });
    let view = policyView();
    expect(view).toMatchObject({ version: 1, source: 'partition', policy: { approvals: { 'co-pin-reset': 3 }, settings: { 'read-only': false } } });
    expect(view.problems.join('\n')).toMatch(/it is modifiable/);
    expect(view.problems.join('\n')).toMatch(/signature does not verify/);
    expect(view.problems.join('\n')).toMatch(/written for another partition/);
    expect(view.problems.join('\n')).not.toMatch(/two different signed policies/);
    // The database: the genuine copy edited, and a forged version 2 added.
    const e = db();
    e.prepare('UPDATE policies SET record = ? WHERE token_serial = ? AND version = 1').run(JSON.stringify({ ...parsed, policy: { ...parsed.policy, settings: { ...parsed.policy.settings, 'key-export': false } } }), serial);
    e.prepare('INSERT INTO policies (token_serial, version, record, recorded_at) VALUES (?, 2, ?, ?)').run(serial, JSON.stringify({ ...parsed, version: 2 }), new Date().toISOString());
    e.close();
    view = policyView();
    expect(view).toMatchObject({ version: 1, policy: { settings: { 'key-export': true } } });
    expect(view.problems.join('\n')).toMatch(/The terminal's copy of a policy version is not trusted/);
    const f = db();
    f.prepare('DELETE FROM policies WHERE token_serial = ? AND version = 2').run(serial);
    f.prepare('UPDATE policies SET record = ? WHERE token_serial = ? AND version = 1').run(genuine, serial);
    f.close();
    expect(policyView().problems.join('\n')).not.toMatch(/terminal's copy/);
  }, 240_000);

  it('a crash after the policy version is written (policy-set:after-write): the next start says so, and the version is in force and recorded', async () => {
    await only('ka-a', 'ka-b');
    const killed = setPolicy(['approvals.co-pin-reset=2'], ['ka-a', 'ka-b'], { TESSERA_TEST_CRASH_AT: 'policy-set:after-write' });
    expect(killed.signal).toBe('SIGKILL');
    const next = cli(['policy', 'show', '--json']);
    expect(next.stderr).toMatch(/interrupted after it was written to the partition/);
    const view = JSON.parse(next.stdout) as PolicyView;
    expect(view).toMatchObject({ version: 2, policy: { approvals: { 'co-pin-reset': 2 } } });
    const d = db();
    expect((d.prepare('SELECT count(*) AS n FROM policies WHERE token_serial = ?').get(serial) as { n: number }).n).toBe(2);
    d.close();
  }, 240_000);

  it('a crash after the usages are set back (key-reactivate:set): the next start says so, the key is usable, and reactivating again clears its record', async () => {
    expect(invalidate('23').status).toBe(0);
    const invalidated = attributesOf('23');
    await only('ka-a', 'ka-c');
    const first = reactivate('23', ['ka-a', 'ka-c']);
    expect(first.status, first.stderr).toBe(0);
    // The record is gone and the key is back: invalidate once more, then crash at "set".
    expect(invalidate('23').status).toBe(0);
    expect(attributesOf('23')).toBe(invalidated);
    await only('ka-a', 'ka-c');
    const crashed = cli(['keys', 'reactivate', '--id', '23', '--pin-fd', '3', '--pins-from', '4', '--wait', '6', '--json'], [`${userPin}\n`, pinsOf('ka-a', 'ka-c')], { TESSERA_TEST_CRASH_AT: 'key-reactivate:set' });
    expect(crashed.signal).toBe('SIGKILL');
    const listed = cli(['keys', 'invalidated', '--pin-fd', '3', '--json'], [`${userPin}\n`]);
    expect(listed.stderr).toMatch(/A reactivation of key 23 .* was interrupted/);
    expect((JSON.parse(listed.stdout) as InvalidatedKeyView[]).find((k) => k.id === '23')).toMatchObject({ state: 'usable-again' });
    expect(attributesOf('23')).not.toBe(invalidated);
    await only('ka-a', 'ka-c');
    const again = reactivate('23', ['ka-a', 'ka-c']);
    expect(again.status, again.stderr).toBe(0);
    expect(bin().find((k) => k.id === '23')).toBeUndefined();
  }, 240_000);

  it("the backup-signing key is refused on the terminal that made the set", async () => {
    await only(BACKUP_CARD);
    const made = cli(['backup-set', 'create', '--holders', 'oz', '--threshold', '1', '--pins-from', '3', '--pin-fd', '4', '--wait', '10', '--json'], [`${BACKUP_PIN}\n`, `${userPin}\n`]);
    expect(made.status, made.stderr).toBe(0);
    const signing = parseObjectList(keysIn()).find((o) => o.kind === 'private-key' && o.label === 'Tessera backup-signing key');
    expect(signing?.id).toBeTruthy();
    const r = invalidate(signing?.id as string);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/backup-signing key/);
  }, 240_000);

  it('one card offered twice is one approval: a destroy that needs two changes nothing', async () => {
    expect(bin().find((k) => k.id === '12')).toMatchObject({ state: 'invalidated' });
    await only('ka-a');
    const r = cli(['keys', 'destroy', '--id', '12', '--pin-fd', '3', '--pins-from', '4', '--wait', '5', '--json'], [`${userPin}\n`, pinsOf('ka-a', 'ka-a')]);
    expect(r.status).toBe(1);
    expect(idsIn()).toContain('12');
    expect(bin().find((k) => k.id === '12')).toMatchObject({ state: 'invalidated' });
  }, 120_000);

  it('under key-export=off a backup is refused, naming the setting, and nothing is written to the media', async () => {
    await only('ka-a', 'ka-b');
    const set = setPolicy(['key-export=off'], ['ka-a', 'ka-b']);
    expect(set.status, set.stderr).toBe(0);
    const media = mkdtempSync(join(tmpdir(), 'tessera-usb-attack-'));
    const backup = cli(['backup', 'create', '--media', media, '--pin-fd', '3', '--json'], [`${userPin}\n`]);
    expect(backup.status).toBe(1);
    expect(backup.stderr).toMatch(/Key export is off in the partition policy/);
    expect(readdirSync(media)).toEqual([]);
  }, 240_000);
});

describe('what broke (found by the attack, mended)', () => {
  it('a forged trash record planted before "delete" is taken up as what the key was: the reactivation then turns on usages the key never had', async () => {
    const before = attributesOf('21');
    expect(before).not.toMatch(/wrap/);
    // The MKEK encrypts and decrypts; the forger claims it also wrapped, unwrapped, signed and derived.
    const all = { CKA_ENCRYPT: true, CKA_DECRYPT: true, CKA_SIGN: true, CKA_VERIFY: true, CKA_WRAP: true, CKA_UNWRAP: true, CKA_DERIVE: true };
    plantTrash(trashRecord('21', 'Master Key Encryption Key (MKEK)', [{ class: 'secret-key', keyType: 'AES', label: 'Master Key Encryption Key (MKEK)', usage: all }]));
    const r = invalidate('21');
    if (r.status === 0) {
      // Safe: what the bin records is what the key was.
      const record = bin().find((k) => k.id === '21');
      expect.soft(record?.objects[0]?.usage).not.toMatchObject({ CKA_WRAP: true, CKA_UNWRAP: true });
      await only('ka-a', 'ka-b');
      reactivate('21', ['ka-a', 'ka-b']);
    }
    expect(attributesOf('21')).toBe(before);
  }, 240_000);

  it('a forged trash record for a key never invalidated is adopted: an SO-approved "reactivation" gives the live key new usages', async () => {
    const before = attributesOf('22');
    expect(before).not.toMatch(/wrap/);
    // The data encryption key never wrapped, unwrapped or derived; it was never invalidated either.
    const all = { CKA_ENCRYPT: true, CKA_DECRYPT: true, CKA_SIGN: true, CKA_VERIFY: true, CKA_WRAP: true, CKA_UNWRAP: true, CKA_DERIVE: true };
    plantTrash(trashRecord('22', 'Data Encryption Key', [{ class: 'secret-key', keyType: 'AES', label: 'Data Encryption Key', usage: all }]));
    await only('ka-a', 'ka-b');
    reactivate('22', ['ka-a', 'ka-b']);
    // Safe: a key that is not in the bin through an invalidation keeps exactly the usages it has.
    expect(attributesOf('22')).toBe(before);
  }, 240_000);

  it('a forged trash record lets a live key be destroyed while key invalidation is on', async () => {
    expect(idsIn()).toContain('03');
    plantTrash(trashRecord('03', 'Code Signing Root', [{ class: 'private-key', keyType: 'RSA', label: 'Code Signing Root', usage: { CKA_SIGN: true } }]));
    await only('ka-a', 'ka-b');
    const r = destroy('03', ['ka-a', 'ka-b']);
    // Safe: refused, as for any key that was never invalidated ("is not in the trash bin").
    expect(r.status).toBe(1);
    expect(idsIn()).toContain('03');
  }, 240_000);

  it('a trash-bin row added to the database alone lets a live key be destroyed while key invalidation is on', async () => {
    expect(idsIn()).toContain('02');
    const d = db();
    d.prepare("INSERT INTO invalidated_keys (token_serial, key_id, invalidated_at, record, state) VALUES (?, '02', ?, ?, 'invalidated')").run(serial, '2020-01-01T00:00:00.000Z', trashRecord('02', 'Transport Key', [{ class: 'private-key', keyType: 'RSA', label: 'Transport Key', usage: { CKA_SIGN: true } }]));
    d.close();
    await only('ka-a', 'ka-b');
    const r = destroy('02', ['ka-a', 'ka-b']);
    // Safe: refused: the key was never invalidated, and the partition's bin does not hold it.
    expect(r.status).toBe(1);
    expect(idsIn()).toContain('02');
  }, 240_000);

  it('another terminal (or a database without the backup set) invalidates the backup-signing key: backups can no longer be signed', () => {
    const signing = parseObjectList(keysIn()).find((o) => o.kind === 'private-key' && o.label === 'Tessera backup-signing key');
    expect(signing?.id).toBeTruthy();
    const before = attributesOf(signing?.id as string);
    const other = tempHome();
    const r = tessera(['keys', 'invalidate', '--id', signing?.id as string, '--pin-fd', '3', '--json', '--token', label], { home: other, fds: [`${userPin}\n`] });
    printed.push(r.stdout, r.stderr);
    // Safe: the partition's own key (its anchor names it) is refused on any terminal.
    expect(r.status).toBe(1);
    expect(attributesOf(signing?.id as string)).toBe(before);
  }, 120_000);

  it('a trash record removed from the partition, then "delete" again, records the turned-off usages: what the key was is lost', () => {
    expect(invalidate('11').status).toBe(0);
    expect(bin().find((k) => k.id === '11')?.objects.find((o) => o.class === 'private-key')?.usage).toMatchObject({ CKA_SIGN: true });
    // Another application with the crypto-officer PIN removes the record (it is destroyable).
    raw('destroy', { private: true, label: TRASH, contains: '"id":"11"' });
    const again = invalidate('11');
    // Safe: refused (the terminal's record still says what the key was), or the record taken up is that one.
    if (again.status === 0) {
      expect(bin().find((k) => k.id === '11')?.objects.find((o) => o.class === 'private-key')?.usage).toMatchObject({ CKA_SIGN: true });
    }
    const d = db();
    const rows = d.prepare("SELECT state, record FROM invalidated_keys WHERE token_serial = ? AND key_id = '11'").all(serial) as { state: string; record: string }[];
    d.close();
    const open = rows.filter((row) => row.state === 'invalidated').map((row) => JSON.parse(row.record) as { objects: { class: string; usage: Record<string, boolean> }[] });
    expect(open.every((rec) => rec.objects.find((o) => o.class === 'private-key')?.usage.CKA_SIGN === true)).toBe(true);
  }, 120_000);

  it('a destroy intent forged in the database destroys a public key at the next crypto-officer listing, with no approval', () => {
    pkcs11Tool(['--token-label', label, '--login', '--pin', userPin, '--keypairgen', '--key-type', 'EC:prime256v1', '--id', '77', '--label', 'Partner verification key']);
    pkcs11Tool(['--token-label', label, '--login', '--pin', userPin, '--delete-object', '--type', 'privkey', '--id', '77']);
    expect(parseObjectList(keysIn()).filter((o) => o.id === '77').map((o) => o.kind)).toEqual(['public-key']);
    const d = db();
    const now = new Date().toISOString();
    d.prepare("INSERT INTO intents (kind, step, data, done, created_at, updated_at) VALUES ('key-destroy', 'destroying', ?, 0, ?, ?)").run(JSON.stringify({ partition: serial, ids: ['77'], done: [] }), now, now);
    d.close();
    bin();
    // Safe: nothing is destroyed without the approvals the policy asks for.
    expect(parseObjectList(keysIn()).filter((o) => o.id === '77').map((o) => o.kind)).toEqual(['public-key']);
  }, 120_000);
});

describe('secrets', () => {
  it('no PIN appears in anything the CLI printed, in the audit log or in the database files', () => {
    const auditList = cli(['audit', 'list', '--json']).stdout;
    const files = readdirSync(home).filter((f) => f.startsWith('tessera.db')).map((f) => readFileSync(join(home, f)).toString('latin1'));
    const haystacks = [...printed, auditList, ...files];
    for (const secret of [userPin, soPin, ...cardPins, BACKUP_PIN]) {
      expect(haystacks.filter((h) => h.includes(secret)).length, `${secret.slice(0, 3)}…`).toBe(0);
    }
  }, 60_000);
});
