// The key lifecycle and the partition policy on the lab, through the CLI as officers would use it,
// checked from outside with OpenSC's pkcs11-tool: an invalidated key cannot sign but is still
// listed; reactivated, its attributes equal those before and it signs; destroyed, it is gone; a
// destroy with fewer approvals than the policy asks for changes nothing; each policy setting refuses
// what it forbids with nothing written; a policy object written outside the terminal is not trusted;
// a crash in a bulk destroy and in a policy change is recovered.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EnrolmentRecord, InvalidatedKeyView, KeyChangeReport, PolicyChangeReport, PolicyView } from '../../src/shared/types';
import { seedPartition } from '../lab/seed';
import { removeAll } from './ceremony-driver';
import { lab, pkcs11Tool, tempHome, tessera } from './support';

const tag = Date.now().toString(36);
const holders = ['alice', 'bob', 'carol'];
const cards = ['kl-a', 'kl-b', 'kl-c'];
const cardPins = ['kl-pin-1111', 'kl-pin-2222', 'kl-pin-3333'];

let label: string;
let serial: string;
let userPin: string;
let home: string;
let record: EnrolmentRecord;

interface AuditLine {
  action: string;
  outcome: string;
  details: Record<string, unknown>;
}
const audit = (): AuditLine[] => JSON.parse(tessera(['audit', 'list', '--json'], { home }).stdout) as AuditLine[];

/** Only these cards in the readers, in this order (the CLI takes them in reader order). */
async function only(...inserted: string[]): Promise<void> {
  await removeAll();
  for (const card of inserted) await lab.insert(card);
}
const pinsOf = (...inserted: string[]): string => inserted.map((c) => `${cardPins[cards.indexOf(c)]}\n`).join('');

/** pkcs11-tool's view of one key's objects (every attribute it prints for each object with CKA_ID `id`), for before/after comparisons. */
function attributesOf(id: string): string {
  const blocks = pkcs11Tool(['--token-label', label, '--login', '--pin', userPin, '--list-objects']).split(/\n(?=\S)/);
  const mine = blocks.filter((b) => new RegExp(`^\\s+ID:\\s+${id}$`, 'm').test(b));
  expect(mine.length).toBeGreaterThan(0);
  return mine.join('\n');
}

/** Whether the private key with this id signs, through pkcs11-tool (an independent client). */
function signs(id: string, mechanism: string): { ok: boolean; out: string } {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-sign-'));
  const input = join(dir, 'in');
  writeFileSync(input, Buffer.alloc(32, 7));
  const state = lab.state();
  const result = spawnSync('pkcs11-tool', ['--module', state.modulePath, '--token-label', label, '--login', '--pin', userPin, '--sign', '--id', id, '-m', mechanism, '--input-file', input, '--output-file', join(dir, 'out')], { env: { ...process.env, SOFTHSM2_CONF: state.softhsmConf }, encoding: 'utf8' });
  return { ok: result.status === 0, out: `${result.stdout}${result.stderr}` };
}

const keysIn = (): string => pkcs11Tool(['--token-label', label, '--login', '--pin', userPin, '--list-objects']);

function cli(args: string[], fds: string[] = [], env: Record<string, string> = {}): ReturnType<typeof tessera> {
  return tessera([...args, '--token', label], { home, fds, env });
}
const invalidate = (id: string): ReturnType<typeof tessera> => cli(['keys', 'invalidate', '--id', id, '--pin-fd', '3', '--json'], [`${userPin}\n`]);
const bin = (): InvalidatedKeyView[] => {
  const r = cli(['keys', 'invalidated', '--pin-fd', '3', '--json'], [`${userPin}\n`]);
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as InvalidatedKeyView[];
};
const policyView = (): PolicyView => JSON.parse(cli(['policy', 'show', '--json']).stdout) as PolicyView;
function setPolicy(changes: string[], inserted: string[], env: Record<string, string> = {}): ReturnType<typeof tessera> {
  return cli(['policy', 'set', ...changes, '--pins-from', '3', '--wait', '10', '--json'], [pinsOf(...inserted)], env);
}

beforeAll(async () => {
  await lab.up();
  await removeAll();
  const created = await lab.newPartition(`KL ${tag}`);
  ({ label, serial, userPin } = created);
  seedPartition(created.modulePath, created.softhsmConf, label, userPin);
  home = tempHome();
  for (const card of cards) {
    if (lab.state().cards.some((c) => c.holder === card)) await lab.blankCard(card);
    else await lab.newCard(card);
  }
  await only(...cards);
  const adopted = tessera(['adopt', '--token', label, '--holders', holders.join(','), '--threshold', '2', '--so-pin-fd', '3', '--pins-from', '4', '--wait', '15', '--json'], { home, fds: [`${created.soPin}\n`, pinsOf(...cards)] });
  expect(adopted.status, adopted.stderr).toBe(0);
  record = JSON.parse(adopted.stdout) as EnrolmentRecord;
}, 240_000);

afterAll(async () => {
  await removeAll();
});

describe('the trash bin', () => {
  it('an invalidated key cannot sign but is still listed; reactivated by an SO quorum, its attributes equal those before and it signs', async () => {
    const before = attributesOf('11');
    expect(signs('11', 'ECDSA').ok).toBe(true);
    const result = invalidate('11');
    expect(result.status, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ id: '11', label: 'TLS Server Key', state: 'invalidated', objects: expect.arrayContaining([expect.objectContaining({ class: 'private-key', usage: expect.objectContaining({ CKA_SIGN: true }) })]) });
    const refused = signs('11', 'ECDSA');
    expect(refused.ok).toBe(false);
    expect(refused.out).toMatch(/CKR_KEY_FUNCTION_NOT_PERMITTED/);
    expect(parseIds(keysIn())).toContain('11');
    // Still taking its place: listed, in the bin, seen from the partition and the terminal.
    expect(bin()).toEqual([expect.objectContaining({ id: '11', state: 'invalidated', recordedOn: ['partition', 'terminal'], problem: null, invalidatedBy: expect.stringMatching(/command line/) })]);
    // Without the crypto officer, the terminal's own record only.
    expect(JSON.parse(cli(['keys', 'invalidated', '--json']).stdout)).toEqual([expect.objectContaining({ id: '11', recordedOn: ['terminal'], state: 'not-checked' })]);
    // Again: refused, the record of what it was is kept as it was.
    const again = invalidate('11');
    expect(again.status).toBe(1);
    expect(again.stderr).toMatch(/in the trash bin already/);

    await only('kl-a', 'kl-c');
    const back = cli(['keys', 'reactivate', '--id', '11', '--pin-fd', '3', '--pins-from', '4', '--wait', '10', '--json'], [`${userPin}\n`, pinsOf('kl-a', 'kl-c')]);
    expect(back.status, back.stderr).toBe(0);
    const report = JSON.parse(back.stdout) as KeyChangeReport;
    expect(report).toMatchObject({ action: 'reactivate', keys: [{ id: '11', outcome: 'reactivated' }], approvers: [{ holder: 'alice' }, { holder: 'carol' }] });
    expect(back.stderr).toContain(`Digest of this change: ${report.digest}.`);
    expect(attributesOf('11')).toBe(before);
    expect(signs('11', 'ECDSA').ok).toBe(true);
    expect(bin()).toEqual([]);
    expect(audit().find((e) => e.action === 'key.reactivate')).toMatchObject({ outcome: 'ok', details: { id: '11', digest: report.digest, approvers: 'alice, carol', cards: `${record.cards[0]?.card}, ${record.cards[2]?.card}` } });
  }, 240_000);

  it('an AES key pair of usages comes back exactly, and a key whose id names several keys is refused', async () => {
    const before = attributesOf('22');
    expect(invalidate('22').status).toBe(0);
    expect(attributesOf('22')).not.toBe(before);
    await only('kl-b', 'kl-c');
    const back = cli(['keys', 'reactivate', '--id', '22', '--pin-fd', '3', '--pins-from', '4', '--wait', '10', '--json'], [`${userPin}\n`, pinsOf('kl-b', 'kl-c')]);
    expect(back.status, back.stderr).toBe(0);
    expect(attributesOf('22')).toBe(before);
    // A key not in the bin cannot be reactivated.
    const notThere = cli(['keys', 'reactivate', '--id', '22', '--pin-fd', '3', '--pins-from', '4', '--wait', '10'], [`${userPin}\n`, pinsOf('kl-b', 'kl-c')]);
    expect(notThere.status).toBe(1);
    expect(notThere.stderr).toMatch(/No key with id 22 is in the trash bin/);
    // Bad ids are named.
    const bad = invalidate('zz');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/“zz” is not a key id/);
    const missing = invalidate('7777');
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/No key with id 7777 is in the partition/);
  }, 240_000);

  it('a destroy with fewer approvals than the policy asks for changes nothing; with them, each key is destroyed and reported', async () => {
    await only('kl-a', 'kl-b');
    const set = setPolicy(['approvals.destroy=3'], ['kl-a', 'kl-b']);
    expect(set.status, set.stderr).toBe(0);
    expect(JSON.parse(set.stdout) as PolicyChangeReport).toMatchObject({ from: 0, version: 1, changes: [{ name: 'approvals.destroy', from: '2 of 3 SO holders', to: '3 of 3 SO holders' }] });
    expect(policyView()).toMatchObject({ version: 1, source: 'partition', problems: [], policy: { approvals: { destroy: 3 } }, enforcement: { kind: 'terminal' } });

    expect(invalidate('12').status).toBe(0);
    expect(invalidate('13').status).toBe(0);
    // Two cards where three must approve: no third card comes, nothing is destroyed.
    await only('kl-a', 'kl-b');
    const short = cli(['keys', 'destroy', '--id', '12,13', '--pin-fd', '3', '--pins-from', '4', '--wait', '4', '--json'], [`${userPin}\n`, pinsOf('kl-a', 'kl-b')]);
    expect(short.status).toBe(1);
    expect(short.stderr).toMatch(/Officer 3 of 3/);
    expect(parseIds(keysIn())).toEqual(expect.arrayContaining(['12', '13']));
    expect(bin().map((k) => k.id).sort()).toEqual(['12', '13']);

    await only(...cards);
    const done = cli(['keys', 'destroy', '--id', '12,13', '--pin-fd', '3', '--pins-from', '4', '--wait', '10', '--json'], [`${userPin}\n`, pinsOf(...cards)]);
    expect(done.status, done.stderr).toBe(0);
    const report = JSON.parse(done.stdout) as KeyChangeReport;
    expect(report.keys).toEqual([
      { id: '12', label: 'Document Signing EC', outcome: 'destroyed', detail: null },
      { id: '13', label: expect.any(String), outcome: 'destroyed', detail: null },
    ]);
    expect(report.approvers.map((a) => a.holder)).toEqual(holders);
    expect(done.stderr).toMatch(/“Document Signing EC” \(id 12\): private key and public key/);
    expect(parseIds(keysIn())).not.toContain('12');
    expect(parseIds(keysIn())).not.toContain('13');
    expect(bin()).toEqual([]);
    expect(audit().filter((e) => e.action === 'key.destroy' && e.outcome === 'ok').map((e) => e.details.id)).toEqual(['13', '12']);
  }, 240_000);

  it('a key not in the bin is not destroyed while key invalidation is on', async () => {
    await only(...cards);
    const r = cli(['keys', 'destroy', '--id', '01', '--pin-fd', '3', '--pins-from', '4', '--wait', '10'], [`${userPin}\n`, pinsOf(...cards)]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/is not in the trash bin/);
    expect(parseIds(keysIn())).toContain('01');
  }, 120_000);
});

describe('the partition policy', () => {
  it('each setting refuses what it forbids, naming it, with nothing written', async () => {
    const media = mkdtempSync(join(tmpdir(), 'tessera-usb-policy-'));
    await only('kl-a', 'kl-b');
    expect(setPolicy(['key-export=off', 'session-objects=on'], ['kl-a', 'kl-b']).status).toBe(0);
    const backup = cli(['backup', 'create', '--media', media, '--pin-fd', '3', '--json'], [`${userPin}\n`]);
    expect(backup.status).toBe(1);
    expect(backup.stderr).toMatch(/Key export is off in the partition policy: no backup is made/);
    expect(readdirSync(media)).toEqual([]);

    await only('kl-a', 'kl-b');
    expect(setPolicy(['key-export=on', 'key-import=off'], ['kl-a', 'kl-b']).status).toBe(0);
    const restore = cli(['backup', 'restore', join(media, 'any.tsrbackup'), '--pin-fd', '3'], [`${userPin}\n`]);
    expect(restore.status).toBe(1);
    expect(restore.stderr).toMatch(/Key import is off in the partition policy: nothing is restored/);

    await only('kl-a', 'kl-b');
    expect(setPolicy(['key-import=on', 'read-only=on'], ['kl-a', 'kl-b']).status).toBe(0);
    const before = keysIn();
    const ro = invalidate('01');
    expect(ro.status).toBe(1);
    expect(ro.stderr).toMatch(/Partition read-only is on in the partition policy: no key is invalidated/);
    expect(keysIn()).toBe(before);

    await only('kl-a', 'kl-b');
    expect(setPolicy(['read-only=off', 'object-destruction=off'], ['kl-a', 'kl-b']).status).toBe(0);
    const od = invalidate('01');
    expect(od.status).toBe(1);
    expect(od.stderr).toMatch(/Object destruction is off in the partition policy/);

    await only('kl-a', 'kl-b');
    expect(setPolicy(['object-destruction=on', 'session-objects=off'], ['kl-a', 'kl-b']).status).toBe(0);
    const so = cli(['backup', 'create', '--media', media, '--pin-fd', '3'], [`${userPin}\n`]);
    expect(so.status).toBe(1);
    expect(so.stderr).toMatch(/Session objects is off in the partition policy/);
    expect(readdirSync(media)).toEqual([]);

    await only('kl-a', 'kl-b');
    expect(setPolicy(['session-objects=on', 'key-invalidation=off'], ['kl-a', 'kl-b']).status).toBe(0);
    const ki = invalidate('01');
    expect(ki.status).toBe(1);
    expect(ki.stderr).toMatch(/Key invalidation is off in the partition policy: a delete would destroy the key for good/);
    expect(signs('01', 'SHA256-RSA-PKCS').ok).toBe(true);

    await only('kl-a', 'kl-b');
    expect(setPolicy(['key-invalidation=on'], ['kl-a', 'kl-b']).status).toBe(0);
    const versions = audit().filter((e) => e.action === 'policy.set' && e.outcome === 'ok');
    expect(versions[0]?.details).toMatchObject({ changes: 'key-invalidation: off → on', approvers: 'alice, bob' });
    expect(policyView()).toMatchObject({ version: versions.length, problems: [] });
  }, 400_000);

  it('approvals.policy asks the current policy\'s number of holders: fewer change nothing', async () => {
    const version = policyView().version;
    await only('kl-a', 'kl-b');
    expect(setPolicy(['approvals.policy=3'], ['kl-a', 'kl-b']).status).toBe(0);
    expect(policyView().version).toBe(version + 1);
    await only('kl-a', 'kl-b');
    const short = cli(['policy', 'set', 'key-export=off', '--pins-from', '3', '--wait', '4'], [pinsOf('kl-a', 'kl-b')]);
    expect(short.status).toBe(1);
    expect(short.stderr).toMatch(/Approvals needed: 3 holders of the SO card set/);
    expect(short.stderr).toMatch(/Officer 3 of 3/);
    expect(policyView()).toMatchObject({ version: version + 1, policy: { settings: { 'key-export': true } } });
    await only(...cards);
    const back = setPolicy(['approvals.policy=2'], cards);
    expect(back.status, back.stderr).toBe(0);
    expect((JSON.parse(back.stdout) as PolicyChangeReport).approvers.map((a) => a.holder)).toEqual(holders);
  }, 240_000);

  it('refuses bad changes before any card is asked for (bad usage: exit 2)', () => {
    for (const [args, message] of [
      [['key-export=maybe'], /key-export is on or off, not “maybe”/],
      [['approvals.destroy=1'], /approvals.destroy is how many distinct holders of the SO card set must approve: 2 to 3 \(the set is 2 of 3\), not “1”/],
      [['approvals.destroy=4'], /2 to 3/],
      [['no-such=on'], /“no-such” is not a policy setting/],
      [['key-export=on', 'key-export=off'], /given twice/],
    ] as const) {
      const r = setPolicy([...args], []);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(message);
    }
    const same = setPolicy(['key-export=on'], []);
    expect(same.status).toBe(1);
    expect(same.stderr).toMatch(/nothing would change/);
  });

  it('a policy object written outside the terminal is detected and not trusted', () => {
    const version = policyView().version;
    const forged = { format: 'tessera-policy-v1', partition: serial, version: version + 5, policy: { settings: { 'key-import': true, 'key-export': true, 'key-invalidation': true, 'read-only': false, 'session-objects': true, 'object-destruction': true }, approvals: { destroy: 2, policy: 2, 'co-pin-reset': 2, restore: null } }, previous: null, signer: { set: record.set, generation: 1 }, approvers: [], at: new Date().toISOString(), signature: Buffer.alloc(64).toString('base64') };
    const dir = mkdtempSync(join(tmpdir(), 'tessera-forged-'));
    writeFileSync(join(dir, 'policy.json'), JSON.stringify(forged));
    pkcs11Tool(['--token-label', label, '--login', '--pin', userPin, '--write-object', join(dir, 'policy.json'), '--type', 'data', '--label', 'Tessera partition policy', '--application-label', 'Tessera']);
    const view = policyView();
    expect(view.version).toBe(version);
    expect(view.problems.join('\n')).toMatch(/A policy object on the partition is not trusted: (its signature does not verify|it is modifiable)/);
    const text = cli(['policy', 'show']);
    expect(text.stdout).toMatch(/! A policy object on the partition is not trusted/);
  });
});

describe('crashes', () => {
  it('a crash in the middle of a bulk destroy is recovered: the key cut short is finished, the other stays in the bin', async () => {
    expect(invalidate('02').status).toBe(0);
    expect(invalidate('23').status).toBe(0);
    await only(...cards);
    const killed = cli(['keys', 'destroy', '--id', '02,23', '--pin-fd', '3', '--pins-from', '4', '--wait', '10'], [`${userPin}\n`, pinsOf(...cards)], { TESSERA_TEST_CRASH_AT: 'key-destroy:key-1' });
    expect(killed.signal).toBe('SIGKILL');
    expect(parseIds(keysIn())).not.toContain('02');
    expect(parseIds(keysIn())).toContain('23');
    // The next start says what happened; the next crypto-officer listing finishes it.
    const listed = cli(['keys', 'invalidated', '--pin-fd', '3', '--json'], [`${userPin}\n`]);
    expect(listed.stderr).toMatch(/A destroy of 2 key\(s\) .* was interrupted after 0/);
    expect((JSON.parse(listed.stdout) as InvalidatedKeyView[]).map((k) => [k.id, k.state])).toEqual([['23', 'invalidated']]);
    expect(audit().find((e) => e.action === 'key.destroy' && e.details.id === '02')).toMatchObject({ outcome: 'ok', details: { finished: expect.stringMatching(/interrupted/) } });
    // Said once.
    expect(cli(['keys', 'invalidated', '--json']).stderr).not.toMatch(/was interrupted/);
  }, 240_000);

  it.each([
    ['policy-set:before-write', false],
    ['policy-set:inside-write', true],
  ])('a crash at %s in a policy change is recovered', async (point, inForce) => {
    const version = policyView().version;
    await only('kl-a', 'kl-b');
    const killed = setPolicy([`key-export=${policyView().policy.settings['key-export'] ? 'off' : 'on'}`], ['kl-a', 'kl-b'], { TESSERA_TEST_CRASH_AT: point });
    expect(killed.signal).toBe('SIGKILL');
    const next = cli(['policy', 'show', '--json']);
    expect(next.stderr).toMatch(/A change of the partition policy .* was interrupted/);
    const view = JSON.parse(next.stdout) as PolicyView;
    expect(view.version).toBe(inForce ? version + 1 : version);
    expect(view.problems.filter((p) => !/not trusted/.test(p))).toEqual([]);
    expect(audit().find((e) => e.action === 'policy.set.recover')).toMatchObject({ outcome: 'ok' });
  }, 240_000);
});

describe('approvals.restore', () => {
  it('a restore waits for as many SO holders as the policy asks, after the backup set\'s quorum, and records them with the digest', async () => {
    // Backups allowed again (the crash tests may have turned key export off), and SO approvals for restores.
    await only('kl-a', 'kl-b');
    expect(setPolicy(['approvals.restore=2', ...(policyView().policy.settings['key-export'] ? [] : ['key-export=on'])], ['kl-a', 'kl-b']).status).toBe(0);
    // A backup key set of one holder, on a card of its own.
    if (lab.state().cards.some((c) => c.holder === 'kl-x')) await lab.blankCard('kl-x');
    else await lab.newCard('kl-x');
    await only('kl-x');
    const set = cli(['backup-set', 'create', '--holders', 'xena', '--threshold', '1', '--pins-from', '3', '--pin-fd', '4', '--json'], ['kl-x-pin-9999\n', `${userPin}\n`]);
    expect(set.status, set.stderr).toBe(0);
    const media = mkdtempSync(join(tmpdir(), 'tessera-usb-approvals-'));
    const made = cli(['backup', 'create', '--media', media, '--pin-fd', '3', '--json'], [`${userPin}\n`]);
    expect(made.status, made.stderr).toBe(0);
    const file = (JSON.parse(made.stdout) as { path: string }).path;
    // The backup set's card first, then the SO holders' (xena's card holds no SO share: refused before any PIN).
    await only('kl-x', 'kl-a', 'kl-b');
    const restored = cli(['backup', 'restore', file, '--pins-from', '3', '--pin-fd', '4', '--wait', '10', '--json'], [`kl-x-pin-9999\n${cardPins[0]}\n${cardPins[1]}\n`, `${userPin}\n`]);
    expect(restored.status, restored.stderr).toBe(0);
    expect(restored.stderr).toMatch(/asks 2 holders of the SO card set to approve this restore \(approvals.restore\)\. Digest of this restore: ([0-9a-f]{4} ){3}[0-9a-f]{4}\./);
    const entry = audit().find((e) => e.action === 'backup.restore');
    expect(entry).toMatchObject({ outcome: 'ok', details: { approvers: 'alice, bob', digest: expect.stringMatching(/^[0-9a-f]{4}( [0-9a-f]{4}){3}$/) } });
    await only('kl-a', 'kl-b');
    expect(setPolicy(['approvals.restore=0'], ['kl-a', 'kl-b']).status).toBe(0);
  }, 300_000);
});

describe('approvals.co-pin-reset', () => {
  it("asks for as many SO holders as the policy says before the crypto officer's PIN is reset", async () => {
    await only('kl-a', 'kl-b');
    expect(setPolicy(['approvals.co-pin-reset=3'], ['kl-a', 'kl-b']).status).toBe(0);
    const next = `kl-co-${tag}`;
    await only('kl-a', 'kl-b');
    const short = tessera(['co-pin', 'reset', '--token', label, '--pins-from', '3', '--new-pin-fd', '4', '--wait', '4', '--json'], { home, fds: [pinsOf('kl-a', 'kl-b'), `${next}\n`] });
    expect(short.status).toBe(1);
    expect(short.stderr).toMatch(/Approvals needed: 3 holders of the SO card set \(the partition policy's approvals.co-pin-reset\)/);
    expect(signs('01', 'SHA256-RSA-PKCS').ok).toBe(true);
    await only(...cards);
    const done = tessera(['co-pin', 'reset', '--token', label, '--pins-from', '3', '--new-pin-fd', '4', '--wait', '10', '--json'], { home, fds: [pinsOf(...cards), `${next}\n`] });
    expect(done.status, done.stderr).toBe(0);
    expect(JSON.parse(done.stdout)).toMatchObject({ reset: true, holders });
    userPin = next;
    expect(signs('01', 'SHA256-RSA-PKCS').ok).toBe(true);
    expect(audit().find((e) => e.action === 'co-pin.reset')).toMatchObject({ outcome: 'ok', details: { holders: holders.join(', '), digest: expect.stringMatching(/^[0-9a-f]{4}( [0-9a-f]{4}){3}$/) } });
  }, 240_000);
});

/** The CKA_IDs pkcs11-tool lists. */
function parseIds(out: string): string[] {
  return [...out.matchAll(/^\s+ID:\s+([0-9a-f]+)/gm)].map((m) => m[1] as string);
}
