// Attack 12: a ceremony script whose reviewed text holds a policy change the run silently drops.
import { describe, expect, it } from 'vitest';
import { readScript } from '../../src/core/record/script';

const head = `tessera-ceremony: 1
title: Test ceremony
partition:
  label: Tessera Lab
  serial: "0000000000000000"
roster:
  administrator: dana
  witnesses: [erin]
  officers:
    - { name: alice, roles: [so-card, backup-card] }
    - { name: bob, roles: [so-card, backup-card] }
    - { name: frank, roles: [crypto-officer] }
preconditions:
  card-set: { holders: [alice, bob], threshold: 2 }
  media: true
steps:
`;

describe('attack12: policy-set changes under a "__proto__" key', () => {
  it('are refused, not dropped without a word (reviewers read approvals.destroy: 3; the run would not set it)', () => {
    const reading = readScript(`${head}  - do: policy-set\n    changes: { __proto__: { approvals.destroy: 3 }, read-only: off }\n`);
    expect(reading.ok).toBe(false);
    if (!reading.ok) expect(reading.problems).toEqual([expect.objectContaining({ line: 18, path: 'steps[1].changes.__proto__', message: expect.stringContaining('"__proto__" is not a policy setting') })]);
  });

  it('also in block style, with a plain value', () => {
    expect(readScript(`${head}  - do: policy-set\n    changes:\n      "__proto__": on\n      key-export: off\n`).ok).toBe(false);
  });

  it('a change without it still reads', () => {
    const reading = readScript(`${head}  - do: policy-set\n    changes: { read-only: off, approvals.destroy: 3 }\n`);
    expect(reading.ok && reading.script.steps[0]).toMatchObject({ do: 'policy-set', changes: [{ name: 'read-only', value: false }, { name: 'approvals.destroy', value: 3 }] });
  });
});
