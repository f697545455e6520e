// Filtering and sorting the key inventory: pure functions, so 10,000 objects stay quick and the
// rules are unit-tested.
import type { ObjectClassName, ObjectSummary } from '../shared/types';

export type SortKey = 'label' | 'class' | 'keyType' | 'size' | 'id';
export interface Sort {
  key: SortKey;
  descending: boolean;
}

export interface Filter {
  text: string;
  objectClass: ObjectClassName | 'all';
}

const collator = new Intl.Collator(undefined, { sensitivity: 'base', numeric: true });

export function filterObjects(objects: readonly ObjectSummary[], filter: Filter): ObjectSummary[] {
  const words = filter.text.toLocaleLowerCase().split(/\s+/).filter(Boolean);
  return objects.filter((o) => {
    if (filter.objectClass !== 'all' && o.class !== filter.objectClass) return false;
    if (words.length === 0) return true;
    const haystack = `${o.label} ${o.id} ${o.class} ${o.keyType ?? ''} ${o.size ?? ''} ${o.usage.join(' ')}`.toLocaleLowerCase();
    return words.every((w) => haystack.includes(w));
  });
}

export function sortObjects(objects: readonly ObjectSummary[], sort: Sort): ObjectSummary[] {
  const sign = sort.descending ? -1 : 1;
  const value = (o: ObjectSummary): string | number => {
    const v = o[sort.key];
    return v ?? '';
  };
  return [...objects].sort((a, b) => {
    const x = value(a);
    const y = value(b);
    const order = typeof x === 'number' && typeof y === 'number' ? x - y : collator.compare(String(x), String(y));
    return sign * (order || collator.compare(a.label, b.label) || collator.compare(a.uri, b.uri));
  });
}
