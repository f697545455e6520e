// The partition policy's pure parts: NAME=VALUE parsing in officers' words, approval counts within
// the SO set's m..n, the side-by-side view, the generic enforcement's refusals, and the quorum
// signature that makes a policy record believed (and a changed one not).
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { terminalEnforcement } from '../../src/core/policy/enforcement';
import { DEFAULT_POLICY, applyChanges, approvalsNeeded, changeDigest, parseChanges, sideBySide } from '../../src/core/policy/policy';
import { type PolicyRecord, recordProblem, signRecord } from '../../src/core/policy/policy-record';
import { rotationPublicKey } from '../../src/core/quorum/rotation-key';

const set = { m: 2, n: 3 };

describe('policy changes', () => {
  it('parses on/off settings and approval counts', () => {
    expect(parseChanges(['key-export=off', 'approvals.destroy=3', 'Read-Only=ON'], set)).toEqual([
      { name: 'key-export', value: false },
      { name: 'approvals.destroy', value: 3 },
      { name: 'read-only', value: true },
    ]);
    expect(parseChanges(['approvals.restore=0'], set)).toEqual([{ name: 'approvals.restore', value: 0 }]);
  });

  it.each([
    [['key-export'], /key-export is on or off, not “”/],
    [['key-export=2'], /on or off/],
    [['approvals.destroy=1'], /2 to 3 \(the set is 2 of 3\)/],
    [['approvals.policy=0'], /2 to 3/],
    [['approvals.destroy=x'], /a number of holders/],
    [['approvals.nothing=2'], /not a policy setting/],
    [['key-export=on', 'KEY-EXPORT=off'], /given twice/],
    [[], /at least one setting/],
  ])('refuses %j with words', (args, message) => {
    expect(() => parseChanges(args, set)).toThrow(message);
  });

  it('brings a recorded count within the set after a rotation, and a restore needs no SO approval by default', () => {
    const p = applyChanges(DEFAULT_POLICY, [{ name: 'approvals.destroy', value: 3 }]);
    expect(approvalsNeeded(p, 'destroy', set)).toBe(3);
    expect(approvalsNeeded(p, 'destroy', { m: 2, n: 2 })).toBe(2);
    expect(approvalsNeeded(p, 'policy', { m: 3, n: 5 })).toBe(3);
    expect(approvalsNeeded(DEFAULT_POLICY, 'restore', set)).toBe(0);
    expect(approvalsNeeded(applyChanges(DEFAULT_POLICY, [{ name: 'approvals.restore', value: 1 }]), 'restore', set)).toBe(2);
  });

  it('shows current and proposed side by side, with the risk of each change only', () => {
    const proposed = applyChanges(DEFAULT_POLICY, [{ name: 'key-export', value: false }, { name: 'approvals.destroy', value: 3 }]);
    const lines = sideBySide(DEFAULT_POLICY, proposed, set);
    expect(lines.filter((l) => l.changed)).toEqual([
      expect.objectContaining({ name: 'key-export', current: 'on', proposed: 'off', risk: expect.stringMatching(/No backup can be made/) }),
      expect.objectContaining({ name: 'approvals.destroy', current: '2 of 3 SO holders', proposed: '3 of 3 SO holders', risk: expect.stringMatching(/More officers/) }),
    ]);
    expect(lines.filter((l) => !l.changed).every((l) => l.risk === null)).toBe(true);
  });

  it('digests the exact change: any difference shows', () => {
    const a = changeDigest({ b: 1, a: [1, 2] });
    expect(a).toMatch(/^[0-9a-f]{4}( [0-9a-f]{4}){3}$/);
    expect(changeDigest({ a: [1, 2], b: 1 })).toBe(a);
    expect(changeDigest({ a: [2, 1], b: 1 })).not.toBe(a);
  });
});

describe('the generic enforcement', () => {
  const refusal = (changes: Parameters<typeof applyChanges>[1], action: Parameters<typeof terminalEnforcement.refusal>[1]): string | null => terminalEnforcement.refusal(applyChanges(DEFAULT_POLICY, changes), action);

  it('allows everything under the defaults', () => {
    for (const action of ['backup', 'restore', 'create-key', 'invalidate', 'reactivate', 'destroy'] as const) expect(terminalEnforcement.refusal(DEFAULT_POLICY, action)).toBeNull();
  });

  it('refuses what each setting forbids, naming the setting', () => {
    expect(refusal([{ name: 'key-export', value: false }], 'backup')).toMatch(/^Key export is off in the partition policy: no backup is made/);
    expect(refusal([{ name: 'session-objects', value: false }], 'backup')).toMatch(/^Session objects is off/);
    expect(refusal([{ name: 'key-import', value: false }], 'restore')).toMatch(/^Key import is off/);
    expect(refusal([{ name: 'read-only', value: true }], 'restore')).toMatch(/^Partition read-only is on/);
    expect(refusal([{ name: 'read-only', value: true }], 'create-key')).toMatch(/^Partition read-only is on/);
    expect(refusal([{ name: 'read-only', value: true }], 'reactivate')).toMatch(/^Partition read-only is on/);
    expect(refusal([{ name: 'object-destruction', value: false }], 'destroy')).toMatch(/^Object destruction is off/);
    expect(refusal([{ name: 'object-destruction', value: false }], 'invalidate')).toMatch(/^Object destruction is off/);
    expect(refusal([{ name: 'key-invalidation', value: false }], 'invalidate')).toMatch(/^Key invalidation is off/);
    expect(refusal([{ name: 'key-export', value: false }], 'restore')).toBeNull();
  });

  it('says who enforces it and the limit', () => {
    expect(terminalEnforcement.kind).toBe('terminal');
    expect(terminalEnforcement.words).toMatch(/other applications .* are not held to it/);
  });
});

describe('policy records', () => {
  const secret = randomBytes(32);
  const setId = 'set-1';
  const key = rotationPublicKey(secret, 'so', setId, 1);
  const keys = (s: string, g: number): string | null => (s === setId && g === 1 ? key : null);
  const record = (): PolicyRecord =>
    signRecord({ format: 'tessera-policy-v1', partition: 'SER1', version: 1, policy: DEFAULT_POLICY, previous: null, signer: { set: setId, generation: 1 }, approvers: [{ holder: 'alice', card: 'c1' }], at: '2026-11-30T00:00:00.000Z' }, secret);

  it('verifies a record the quorum signed', () => {
    expect(recordProblem(record(), 'SER1', keys)).toBeNull();
  });

  it('does not believe a record changed after signing, of another partition, or of an unknown generation', () => {
    const r = record();
    expect(recordProblem({ ...r, policy: applyChanges(r.policy, [{ name: 'key-export', value: false }]) }, 'SER1', keys)).toMatch(/signature does not verify/);
    expect(recordProblem({ ...r, version: 9 }, 'SER1', keys)).toMatch(/signature does not verify/);
    expect(recordProblem(r, 'SER2', keys)).toMatch(/another partition/);
    expect(recordProblem({ ...r, signer: { set: setId, generation: 2 } }, 'SER1', keys)).toMatch(/does not vouch for/);
    expect(recordProblem({ ...r, policy: { settings: {}, approvals: {} } }, 'SER1', keys)).toBe('not a policy record');
    const other = signRecord({ ...r, signature: undefined } as never, randomBytes(32));
    expect(recordProblem(other, 'SER1', keys)).toMatch(/signature does not verify/);
  });
});
