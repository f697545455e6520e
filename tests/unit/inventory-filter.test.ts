import { describe, expect, it } from 'vitest';
import { filterObjects, filterTerms, matchedUsages, protectionWords, sortObjects, stateWords } from '../../src/renderer/inventory-filter';
import type { ObjectSummary } from '../../src/shared/types';

function object(label: string, extra: Partial<ObjectSummary> = {}): ObjectSummary {
  return {
    uri: `pkcs11:object=${label}`, ref: `pkcs11:object=${label};x-tessera-digest=00`, class: 'secret-key', keyType: 'AES', size: 256, label, labelHex: '', id: '01', token: true, private: true, sensitive: true,
    extractable: true, neverExtractable: false, alwaysSensitive: true, local: true, modifiable: true, copyable: true, destroyable: true,
    usage: ['encrypt'], startDate: null, endDate: null, checkValue: null, curve: null, unreadable: [], subject: null, issuer: null, serialNumber: null, ...extra,
  };
}

const objects = [
  object('Signing Key 2026', { class: 'private-key', keyType: 'RSA', size: 2048, id: '01', usage: ['sign'] }),
  object('TLS Server Key', { class: 'public-key', keyType: 'EC', size: 256, id: '11', usage: ['verify'] }),
  object('Schlüssel für Überweisungen', { class: 'private-key', keyType: 'EC', size: 256, id: '13' }),
  object('Data Encryption Key', { id: '22' }),
  object('Partition Notes', { class: 'data', keyType: null, size: null, id: '', usage: [], private: false, sensitive: null, extractable: null }),
  object('Code Signing Root', { class: 'private-key', keyType: 'RSA', size: 2048, id: '03', usage: ['sign'], extractable: false }),
  object('Transport Key', { class: 'private-key', keyType: 'RSA', size: 2048, id: '02', usage: ['decrypt', 'sign'] }),
  object('Dated Payment Key', { id: '41', unreadable: [{ name: 'startDate', reason: 'the HSM failed to read it: the HSM returned CKR_GENERAL_ERROR' }] }),
];
const labels = (text: string, invalidated: string[] = []): string[] => filterObjects(objects, { text, objectClass: 'all' }, { invalidated: new Set(invalidated) }).map((o) => o.label);

describe('inventory filter and sort', () => {
  it('filters by every word, across label, id, type and usage, ignoring case', () => {
    expect(filterObjects(objects, { text: 'tls', objectClass: 'all' }).map((o) => o.label)).toEqual(['TLS Server Key']);
    expect(filterObjects(objects, { text: '13 256', objectClass: 'all' }).map((o) => o.id)).toEqual(['13']);
    expect(filterObjects(objects, { text: 'SCHLÜSSEL', objectClass: 'all' })).toHaveLength(1);
    expect(filterObjects(objects, { text: '', objectClass: 'private-key' })).toHaveLength(4);
    expect(filterObjects(objects, { text: 'nothing like this', objectClass: 'all' })).toEqual([]);
  });

  it('searches the Protection column: "not extractable" is one term, and "extractable" never matches its negation', () => {
    expect(labels('not extractable')).toEqual(['Code Signing Root']);
    expect(labels('NOT   Extractable rsa')).toEqual(['Code Signing Root']);
    // "Partition Notes" holds "not" but is no key that is not extractable.
    expect(labels('extractable')).not.toContain('Code Signing Root');
    expect(labels('extractable')).toContain('Transport Key');
    expect(labels('sensitive')).not.toContain('Partition Notes');
    expect(labels('"not extractable"')).toEqual(['Code Signing Root']);
  });

  it('searches usage words at the start of a word and tells which usage matched', () => {
    expect(labels('sign')).toEqual(['Signing Key 2026', 'Code Signing Root', 'Transport Key']);
    expect(labels('decrypt')).toEqual(['Transport Key']);
    const transport = objects.find((o) => o.label === 'Transport Key') as ObjectSummary;
    expect(matchedUsages(transport, 'sign')).toEqual(['sign']);
    expect(matchedUsages(transport, 'key')).toEqual([]);
  });

  it('searches the class as shown ("private key") and the State column', () => {
    expect(labels('private key')).toEqual(['Signing Key 2026', 'Schlüssel für Überweisungen', 'Code Signing Root', 'Transport Key']);
    expect(labels('unreadable')).toEqual(['Dated Payment Key']);
    expect(labels('invalidated', ['22'])).toEqual(['Data Encryption Key']);
    expect(labels('invalidated')).toEqual([]);
  });

  it('reads the words of a row as the table shows them', () => {
    const [signing, , , , notes, root, , dated] = objects as ObjectSummary[] & { length: 8 };
    expect(protectionWords(root as ObjectSummary)).toEqual(['not extractable', 'sensitive', 'private']);
    expect(protectionWords(notes as ObjectSummary)).toEqual([]);
    expect(stateWords(dated as ObjectSummary)).toEqual(['some attributes unreadable']);
    expect(stateWords(signing as ObjectSummary, { invalidated: new Set(['01']) })).toEqual(['invalidated']);
    expect(filterTerms('rsa "code signing" not extractable')).toEqual(['code signing', 'not extractable', 'rsa']);
  });

  it('sorts by any column both ways, numbers as numbers, missing values first', () => {
    expect(sortObjects(objects, { key: 'size', descending: false }).map((o) => o.size)).toEqual([null, 256, 256, 256, 256, 2048, 2048, 2048]);
    expect(sortObjects(objects, { key: 'label', descending: true })[0]?.label).toBe('Transport Key');
    expect(sortObjects(objects, { key: 'id', descending: false }).map((o) => o.id)).toEqual(['', '01', '02', '03', '11', '13', '22', '41']);
  });

  it('leaves the input untouched', () => {
    const before = objects.map((o) => o.label);
    sortObjects(objects, { key: 'label', descending: true });
    expect(objects.map((o) => o.label)).toEqual(before);
  });
});
