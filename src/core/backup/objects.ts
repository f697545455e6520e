// What a backup records of each object, and how a restore recreates it. Per class, the attributes
// that define the object: the settable ones go into the creation (or unwrap) template, the others
// (CKA_LOCAL, CKA_ALWAYS_SENSITIVE, ...) are recorded so a restore can say honestly which ones the
// token did not keep. Key material never appears here: it travels only wrapped.
import { CKA, CKK, CKO } from '../hsm/constants';
import { AUDIT_KEY_LABEL } from '../partition/audit-key';
import { type Handle, type Template, nameOf } from '../hsm/pkcs11-adapter';
import type { SearchTemplate } from '../hsm/hsm-worker';
import type { Session } from '../hsm/session';
import type { EntryBody, KeyCheck, ObjectClassName, RecordedAttribute } from './format';

type Kind = 'bool' | 'ulong' | 'bytes';
interface AttributeRule {
  type: number;
  name: string;
  kind: Kind;
  /** Goes into the template that recreates the object. */
  settable: boolean;
}

const rule = (type: number, name: string, kind: Kind, settable = true): AttributeRule => ({ type, name, kind, settable });

const storage = [rule(CKA.TOKEN, 'token', 'bool'), rule(CKA.PRIVATE, 'private', 'bool'), rule(CKA.MODIFIABLE, 'modifiable', 'bool'), rule(CKA.LABEL, 'label', 'bytes'), rule(CKA.COPYABLE, 'copyable', 'bool'), rule(CKA.DESTROYABLE, 'destroyable', 'bool')];
const keyCommon = [
  rule(CKA.KEY_TYPE, 'key type', 'ulong'),
  rule(CKA.ID, 'id', 'bytes'),
  rule(CKA.START_DATE, 'start date', 'bytes'),
  rule(CKA.END_DATE, 'end date', 'bytes'),
  rule(CKA.DERIVE, 'derive', 'bool'),
  rule(CKA.LOCAL, 'local', 'bool', false),
  rule(CKA.KEY_GEN_MECHANISM, 'key generation mechanism', 'ulong', false),
];
const protection = [
  rule(CKA.SENSITIVE, 'sensitive', 'bool'),
  rule(CKA.EXTRACTABLE, 'extractable', 'bool'),
  rule(CKA.WRAP_WITH_TRUSTED, 'wrap with trusted only', 'bool'),
  rule(CKA.ALWAYS_SENSITIVE, 'always sensitive', 'bool', false),
  rule(CKA.NEVER_EXTRACTABLE, 'never extractable', 'bool', false),
];

const rules: Record<ObjectClassName, AttributeRule[]> = {
  'private-key': [
    ...storage,
    ...keyCommon,
    ...protection,
    rule(CKA.SUBJECT, 'subject', 'bytes'),
    rule(CKA.DECRYPT, 'decrypt', 'bool'),
    rule(CKA.SIGN, 'sign', 'bool'),
    rule(CKA.SIGN_RECOVER, 'sign-recover', 'bool'),
    rule(CKA.UNWRAP, 'unwrap', 'bool'),
    rule(CKA.ALWAYS_AUTHENTICATE, 'always authenticate', 'bool'),
    rule(CKA.MODULUS, 'modulus', 'bytes', false),
    rule(CKA.PUBLIC_EXPONENT, 'public exponent', 'bytes', false),
    rule(CKA.EC_PARAMS, 'curve', 'bytes', false),
  ],
  'secret-key': [
    ...storage,
    ...keyCommon,
    ...protection,
    rule(CKA.ENCRYPT, 'encrypt', 'bool'),
    rule(CKA.DECRYPT, 'decrypt', 'bool'),
    rule(CKA.SIGN, 'sign', 'bool'),
    rule(CKA.VERIFY, 'verify', 'bool'),
    rule(CKA.WRAP, 'wrap', 'bool'),
    rule(CKA.UNWRAP, 'unwrap', 'bool'),
    rule(CKA.TRUSTED, 'trusted', 'bool', false),
    rule(CKA.VALUE_LEN, 'value length', 'ulong', false),
    rule(CKA.CHECK_VALUE, 'check value', 'bytes', false),
  ],
  'public-key': [
    ...storage,
    ...keyCommon,
    rule(CKA.SUBJECT, 'subject', 'bytes'),
    rule(CKA.ENCRYPT, 'encrypt', 'bool'),
    rule(CKA.VERIFY, 'verify', 'bool'),
    rule(CKA.VERIFY_RECOVER, 'verify-recover', 'bool'),
    rule(CKA.WRAP, 'wrap', 'bool'),
    rule(CKA.TRUSTED, 'trusted', 'bool', false),
    rule(CKA.MODULUS, 'modulus', 'bytes'),
    rule(CKA.MODULUS_BITS, 'modulus bits', 'ulong', false),
    rule(CKA.PUBLIC_EXPONENT, 'public exponent', 'bytes'),
    rule(CKA.EC_PARAMS, 'curve', 'bytes'),
    rule(CKA.EC_POINT, 'EC point', 'bytes'),
  ],
  certificate: [
    ...storage,
    rule(CKA.CERTIFICATE_TYPE, 'certificate type', 'ulong'),
    rule(CKA.ID, 'id', 'bytes'),
    rule(CKA.SUBJECT, 'subject', 'bytes'),
    rule(CKA.ISSUER, 'issuer', 'bytes'),
    rule(CKA.SERIAL_NUMBER, 'serial number', 'bytes'),
    rule(CKA.START_DATE, 'start date', 'bytes'),
    rule(CKA.END_DATE, 'end date', 'bytes'),
    rule(CKA.CERTIFICATE_CATEGORY, 'certificate category', 'ulong'),
    rule(CKA.TRUSTED, 'trusted', 'bool', false),
    rule(CKA.CHECK_VALUE, 'check value', 'bytes', false),
    rule(CKA.VALUE, 'value', 'bytes'),
  ],
  data: [...storage, rule(CKA.APPLICATION, 'application', 'bytes'), rule(CKA.OBJECT_ID, 'object identifier', 'bytes'), rule(CKA.VALUE, 'value', 'bytes')],
};

const typesOf = Object.fromEntries(Object.entries(rules).map(([c, list]) => [c, list.map((r) => r.type)])) as Record<ObjectClassName, number[]>;
const ruleOf = (c: ObjectClassName, type: number): AttributeRule | undefined => rules[c].find((r) => r.type === type);

export const CLASS_CODES: Record<ObjectClassName, number> = { data: CKO.DATA, certificate: CKO.CERTIFICATE, 'public-key': CKO.PUBLIC_KEY, 'private-key': CKO.PRIVATE_KEY, 'secret-key': CKO.SECRET_KEY };

export function className(code: number): ObjectClassName | null {
  return (Object.entries(CLASS_CODES).find(([, c]) => c === code)?.[0] as ObjectClassName | undefined) ?? null;
}

export function isKey(c: ObjectClassName): boolean {
  return c === 'private-key' || c === 'secret-key';
}

/** One object as found in the partition, with its attributes as the backup records them. */
export interface CapturedObject {
  handle: Handle;
  class: ObjectClassName;
  label: string;
  id: string;
  keyType: number | null;
  attributes: RecordedAttribute[];
  /**
   * Attributes the token failed to read, by PKCS#11 name with the reason, e.g. "CKA_START_DATE
   * (start date): the HSM failed to read it: the HSM returned CKR_GENERAL_ERROR". They are not in
   * the backup, so a restored object lacks them; the officers are told before they confirm.
   */
  unreadable: string[];
}

/** One object's attributes as the backup records them; `keyType` when the caller knows it already. */
export function capture(session: Session, handle: Handle, code: number, knownKeyType?: number | null): CapturedObject | null {
  const c = className(code);
  if (!c) return null;
  const keyTypeRaw = knownKeyType !== undefined || c === 'data' || c === 'certificate' ? null : session.readRaw(handle, [CKA.KEY_TYPE], code).get(CKA.KEY_TYPE);
  const variant = knownKeyType !== undefined && knownKeyType !== null ? String(knownKeyType) : keyTypeRaw ? String(decodeValue('ulong', keyTypeRaw)) : '';
  const failed = new Map<number, string>();
  const raw = session.readRaw(handle, typesOf[c], code, variant, failed);
  const unreadable = [...failed].map(([type, reason]) => `${nameOf('CKA', type)} (${ruleOf(c, type)?.name ?? 'attribute'}): ${reason}`);
  const attributes: RecordedAttribute[] = [];
  for (const r of rules[c]) {
    const value = raw.get(r.type);
    if (!value) continue;
    if (r.kind === 'bytes' && (r.type === CKA.START_DATE || r.type === CKA.END_DATE) && value.length === 0) continue;
    const decoded = decodeValue(r.kind, value);
    if (decoded !== null) attributes.push({ type: r.type, name: r.name, value: decoded });
  }
  const keyType = attributes.find((a) => a.type === CKA.KEY_TYPE)?.value;
  return {
    handle,
    class: c,
    label: raw.get(CKA.LABEL)?.toString('utf8') ?? '',
    id: raw.get(CKA.ID)?.toString('hex') ?? '',
    keyType: typeof keyType === 'number' ? keyType : null,
    attributes,
    unreadable,
  };
}

function decodeValue(kind: Kind, value: Buffer): boolean | number | string | null {
  if (kind === 'bool') return value.length > 0 && value[0] !== 0;
  if (kind === 'ulong') {
    const n = value.length >= 8 ? value.readBigUInt64LE(0) : value.length >= 4 ? BigInt(value.readUInt32LE(0)) : null;
    // CK_UNAVAILABLE_INFORMATION and other huge values are not recorded.
    return n !== null && n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : null;
  }
  return value.toString('hex');
}

export function attribute(entry: { attributes: RecordedAttribute[] }, type: number): RecordedAttribute['value'] | undefined {
  return entry.attributes.find((a) => a.type === type)?.value;
}

/** The template that recreates the object: class (and key type) plus every settable attribute recorded. */
export function template(entry: Extract<EntryBody, { kind: 'object' }>): Template {
  const out: Template = [{ type: CKA.CLASS, value: CLASS_CODES[entry.class] }];
  for (const a of entry.attributes) {
    const r = ruleOf(entry.class, a.type);
    if (!r?.settable) continue;
    out.push({ type: a.type, value: r.kind === 'bytes' ? Buffer.from(a.value as string, 'hex') : (a.value as boolean | number) });
  }
  return out;
}

/**
 * Recorded attributes the recreated object (as captured after its creation) does not have as
 * recorded, one sentence each, by PKCS#11 name with the value in words, e.g. "CKA_VALUE_LEN (value
 * length): 32 in the backup; the partition reports 0 for the restored object". These are attributes
 * only: the key value itself is checked separately (restore-checks.ts).
 */
export function differences(now: CapturedObject | null, entry: Extract<EntryBody, { kind: 'object' }>): string[] {
  const out: string[] = [];
  for (const a of entry.attributes) {
    const after = now?.attributes.find((b) => b.type === a.type)?.value;
    if (after === a.value) continue;
    const name = `${nameOf('CKA', a.type)} (${a.name})`;
    const now_ = after === undefined || after === '' ? 'the partition gives none for the restored object' : `the partition reports ${show(a.type, after)} for the restored object`;
    out.push(`${name}: ${a.value === '' ? 'none' : show(a.type, a.value)} in the backup; ${now_}`);
  }
  return out;
}

function show(type: number, value: boolean | number | string): string {
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  if (typeof value === 'number') return type === CKA.KEY_GEN_MECHANISM ? `${nameOf('CKM', value)} (0x${value.toString(16)})` : String(value);
  return value.length > 24 ? `${value.slice(0, 16)}… (${value.length / 2} bytes)` : `${value} (hex)`;
}

/** Why an object stays out of a backup; null when it goes in. */
/** Attributes that say how an object is protected (PKCS#11 v2.40 sections 4.4, 4.7-4.9): never guessed on restore. */
const PROTECTION_NAMES = ['CKA_PRIVATE', 'CKA_SENSITIVE', 'CKA_EXTRACTABLE', 'CKA_ALWAYS_SENSITIVE', 'CKA_NEVER_EXTRACTABLE', 'CKA_WRAP_WITH_TRUSTED', 'CKA_MODIFIABLE', 'CKA_COPYABLE', 'CKA_DESTROYABLE', 'CKA_TRUSTED', 'CKA_ALWAYS_AUTHENTICATE'];

export function exclusion(o: CapturedObject, own: { signingKeyId: string | null }): string | null {
  if (attribute(o, CKA.TOKEN) === false) return 'A session object: it disappears when its session ends.';
  if (o.class === 'data' && Buffer.from(String(attribute(o, CKA.APPLICATION) ?? ''), 'hex').toString('utf8') === 'Tessera') return 'One of the terminal\'s records of this partition (its card sets, policy or trash bin): it belongs to this partition only.';
  if ((o.class === 'private-key' || o.class === 'public-key') && o.label === AUDIT_KEY_LABEL) return 'The partition\'s audit key: it seals this partition\'s audit log and stays in its partition (its private half never leaves it).';
  if (own.signingKeyId && o.id === own.signingKeyId && (o.class === 'private-key' || o.class === 'public-key')) return 'The partition\'s backup-signing key: it stays in its partition.';
  // A key whose protection the HSM will not tell is not backed up: restored without it, it could come
  // back less protected (e.g. not sensitive) than it is. Other unreadable attributes only go missing.
  const protection = o.unreadable.filter((u) => PROTECTION_NAMES.some((name) => u.startsWith(`${name} `)));
  if (protection.length > 0) return `The HSM would not read how this object is protected, so a restore could not protect it the same way: ${protection.join('; ')}.`;
  if (isKey(o.class)) {
    if (attribute(o, CKA.EXTRACTABLE) !== true) return 'Not extractable (CKA_EXTRACTABLE is false): the HSM never lets this key leave it, even wrapped.';
    if (attribute(o, CKA.WRAP_WITH_TRUSTED) === true) return 'It may be wrapped only by a trusted key (CKA_WRAP_WITH_TRUSTED); the backup key is not one.';
  }
  return null;
}

/** How a restore checks the key it recreated. */
export function keyCheck(o: CapturedObject, publicKeys: Map<string, CapturedObject>): KeyCheck {
  if (o.class === 'secret-key') {
    const kcv = attribute(o, CKA.CHECK_VALUE);
    return typeof kcv === 'string' && kcv.length > 0 ? { kind: 'check-value', value: kcv } : { kind: 'none', reason: 'The token gives no check value for this key.' };
  }
  if (o.keyType === CKK.RSA) {
    const modulus = attribute(o, CKA.MODULUS);
    return typeof modulus === 'string' ? { kind: 'rsa-modulus', modulus } : { kind: 'none', reason: 'The token does not show this key\'s modulus.' };
  }
  if (o.keyType === CKK.EC) {
    const pub = publicKeys.get(`${CKK.EC}:${o.id}`);
    const params = pub && attribute(pub, CKA.EC_PARAMS);
    const point = pub && attribute(pub, CKA.EC_POINT);
    if (typeof params === 'string' && typeof point === 'string' && attribute(o, CKA.SIGN) === true) return { kind: 'ec-public', params, point };
    return { kind: 'none', reason: attribute(o, CKA.SIGN) === true ? 'The partition holds no public key with this key\'s id to check it against.' : 'The key may not sign, so it cannot be tested against its public key.' };
  }
  return { kind: 'none', reason: 'No check is known for this key type.' };
}

export function matchKey(o: CapturedObject): string {
  return `${o.keyType ?? ''}:${o.id}`;
}

/**
 * Every object the session sees (the crypto officer sees private ones), as a backup records it.
 * Objects are found class by class, so their class needs no read of its own. Each search of a
 * large partition is one long PKCS#11 call (SoftHSM2 matches every object in C_FindObjectsInit):
 * `find` runs it off the main thread (PartitionService.find, on the HSM worker); the attributes are
 * then read here, the event loop getting a turn whenever `yieldNow` says.
 */
export async function survey(session: Session, find: (template: SearchTemplate) => Promise<Handle[]>, yieldNow: () => Promise<void>): Promise<CapturedObject[]> {
  const out: CapturedObject[] = [];
  for (const [name, code] of Object.entries(CLASS_CODES) as [ObjectClassName, number][]) {
    const handles = await find([{ type: CKA.CLASS, value: code }]);
    for (const handle of handles) {
      const captured = capture(session, handle, code, name === 'data' || name === 'certificate' ? null : undefined);
      if (captured) out.push(captured);
      await yieldNow();
    }
  }
  return out;
}
