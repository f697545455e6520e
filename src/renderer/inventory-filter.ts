// Filtering and sorting the key inventory, and the words each row shows: pure functions, so 10,000
// objects stay quick, the rules are unit-tested, and the filter searches exactly what the table shows.
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

/** What the table knows about an object beyond its summary: whether it is in the trash bin. */
export interface RowContext {
  /** CKA_ID (hex) of the keys in the trash bin (invalidated). */
  invalidated: ReadonlySet<string>;
}

const noContext: RowContext = { invalidated: new Set() };

const collator = new Intl.Collator(undefined, { sensitivity: 'base', numeric: true });

/** The Class column's words: `private-key` as "private key". */
export function classText(objectClass: ObjectClassName): string {
  return objectClass.replace('-', ' ');
}

/**
 * The Protection column's words, from CKA_EXTRACTABLE, CKA_SENSITIVE and CKA_PRIVATE (PKCS#11 v2.40
 * §4.4, §4.9): "not extractable", "extractable", "sensitive", "private"; an attribute the token did
 * not give adds nothing.
 */
export function protectionWords(o: ObjectSummary): string[] {
  const words: string[] = [];
  if (o.extractable === false) words.push('not extractable');
  if (o.extractable === true) words.push('extractable');
  if (o.sensitive === true) words.push('sensitive');
  if (o.private === true) words.push('private');
  return words;
}

/** The marker of an object with attributes the token failed to read (ObjectSummary.unreadable). */
export const UNREADABLE_WORDS = 'some attributes unreadable';

/** The State column's words: "invalidated" (in the trash bin) and {@link UNREADABLE_WORDS}. */
export function stateWords(o: ObjectSummary, context: RowContext = noContext): string[] {
  const words: string[] = [];
  if ((o.class === 'private-key' || o.class === 'secret-key' || o.class === 'public-key') && o.id !== '' && context.invalidated.has(o.id)) words.push('invalidated');
  if (o.unreadable.length > 0) words.push(UNREADABLE_WORDS);
  return words;
}

// Words that belong together in the filter, so "not extractable" is one term and never matches an
// extractable key whose label says "Notes".
const phrases = ['not extractable', UNREADABLE_WORDS, 'private key', 'public key', 'secret key'];

/**
 * The filter's terms, lower-cased: "quoted text" and the known phrases ("not extractable", "private
 * key", ...) as one term each, every other word as a term of its own.
 */
export function filterTerms(text: string): string[] {
  let rest = text.toLocaleLowerCase();
  const terms: string[] = [];
  rest = rest.replace(/"([^"]*)"?/g, (_, quoted: string) => {
    const term = quoted.trim().replace(/\s+/g, ' ');
    if (term) terms.push(term);
    return ' ';
  });
  rest = ` ${rest.replace(/\s+/g, ' ')} `;
  for (const phrase of phrases) {
    while (rest.includes(` ${phrase} `)) {
      terms.push(phrase);
      rest = rest.replace(` ${phrase} `, ' ');
    }
  }
  return [...terms, ...rest.split(' ').filter(Boolean)];
}

/**
 * Whether `term` names this flag word: at the start of one of its words, and never its negation
 * ("extractable" is not found in "not extractable", "sign" is found in "sign" but not in "verify").
 */
function wordMatch(words: string, term: string): boolean {
  for (let at = words.indexOf(term); at >= 0; at = words.indexOf(term, at + 1)) {
    const start = at === 0 || words[at - 1] === ' ';
    const negated = words.slice(0, at).endsWith('not ') && !term.startsWith('not');
    if (start && !negated) return true;
  }
  return false;
}

interface Searchable {
  /** Label, class, type, bits, id: any part of them matches. */
  text: string;
  /** Protection, usage and state words, each matched by {@link wordMatch}. */
  flags: string[];
}

function searchable(o: ObjectSummary, context: RowContext): Searchable {
  const text = [o.label, classText(o.class), o.keyType ?? '', o.size ?? '', o.id].join('\n').toLocaleLowerCase();
  return { text, flags: [...protectionWords(o), ...o.usage, ...stateWords(o, context)] };
}

const termMatches = (s: Searchable, term: string): boolean => s.text.includes(term) || s.flags.some((f) => wordMatch(f, term));

/**
 * The objects of the chosen class that match every term of the filter text (see {@link filterTerms})
 * in a column the table shows: label, class, type, bits, id (any part), protection, usage and state
 * (at the start of a word, "extractable" never matching "not extractable"); case is ignored.
 */
export function filterObjects(objects: readonly ObjectSummary[], filter: Filter, context: RowContext = noContext): ObjectSummary[] {
  const terms = filterTerms(filter.text);
  return objects.filter((o) => {
    if (filter.objectClass !== 'all' && o.class !== filter.objectClass) return false;
    if (terms.length === 0) return true;
    const s = searchable(o, context);
    return terms.every((t) => termMatches(s, t));
  });
}

/** The usages of `o` that a term of the filter text names, so the row can show why it matched. */
export function matchedUsages(o: ObjectSummary, text: string): string[] {
  const terms = filterTerms(text);
  return o.usage.filter((u) => terms.some((t) => wordMatch(u, t)));
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
