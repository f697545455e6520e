import { describe, expect, it } from 'vitest';
import { officersOf } from '../../src/core/audit/officers';
import { filterAudit, filterChoices, noFilter } from '../../src/renderer/audit-filter';
import { actionInWords, detailsInWords, outcomeInWords, valueInWords } from '../../src/shared/audit-words';
import { errorCodes } from '../../src/shared/errors';
import type { AuditEntryView } from '../../src/shared/types';

const terminal = 'terminal (workstation user root)';
function entry(seq: number, action: string, outcome: AuditEntryView['outcome'], details: AuditEntryView['details'], time = '2026-11-30T10:00:00.000Z'): AuditEntryView {
  return { seq, time, actor: terminal, action, target: 'Lab (serial 1234)', outcome, details, officers: officersOf(details) };
}

describe('audit entries in officers’ words', () => {
  it('names actions in words, and spells out a code it does not know', () => {
    expect(actionInWords('so.login')).toBe('Security officers logged in');
    expect(actionInWords('card.pin')).toBe('Card PIN typed');
    expect(actionInWords('partition.login')).toBe('Crypto officer logged in');
    expect(actionInWords('test.some-step')).toBe('Test some step');
  });

  it('says outcomes in words with their reason: a wrong card PIN, a refusal of an invalid request', () => {
    expect(outcomeInWords({ action: 'card.pin', outcome: 'refused', details: { error: 'PIN_INCORRECT', blocked: false } })).toBe('Wrong card PIN');
    expect(outcomeInWords({ action: 'card.pin', outcome: 'refused', details: { blocked: true } })).toBe('Wrong card PIN: the card is now blocked');
    expect(outcomeInWords({ action: 'module.refused', outcome: 'refused', details: { error: 'INVALID_REQUEST' } })).toBe('Refused: invalid request');
    expect(outcomeInWords({ action: 'so.login', outcome: 'failed', details: { error: 'PIN_INCORRECT' } })).toBe('Failed: wrong PIN');
    expect(outcomeInWords({ action: 'cardset.enrol', outcome: 'failed', details: { error: 'cancelled' } })).toBe('Cancelled');
    expect(outcomeInWords({ action: 'so.login', outcome: 'ok', details: {} })).toBe('Done');
  });

  it('has words for every error code, never the code itself', () => {
    for (const code of errorCodes) {
      const words = outcomeInWords({ action: 'x', outcome: 'refused', details: { error: code } });
      expect(words).toMatch(/^Refused: \S/);
      expect(words).not.toContain(code);
    }
  });

  it('shows no raw null, true or false: yes, no, none', () => {
    expect([null, true, false, '', 0, 'text'].map(valueInWords)).toEqual(['none', 'yes', 'no', 'none', '0', 'text']);
    const lines = detailsInWords({ action: 'so.login', details: { holders: 'Ann', cards: 'aa', blocked: false, previousHeadSeq: null, practice: true, triesLeft: 2, error: 'PIN_INCORRECT' } });
    expect(lines.map((l) => `${l.name}: ${l.value}`)).toEqual(['blocked: no', 'previous head entry: none', 'practice: yes', 'tries left: 2', 'code: so.login', 'error code: PIN_INCORRECT']);
    expect(lines.filter((l) => l.code).map((l) => l.value)).toEqual(['so.login', 'PIN_INCORRECT']);
  });
});

describe('who: the officers an entry names', () => {
  it('pairs holders with their cards, from every way the writers record them', () => {
    expect(officersOf({ holders: 'Ann, Ben', cards: 'aa11, bb22' })).toEqual([{ holder: 'Ann', card: 'aa11' }, { holder: 'Ben', card: 'bb22' }]);
    expect(officersOf({ holder: 'Ann', card: 'aa11', triesLeft: 2 })).toEqual([{ holder: 'Ann', card: 'aa11' }]);
    expect(officersOf({ holder: 'Ann', card: null })).toEqual([{ holder: 'Ann', card: null }]);
    expect(officersOf({ approvedBy: 'Ann, Ben', approverCards: 'aa11, bb22' })).toEqual([{ holder: 'Ann', card: 'aa11' }, { holder: 'Ben', card: 'bb22' }]);
    expect(officersOf({ approvers: 'Cy', approverCards: 'cc33', holders: 'Ann', cards: 'aa11' })).toEqual([{ holder: 'Ann', card: 'aa11' }, { holder: 'Cy', card: 'cc33' }]);
    expect(officersOf({ proved: 'Ann=aa11, Ben=bb22' })).toEqual([{ holder: 'Ann', card: 'aa11' }, { holder: 'Ben', card: 'bb22' }]);
  });

  it('names no card when the lists do not pair, and nobody when no officer is named', () => {
    expect(officersOf({ holders: 'Ann, Ben', cards: 'aa11' })).toEqual([{ holder: 'Ann', card: null }, { holder: 'Ben', card: null }]);
    expect(officersOf({ holders: '', reason: 'x' })).toEqual([]);
    expect(officersOf({ role: 'crypto officer' })).toEqual([]);
  });
});

describe('filtering the audit entries', () => {
  const entries = [
    entry(4, 'so.login', 'ok', { holders: 'Ann, Ben', cards: 'aa11, bb22' }, '2026-11-30T12:00:00.000Z'),
    entry(3, 'card.pin', 'refused', { holder: 'Ben', card: 'bb22', triesLeft: 2, blocked: false, error: 'PIN_INCORRECT' }, '2026-11-30T11:00:00.000Z'),
    entry(2, 'module.refused', 'refused', { error: 'INVALID_REQUEST' }, '2026-11-20T11:00:00.000Z'),
    entry(1, 'partition.login', 'ok', { role: 'crypto officer' }, '2026-11-10T11:00:00.000Z'),
  ];
  const seqs = (f: Partial<typeof noFilter>): number[] => filterAudit(entries, { ...noFilter, ...f }).map((e) => e.seq);

  it('filters by officer, action, outcome and period, together', () => {
    expect(seqs({})).toEqual([4, 3, 2, 1]);
    expect(seqs({ officer: 'ben' })).toEqual([4, 3]);
    expect(seqs({ action: 'card.pin' })).toEqual([3]);
    expect(seqs({ outcome: 'refused' })).toEqual([3, 2]);
    expect(seqs({ officer: 'Ben', outcome: 'ok' })).toEqual([4]);
    expect(seqs({ from: '2026-11-15', until: '2026-11-25' })).toEqual([2]);
  });

  it('searches the words and the codes a row shows, every word given', () => {
    expect(seqs({ text: 'wrong card pin' })).toEqual([3]);
    expect(seqs({ text: 'PIN_INCORRECT' })).toEqual([3]);
    expect(seqs({ text: 'invalid request' })).toEqual([2]);
    expect(seqs({ text: 'bb22' })).toEqual([4, 3]);
    expect(seqs({ text: 'security officers' })).toEqual([4]);
    expect(seqs({ text: 'nobody-here' })).toEqual([]);
  });

  it('offers the officers and actions the entries name', () => {
    const choices = filterChoices(entries);
    expect(choices.officers).toEqual(['Ann', 'Ben']);
    expect(choices.actions.map((a) => a.words)).toEqual(['Card PIN typed', 'Crypto officer logged in', 'PKCS#11 module refused', 'Security officers logged in']);
  });
});
