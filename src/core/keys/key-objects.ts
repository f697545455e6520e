// A key as officers name it: the objects of one CKA_ID (a key pair's private and public key count
// once; a secret key is one object), found in the crypto officer's session, with their usage
// attributes (PKCS#11 v2.40 section 4.8-4.10: the CK_BBOOL attributes that allow an operation).
import { labelText } from '../../shared/label-text';
import type { ObjectClassName, UsageAttributes } from '../../shared/types';
import { TesseraError } from '../errors';
import { A, keyTypeName } from '../hsm/attributes';
import { CKA, CKO } from '../hsm/constants';
import type { Handle } from '../hsm/pkcs11-adapter';
import { parseObjectUri } from '../hsm/pkcs11-uri';
import type { Session } from '../hsm/session';

/** The usage attributes of each key class, by PKCS#11 name: what invalidation turns off. */
export const USAGE: Record<'private-key' | 'public-key' | 'secret-key', Record<string, number>> = {
  'private-key': { CKA_SIGN: CKA.SIGN, CKA_SIGN_RECOVER: CKA.SIGN_RECOVER, CKA_DECRYPT: CKA.DECRYPT, CKA_UNWRAP: CKA.UNWRAP, CKA_DERIVE: CKA.DERIVE },
  'public-key': { CKA_VERIFY: CKA.VERIFY, CKA_VERIFY_RECOVER: CKA.VERIFY_RECOVER, CKA_ENCRYPT: CKA.ENCRYPT, CKA_WRAP: CKA.WRAP, CKA_DERIVE: CKA.DERIVE },
  'secret-key': { CKA_ENCRYPT: CKA.ENCRYPT, CKA_DECRYPT: CKA.DECRYPT, CKA_SIGN: CKA.SIGN, CKA_VERIFY: CKA.VERIFY, CKA_WRAP: CKA.WRAP, CKA_UNWRAP: CKA.UNWRAP, CKA_DERIVE: CKA.DERIVE },
};

export type KeyClass = keyof typeof USAGE;
const CLASSES: [KeyClass, number][] = [
  ['private-key', CKO.PRIVATE_KEY],
  ['secret-key', CKO.SECRET_KEY],
  ['public-key', CKO.PUBLIC_KEY],
];

export interface KeyObject {
  handle: Handle;
  class: KeyClass & ObjectClassName;
  keyType: string | null;
  label: string;
  /** The usage attributes the token gives for this object, as they are now. */
  usage: UsageAttributes;
}

/** The objects of one key: private/secret first, the public key last (the order they are destroyed in). */
export interface KeyGroup {
  id: string;
  label: string;
  objects: KeyObject[];
}

/**
 * The key selected by `--id HEX` or by a listing's URI: its CKA_ID in lowercase hex.
 * @throws TesseraError INVALID_REQUEST when it is neither.
 */
export function keyIdOf(selector: string): string {
  const text = selector.trim();
  if (text.startsWith('pkcs11:')) {
    const parsed = parseObjectUri(text);
    if (!parsed?.id) throw new TesseraError('INVALID_REQUEST', 'That URI names no key id (id=…). Copy the key\'s URI from the listing.');
    return parsed.id.toString('hex');
  }
  const hex = text.toLowerCase().replace(/^0x/, '').replace(/[:\s]/g, '');
  if (!/^([0-9a-f]{2}){1,128}$/.test(hex)) throw new TesseraError('INVALID_REQUEST', `“${selector}” is not a key id: give the CKA_ID in hex (e.g. 01 or a1b2c3) or the key's URI from the listing.`);
  return hex;
}

/** CKA_LABEL as officers see it (labelText: text, or escaped where its bytes are not clean text). */
function labelOf(value: unknown): string {
  return Buffer.isBuffer(value) ? labelText(value) : '';
}

/**
 * The key objects with CKA_ID `id` (hex) in the session (the crypto officer's, to see private keys).
 * @throws TesseraError OBJECT_NOT_FOUND when there is none; INVALID_REQUEST when the id names more
 *   than one key (two private keys, two secret keys, or a secret key beside a key pair).
 */
export function findKey(session: Session, id: string): KeyGroup {
  const objects: KeyObject[] = [];
  for (const [name, cko] of CLASSES) {
    for (const handle of session.findAll([
      { type: CKA.CLASS, value: cko },
      { type: CKA.ID, value: Buffer.from(id, 'hex') },
    ])) {
      const flags = session.readFlags(handle, Object.values(USAGE[name]));
      const usage: UsageAttributes = {};
      for (const [attr, type] of Object.entries(USAGE[name])) {
        const value = flags.get(type);
        if (value !== undefined) usage[attr] = value;
      }
      const read = session.read(handle, [A.label, A.keyType], cko);
      const keyType = read.values.get(CKA.KEY_TYPE);
      objects.push({ handle, class: name, keyType: typeof keyType === 'number' ? keyTypeName(keyType) : null, label: labelOf(read.values.get(CKA.LABEL)), usage });
    }
  }
  if (objects.length === 0) throw new TesseraError('OBJECT_NOT_FOUND', `No key with id ${id} is in the partition.`);
  const count = (c: KeyClass): number => objects.filter((o) => o.class === c).length;
  if (count('private-key') > 1 || count('secret-key') > 1 || count('public-key') > 1 || (count('secret-key') > 0 && count('private-key') + count('public-key') > 0)) {
    throw new TesseraError('INVALID_REQUEST', `More than one key has id ${id} (${objects.map((o) => `${o.class} “${o.label}”`).join(', ')}). The terminal handles one key at a time: give these keys distinct ids first.`);
  }
  const main = objects.find((o) => o.class !== 'public-key') ?? objects[0];
  return { id, label: main?.label ?? '', objects };
}

/** Turns every usage attribute of the key off (those that are on). */
export function invalidateObjects(session: Session, key: KeyGroup): void {
  for (const o of key.objects) {
    const on = Object.entries(o.usage).filter(([, v]) => v);
    if (on.length > 0) session.setAttributes(o.handle, on.map(([name]) => ({ type: USAGE[o.class][name] as number, value: false })));
  }
}

/** Sets each object's usage attributes to `usage` (by class and label order), as recorded. */
export function setUsage(session: Session, key: KeyGroup, recorded: { class: string; usage: UsageAttributes }[]): void {
  for (const o of key.objects) {
    const was = recorded.find((r) => r.class === o.class);
    if (!was) continue;
    const template = Object.entries(was.usage)
      .filter(([name]) => USAGE[o.class][name] !== undefined)
      .map(([name, value]) => ({ type: USAGE[o.class][name] as number, value }));
    if (template.length > 0) session.setAttributes(o.handle, template);
  }
}

/** Whether every usage attribute of the key is off. */
export function isInvalidated(key: KeyGroup): boolean {
  return key.objects.every((o) => Object.values(o.usage).every((v) => !v));
}
