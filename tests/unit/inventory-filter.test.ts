import { describe, expect, it } from 'vitest';
import { filterObjects, sortObjects } from '../../src/renderer/inventory-filter';
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
  object('Partition Notes', { class: 'data', keyType: null, size: null, id: '', usage: [] }),
];

describe('inventory filter and sort', () => {
  it('filters by every word, across label, id, type and usage, ignoring case', () => {
    expect(filterObjects(objects, { text: 'tls', objectClass: 'all' }).map((o) => o.label)).toEqual(['TLS Server Key']);
    expect(filterObjects(objects, { text: '13 256', objectClass: 'all' }).map((o) => o.id)).toEqual(['13']);
    expect(filterObjects(objects, { text: 'SCHLÜSSEL', objectClass: 'all' })).toHaveLength(1);
    expect(filterObjects(objects, { text: 'sign', objectClass: 'all' }).map((o) => o.label)).toEqual(['Signing Key 2026']);
    expect(filterObjects(objects, { text: '', objectClass: 'private-key' })).toHaveLength(2);
    expect(filterObjects(objects, { text: 'nothing like this', objectClass: 'all' })).toEqual([]);
  });

  it('sorts by any column both ways, numbers as numbers, missing values first', () => {
    expect(sortObjects(objects, { key: 'size', descending: false }).map((o) => o.size)).toEqual([null, 256, 256, 256, 2048]);
    expect(sortObjects(objects, { key: 'label', descending: true })[0]?.label).toBe('TLS Server Key');
    expect(sortObjects(objects, { key: 'id', descending: false }).map((o) => o.id)).toEqual(['', '01', '11', '13', '22']);
  });

  it('leaves the input untouched', () => {
    const before = objects.map((o) => o.label);
    sortObjects(objects, { key: 'label', descending: true });
    expect(objects.map((o) => o.label)).toEqual(before);
  });
});
