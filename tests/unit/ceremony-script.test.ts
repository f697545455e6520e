// Ceremony scripts as officers write them: every shipped script reads, and every rule refuses a
// bad script with the words officers see and the exact line (and column) of the problem.
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { TesseraError } from '../../src/core/errors';
import { MAX_SCRIPT_BYTES, parseScript, readScript, scriptDigest } from '../../src/core/record/script';

const shipped = join(__dirname, '../../resources/ceremonies');

// Lines 1..16; the steps given to `script` start on line 17.
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

/** The test script with `steps` (YAML lines, indented as list items) and `head` edited by `edits`. */
function script(steps: string, edits: [string, string][] = []): string {
  let text = head;
  for (const [from, to] of edits) {
    if (!text.includes(from)) throw new Error(`test script has no ${from}`);
    text = text.replace(from, to);
  }
  return text + steps;
}

/** The refusal's message; fails when the script is accepted or refused otherwise. */
function refusal(text: string): string {
  try {
    parseScript(text, 't.yaml');
  } catch (e) {
    expect(e).toBeInstanceOf(TesseraError);
    expect((e as TesseraError).code).toBe('SCRIPT_INVALID');
    return (e as TesseraError).message;
  }
  throw new Error('the script was accepted');
}

describe('shipped ceremony scripts', () => {
  const files = readdirSync(shipped).filter((f) => f.endsWith('.yaml'));

  it('ships the practice backup and the real-world examples', () => {
    expect(files.sort()).toEqual(['card-replacement.yaml', 'disaster-recovery.yaml', 'practice-backup.yaml', 'quarterly-backup.yaml']);
  });

  it.each(files)('%s reads without a problem', (file) => {
    const s = parseScript(readFileSync(join(shipped, file), 'utf8'), file);
    expect(s.steps.length).toBeGreaterThan(0);
  });

  it('the practice backup is on the lab: SO login by two, backup and audit export to the lab media, logout', () => {
    const s = parseScript(readFileSync(join(shipped, 'practice-backup.yaml'), 'utf8'), 'practice-backup.yaml');
    expect(s.partition.label).toBe('Tessera Lab');
    expect(s.preconditions).toEqual({
      cardSet: { holders: ['alice', 'bob', 'carol'], threshold: 2, fingerprint: null },
      backupSet: { holders: ['alice', 'bob', 'carol'], threshold: 2, fingerprint: null },
      media: true,
    });
    expect(s.steps.map((st) => st.do)).toEqual(['so-login', 'backup', 'audit-export', 'logout']);
    expect(s.steps[0]?.by).toHaveLength(2);
    expect(s.steps[1]).toMatchObject({ do: 'backup', media: 'lab' });
    expect(s.steps[2]).toMatchObject({ do: 'audit-export', media: 'lab' });
  });
});

describe('reading a script', () => {
  it('gives every step its position, its line, and the defaults', () => {
    const s = parseScript(
      script(`  - do: so-login
    by: alice
  - do: backup
    title: Back up now
    media: lab
    expect: Written and verified
    on-exception: continue
  - do: restore
    file: /media/stick/b.tessera-backup
  - do: audit-export
    media: lab
  - do: backup-set-rotate
  - do: manual
    by: erin
    text: |
      Seal the stick
      in bag 4711
`),
      't.yaml',
    );
    expect(s.version).toBe(1);
    expect(s.roster).toEqual({
      administrator: 'dana',
      witnesses: ['erin'],
      officers: [
        { name: 'alice', roles: ['so-card', 'backup-card'] },
        { name: 'bob', roles: ['so-card', 'backup-card'] },
        { name: 'frank', roles: ['crypto-officer'] },
      ],
    });
    expect(s.preconditions).toEqual({ cardSet: { holders: ['alice', 'bob'], threshold: 2, fingerprint: null }, backupSet: null, media: true });
    expect(s.steps).toEqual([
      { n: 1, line: 17, do: 'so-login', title: 'Security-officer login with a quorum of cards', by: ['alice'], expect: null, onException: 'stop' },
      { n: 2, line: 19, do: 'backup', media: 'lab', title: 'Back up now', by: [], expect: 'Written and verified', onException: 'continue' },
      { n: 3, line: 24, do: 'restore', file: '/media/stick/b.tessera-backup', only: null, onConflict: 'skip', title: 'Restore a backup into the partition', by: [], expect: null, onException: 'stop' },
      { n: 4, line: 26, do: 'audit-export', media: 'lab', since: null, title: 'Export the audit log to the media', by: [], expect: null, onException: 'stop' },
      { n: 5, line: 28, do: 'backup-set-rotate', holders: null, threshold: null, newEscrowKey: false, title: 'Re-split or rotate the backup key set', by: [], expect: null, onException: 'stop' },
      { n: 6, line: 29, do: 'manual', text: 'Seal the stick\nin bag 4711', title: 'A step a named person does and confirms', by: ['erin'], expect: null, onException: 'stop' },
    ]);
  });

  it('names the file, line, column and field of an unknown operation, with the list', () => {
    expect(refusal(script('  - do: so-login\n  - do: backpu\n'))).toMatch(/^t\.yaml line 18, column 9: steps\[2\]\.do: "backpu" is not an operation; it must be one of so-login, co-login, .*, manual$/);
  });

  it('refuses a step without do, at the step', () => {
    expect(refusal(script('  - title: Something\n'))).toMatch(/^t\.yaml line 17, column 5: steps\[1\]\.do: is missing: say what the step does/);
  });

  it('lists every problem, each on its own line, in file order', () => {
    const message = refusal(script('  - do: backpu\n  - do: logout\n    by: zed\n', [['title: Test ceremony', 'title: ""']]));
    expect(message.split('\n')).toEqual([
      't.yaml line 2, column 8: title: must not be empty',
      expect.stringMatching(/^t\.yaml line 17, column 9: steps\[1\]\.do: "backpu" is not an operation/),
      't.yaml line 19, column 9: steps[2].by: "zed" is not on the roster',
    ]);
  });

  it('lists 20 problems and counts the rest', () => {
    const message = refusal(script(Array.from({ length: 25 }, () => '  - do: nothing\n').join('')));
    expect(message.split('\n')).toHaveLength(21);
    expect(message).toMatch(/t\.yaml line 36, column 9: steps\[20\]\.do/);
    expect(message).toMatch(/… and 5 more problems in t\.yaml\.$/);
  });

  it('gives the problems as data to a caller that shows them beside the file', () => {
    expect(readScript(script('  - do: logout\n    by: zed\n'))).toEqual({ ok: false, problems: [{ line: 18, column: 9, path: 'steps[1].by', message: '"zed" is not on the roster' }] });
  });
});

describe('the rules, each refused with its line', () => {
  it('tessera-ceremony must be 1, and is required', () => {
    expect(refusal(script('  - do: logout\n', [['tessera-ceremony: 1', 'tessera-ceremony: 2']]))).toBe('t.yaml line 1, column 19: tessera-ceremony: is 2; this terminal reads version 1 ceremony scripts');
    expect(refusal(script('  - do: logout\n', [['tessera-ceremony: 1\n', '']]))).toBe('t.yaml line 1, column 1: tessera-ceremony: is missing: a ceremony script begins with "tessera-ceremony: 1"');
  });

  it('an unknown key is named, with the key it is near', () => {
    expect(refusal(script('  - do: logout\n', [['title: Test', 'titel: Test']]))).toBe('t.yaml line 2, column 1: titel: "titel" is not a key here; did you mean "title"?');
    expect(refusal(script('  - do: backup\n    media: lab\n    on-exeption: continue\n'))).toBe('t.yaml line 19, column 5: steps[1].on-exeption: "on-exeption" is not a key here; did you mean "on-exception"?');
    expect(refusal(script('  - do: logout\n    colour: red\n'))).toBe('t.yaml line 18, column 5: steps[1].colour: "colour" is not a key here; the keys are do, title, by, expect, on-exception');
  });

  it('a required key that is absent is placed at the map that should hold it', () => {
    expect(refusal(script('  - do: restore\n    only: ["0a"]\n'))).toBe('t.yaml line 17, column 5: steps[1].file: is missing');
  });

  it('texts are trimmed, not empty, at most 200 characters (a manual text 2000)', () => {
    expect(refusal(script('  - do: logout\n    title: "   "\n'))).toBe('t.yaml line 18, column 12: steps[1].title: must not be empty');
    expect(refusal(script(`  - do: logout\n    expect: ${'x'.repeat(201)}\n`))).toBe('t.yaml line 18, column 13: steps[1].expect: is longer than 200 characters');
    expect(refusal(script(`  - do: manual\n    by: erin\n    text: ${'x'.repeat(2001)}\n`))).toBe('t.yaml line 19, column 11: steps[1].text: is longer than 2000 characters');
    expect(parseScript(script('  - do: logout\n    title: "  Log out  "\n'), 't.yaml').steps[0]?.title).toBe('Log out');
  });

  it('a text with a control character is refused', () => {
    expect(refusal(script('  - do: logout\n    title: "Log\\u001b[2Jout"\n'))).toBe('t.yaml line 18, column 12: steps[1].title: contains a control character (an escape, a tab, an invisible mark): write plain text');
  });

  it('each person is on the roster once: the administrator is not also a witness', () => {
    expect(refusal(script('  - do: logout\n', [['witnesses: [erin]', 'witnesses: [erin, dana]']]))).toBe(
      't.yaml line 8, column 21: roster.witnesses[2]: "dana" is on the roster twice (also as the administrator): each person has one place (administrator, witness or officer)',
    );
    expect(refusal(script('  - do: logout\n', [['name: bob', 'name: alice']]))).toMatch(/^t\.yaml line 11, column 15: roster\.officers\[2\]\.name: "alice" is on the roster twice \(also as officer 1\)/);
  });

  it('every by is on the roster; one name may be written without brackets', () => {
    expect(refusal(script('  - do: so-login\n    by: [alice, mallory]\n'))).toBe('t.yaml line 18, column 17: steps[1].by[2]: "mallory" is not on the roster');
    expect(refusal(script('  - do: so-login\n    by: mallory\n'))).toBe('t.yaml line 18, column 9: steps[1].by: "mallory" is not on the roster');
    expect(refusal(script('  - do: so-login\n    by: [alice, alice]\n'))).toBe('t.yaml line 18, column 17: steps[1].by[2]: names "alice" twice');
  });

  it('a manual step needs its text and exactly one by', () => {
    expect(refusal(script('  - do: manual\n    by: erin\n'))).toBe('t.yaml line 17, column 5: steps[1].text: is missing');
    expect(refusal(script('  - do: manual\n    text: Seal the bag\n'))).toBe('t.yaml line 17, column 5: steps[1].by: a manual step names exactly one person who does it and confirms it (by: name)');
    expect(refusal(script('  - do: manual\n    text: Seal the bag\n    by: [erin, dana]\n'))).toBe('t.yaml line 19, column 9: steps[1].by: a manual step names exactly one person who does it and confirms it (by: name)');
  });

  it('card holders are roster officers holding that set’s card', () => {
    expect(refusal(script('  - do: so-replace-card\n    holder: frank\n'))).toBe('t.yaml line 18, column 13: steps[1].holder: "frank" is not a roster officer holding an SO card (role so-card)');
    expect(refusal(script('  - do: backup-replace-card\n    holder: zed\n'))).toBe('t.yaml line 18, column 13: steps[1].holder: "zed" is not on the roster');
    expect(refusal(script('  - do: logout\n', [['holders: [alice, bob]', 'holders: [alice, erin]']]))).toBe(
      't.yaml line 14, column 32: preconditions.card-set.holders[2]: "erin" is not a roster officer holding an SO card (role so-card)',
    );
    expect(refusal(script('  - do: backup-set-rotate\n    holders: [alice, frank]\n'))).toBe('t.yaml line 18, column 22: steps[1].holders[2]: "frank" is not a roster officer holding a backup-set card (role backup-card)');
    expect(refusal(script('  - do: co-login\n    by: alice\n'))).toBe('t.yaml line 18, column 9: steps[1].by: "alice" is not a roster officer holding the crypto officer\'s PIN (role crypto-officer)');
  });

  it('a threshold is 1 to the number of holders, at most 16', () => {
    expect(refusal(script('  - do: logout\n', [['threshold: 2 }', 'threshold: 3 }']]))).toBe('t.yaml line 14, column 49: preconditions.card-set.threshold: is 3, more than the 2 holders named');
    expect(refusal(script('  - do: logout\n', [['threshold: 2 }', 'threshold: 0 }']]))).toBe('t.yaml line 14, column 49: preconditions.card-set.threshold: must be at least 1');
    expect(refusal(script('  - do: so-rotate\n    threshold: 17\n'))).toBe('t.yaml line 18, column 16: steps[1].threshold: must be at most 16');
    expect(refusal(script('  - do: so-rotate\n    threshold: 1.5\n'))).toBe('t.yaml line 18, column 16: steps[1].threshold: must be a whole number, not 1.5');
  });

  it('key ids are hex of 1 to 128 bytes, uppercase accepted and lowercased', () => {
    const s = parseScript(script('  - do: key-destroy\n    ids: ["0A1B", ff]\n  - do: key-invalidate\n    id: "C0FFEE"\n'), 't.yaml');
    expect(s.steps[0]).toMatchObject({ do: 'key-destroy', ids: ['0a1b', 'ff'] });
    expect(s.steps[1]).toMatchObject({ do: 'key-invalidate', id: 'c0ffee' });
    expect(refusal(script('  - do: key-reactivate\n    id: abc\n'))).toBe('t.yaml line 18, column 9: steps[1].id: must be a key id in hex: an even number of digits 0-9 and a-f, 1 to 128 bytes');
    expect(refusal(script(`  - do: key-reactivate\n    id: ${'ab'.repeat(129)}\n`))).toMatch(/^t\.yaml line 18, column 9: steps\[1\]\.id: must be a key id in hex/);
    expect(refusal(script('  - do: key-destroy\n    ids: [0102]\n'))).toBe('t.yaml line 18, column 11: steps[1].ids[1]: is written as a number: put it in quotes ("0a1b"), or YAML reads it as a number and drops its leading zeros');
  });

  it('policy-set takes a map of setting names: on/off as booleans, approval counts 0..16, given as a list', () => {
    const s = parseScript(script('  - do: policy-set\n    changes: { key-export: off, read-only: ON, session-objects: true, approvals.destroy: 3 }\n'), 't.yaml');
    expect(s.steps[0]).toMatchObject({
      changes: [
        { name: 'key-export', value: false },
        { name: 'read-only', value: true },
        { name: 'session-objects', value: true },
        { name: 'approvals.destroy', value: 3 },
      ],
    });
    expect(refusal(script('  - do: policy-set\n    changes:\n      key-exprot: off\n'))).toMatch(/^t\.yaml line 19, column 7: steps\[1\]\.changes\.key-exprot: "key-exprot" is not a policy setting; it must be one of key-import, key-export, .*approvals\.restore$/);
    expect(refusal(script('  - do: policy-set\n    changes:\n      key-export: yes\n'))).toBe('t.yaml line 19, column 19: steps[1].changes.key-export: is "yes"; it must be on or off');
    expect(refusal(script('  - do: policy-set\n    changes:\n      approvals.policy: 17\n'))).toBe('t.yaml line 19, column 25: steps[1].changes.approvals.policy: is 17; it must be a number of SO holders, 0 to 16');
    expect(refusal(script('  - do: policy-set\n    changes: {}\n'))).toBe('t.yaml line 18, column 14: steps[1].changes: needs at least one setting');
  });

  it('since is last-export or an ISO 8601 date or date and time', () => {
    const steps = (since: string): string => `  - do: audit-export\n    media: lab\n    since: ${since}\n`;
    for (const since of ['last-export', '2026-01-31', '2026-01-31T09:00', '2026-01-31T09:00:00Z', '2026-01-31T09:00:00.123+01:00']) {
      expect(parseScript(script(steps(since)), 't.yaml').steps[0]).toMatchObject({ since });
    }
    for (const since of ['2026-02-30', '2026-01-31T25:00', 'yesterday', '31.01.2026']) {
      expect(refusal(script(steps(since)))).toBe('t.yaml line 19, column 12: steps[1].since: must be last-export or an ISO 8601 date (2026-01-31) or date and time (2026-01-31T09:00:00Z)');
    }
  });

  it('a script has at least one step and at most 200', () => {
    expect(refusal(script('  []\n'.replace('  ', ''), [['steps:\n', 'steps: ']]))).toBe('t.yaml line 16, column 8: steps: needs at least 1');
    expect(refusal(script(Array.from({ length: 201 }, () => '  - do: logout\n').join('')))).toBe('t.yaml line 17, column 3: steps: has more than 200');
  });

  it('YAML 1.2 core schema: yes and off are text, so a yes/no answer must be true or false', () => {
    expect(refusal(script('  - do: backup-set-rotate\n    new-escrow-key: yes\n'))).toBe('t.yaml line 18, column 21: steps[1].new-escrow-key: must be true or false, not "yes"');
    expect(refusal(script('  - do: logout\n    on-exception: off\n'))).toBe('t.yaml line 18, column 19: steps[1].on-exception: is "off"; it must be stop or continue');
  });

  it('a serial written as a number is refused with the advice to quote it', () => {
    expect(refusal(script('  - do: logout\n', [['serial: "0000000000000000"', 'serial: 0000000000000000']]))).toBe(
      't.yaml line 5, column 11: partition.serial: is written as a number: put it in quotes ("0123456789abcdef"), or YAML reads it as a number and drops its leading zeros',
    );
  });

  it('a roster role must be one the terminal knows', () => {
    expect(refusal(script('  - do: logout\n', [['roles: [crypto-officer]', 'roles: [auditor]']]))).toBe('t.yaml line 12, column 30: roster.officers[3].roles[1]: is "auditor"; it must be so-card or backup-card or crypto-officer');
  });
});

describe('the file itself', () => {
  it('a syntax error names its line', () => {
    expect(refusal(script('  - do: backup\n    media: [lab\n  - do: logout\n'))).toMatch(/^t\.yaml line 19, column 3: YAML syntax: /);
  });

  it('a key given twice is refused at the second', () => {
    expect(refusal(script('  - do: backup\n    media: lab\n    media: /media/stick\n'))).toBe('t.yaml line 19, column 5: "media" is given twice in the same map: keep one');
  });

  it('a second document is refused', () => {
    expect(refusal(`${script('  - do: logout\n')}---\ntitle: other\n`)).toMatch(/^t\.yaml line 18, column 1: the file holds more than one YAML document/);
  });

  it('an empty file is refused', () => {
    expect(refusal('# nothing here\n')).toBe('t.yaml line 1, column 1: the file is empty: a ceremony script begins with "tessera-ceremony: 1"');
  });

  it('aliases are refused, so an alias bomb never expands', () => {
    const bomb = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]', ...Array.from({ length: 8 }, (_, i) => `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(9).fill(`*${String.fromCharCode(97 + i)}`).join(',')}]`)].join('\n');
    const message = refusal(bomb);
    expect(message.split('\n')[0]).toBe('t.yaml line 2, column 8: the alias *a is not allowed in a ceremony script: write each value out');
    expect(message).toMatch(/and \d+ more problems/);
  });

  it('a tag is refused', () => {
    expect(refusal(script('  - do: logout\n    title: !secret x\n'))).toBe('t.yaml line 18, column 12: the tag !secret is not allowed in a ceremony script: write plain values');
  });

  it('a file over 256 KiB is refused before it is read', () => {
    const big = script('  - do: logout\n') + `# ${'x'.repeat(MAX_SCRIPT_BYTES)}\n`;
    expect(refusal(big)).toBe('t.yaml line 1, column 1: the file is larger than 256 KiB; a ceremony script is a few pages');
  });

  it('the digest is the SHA-256 of the exact bytes', () => {
    const text = readFileSync(join(shipped, 'practice-backup.yaml'));
    expect(scriptDigest(text)).toBe(createHash('sha256').update(text).digest('hex'));
    expect(scriptDigest(text.toString('utf8'))).toBe(createHash('sha256').update(text).digest('hex'));
    expect(scriptDigest('title: Café')).toBe(createHash('sha256').update(Buffer.from('title: Caf\u00c3\u00a9', 'latin1')).digest('hex'));
  });

  it('whatever the text, reading it either gives a script or refuses it with SCRIPT_INVALID', () => {
    const texts = fc.oneof(
      fc.string({ maxLength: 300 }),
      fc.jsonValue().map((v) => stringify(v)),
      fc.record({ 'tessera-ceremony': fc.constant(1), steps: fc.array(fc.dictionary(fc.constantFrom('do', 'by', 'media', 'ids', 'changes', 'constructor', '__proto__'), fc.jsonValue())) }).map((v) => stringify(v)),
    );
    fc.assert(
      fc.property(texts, (text) => {
        try {
          parseScript(text, 'f.yaml');
        } catch (e) {
          if (!(e instanceof TesseraError) || e.code !== 'SCRIPT_INVALID') throw e;
          expect(e.message).toMatch(/^f\.yaml line \d+, column \d+: /);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('ceremony script nesting', () => {
  it('refuses a file nested too deeply in words, not with a stack overflow', () => {
    const deep = `tessera-ceremony: 1\ntitle: ${'['.repeat(20000)}${']'.repeat(20000)}\n`;
    expect(() => parseScript(deep, 'deep.yaml')).toThrow(/deep\.yaml line \d+, column \d+: /);
  });
});
