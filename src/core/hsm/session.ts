// One PKCS#11 session: login/logout, object search and attribute reads. Attribute reads go through
// the registry, never ask for key material, and learn which attributes a token does not support
// so that one bulk call per object is the normal case.
import { TesseraError } from '../errors';
import { wipe } from '../secrets';
import { type AttributeSpec, type AttributeValue, decode, isNeverRead } from './attributes';
import { CKA, CKO } from './constants';
import { toHsmError, withHsmErrors } from './hsm-errors';
import { type Handle, type Pkcs11, type Template, asPkcs11Failure, pkcs11Call } from './pkcs11-adapter';

/** What one C_GetAttributeValue round gave, by CKA_* type. */
export interface AttributeRead {
  values: Map<number, AttributeValue>;
  /** Attributes asked for but not given by design (sensitive, not supported), with the reason. */
  withheld: Map<number, string>;
  /**
   * Attributes the token failed to read, with the reason in words and the CK_RV name (e.g. "the HSM
   * failed to read it: the HSM returned CKR_GENERAL_ERROR"), or a value the terminal cannot decode.
   */
  unreadable: Map<number, string>;
}

const reasons: Record<string, string> = {
  CKR_ATTRIBUTE_SENSITIVE: 'sensitive: the HSM does not reveal it',
  CKR_ATTRIBUTE_TYPE_INVALID: 'not supported by this token for this object',
};

/**
 * Return values of C_GetAttributeValue (PKCS#11 v2.40 section 5.7) that concern the library, the
 * session, the login, the token or the object as a whole, not one attribute: they end the read
 * loudly, whatever attribute was asked for. Any other failure of a one-attribute read (e.g.
 * SoftHSM2's CKR_GENERAL_ERROR on a private key's CKA_START_DATE, SoftHSMv2 #655) costs only that
 * attribute.
 */
const notAboutTheAttribute: ReadonlySet<string> = new Set([
  'CKR_CRYPTOKI_NOT_INITIALIZED',
  'CKR_SESSION_HANDLE_INVALID',
  'CKR_SESSION_CLOSED',
  'CKR_DEVICE_REMOVED',
  'CKR_DEVICE_ERROR',
  'CKR_DEVICE_MEMORY',
  'CKR_HOST_MEMORY',
  'CKR_TOKEN_NOT_PRESENT',
  'CKR_TOKEN_NOT_RECOGNIZED',
  'CKR_SLOT_ID_INVALID',
  'CKR_USER_NOT_LOGGED_IN',
  'CKR_OBJECT_HANDLE_INVALID',
  'CKR_ARGUMENTS_BAD',
  'CKR_FUNCTION_NOT_SUPPORTED',
]);

/** Whether a failed read must end the whole read (not a TypeError or decode error of one value, nor an attribute's CK_RV). */
function isAboutTheSession(error: unknown): boolean {
  const failure = asPkcs11Failure(error);
  if (failure) return notAboutTheAttribute.has(failure.rvName);
  return !(error instanceof TypeError || error instanceof RangeError);
}

/** The backup's raw reads tolerate only what the token withholds by design. */
function isPartialFailure(error: unknown): boolean {
  const name = asPkcs11Failure(error)?.rvName;
  return error instanceof TypeError || name === 'CKR_ATTRIBUTE_TYPE_INVALID' || name === 'CKR_ATTRIBUTE_SENSITIVE';
}

const failureWords: Record<string, string> = {
  CKR_GENERAL_ERROR: 'the HSM failed to read it',
  CKR_FUNCTION_FAILED: 'the HSM could not read it',
  CKR_BUFFER_TOO_SMALL: 'the HSM gave it a wrong length',
};

export class Session {
  private closed = false;
  /** Per template, object class and key type: attribute types the token rejected before, skipped in bulk reads. */
  private readonly unsupported = new Map<string, Set<number>>();
  /** Templates checked for key material already, by object class, with their key in `unsupported` by key type (see readKey). */
  private readonly templates = new WeakMap<readonly AttributeSpec[], Map<number | null, Map<number | null, string>>>();
  /** readOne's answer, reused: the inventory reads class and key type of every object alone. */
  private readonly scratch: AttributeRead = { values: new Map(), withheld: new Map(), unreadable: new Map() };
  /** One frozen one-attribute template per spec, for readOne. */
  private readonly singles = new Map<AttributeSpec, readonly AttributeSpec[]>();

  constructor(
    private readonly lib: Pkcs11,
    readonly handle: Handle,
  ) {}

  /**
   * Logs in with a PIN held in a Buffer, which is wiped afterwards. The binding only takes
   * strings, so a short-lived copy exists in the V8 heap for the duration of the call.
   */
  login(userType: number, pin: Buffer): void {
    try {
      withHsmErrors('C_Login', () => this.lib.C_Login(this.handle, userType, pin.toString('utf8')));
    } finally {
      wipe(pin);
    }
  }

  /** C_SetPIN for the user logged in on this session. The caller wipes both buffers. */
  setPin(current: Buffer, next: Buffer): void {
    withHsmErrors('C_SetPIN', () => this.lib.C_SetPIN(this.handle, current.toString('utf8'), next.toString('utf8')));
  }

  /**
   * C_InitPIN: the SO, logged in on this session, sets the normal user's (crypto officer's) PIN
   * (PKCS#11 v2.40 section 5.6). The caller wipes the buffer; the binding takes a string, so a
   * short-lived copy exists in the V8 heap for the duration of the call.
   * @throws TesseraError from the token's answer, e.g. PIN_INVALID (CKR_PIN_LEN_RANGE, CKR_PIN_INVALID),
   *   NOT_LOGGED_IN (CKR_USER_NOT_LOGGED_IN: no SO session).
   */
  initPin(pin: Buffer): void {
    withHsmErrors('C_InitPIN', () => this.lib.C_InitPIN(this.handle, pin.toString('utf8')));
  }

  generateRandom(length: number): Buffer {
    return withHsmErrors('C_GenerateRandom', () => Buffer.from(this.lib.C_GenerateRandom(this.handle, Buffer.alloc(length))));
  }

  /**
   * A public data object on the token for facts that belong to the partition, made unmodifiable
   * (CKA_MODIFIABLE false) and, where the token allows it, undestroyable (CKA_DESTROYABLE false,
   * PKCS#11 v2.40 section 4.4): then C_DestroyObject answers CKR_ACTION_PROHIBITED for everyone,
   * SO included. SoftHSM2 2.6 honours both. A token that rejects CKA_DESTROYABLE gets the object
   * without it. Returns what the token made of it, read back: never trust the template alone.
   * `destroyable` leaves CKA_DESTROYABLE at the token's default (records that end, e.g. a trash-bin
   * entry); `private` makes it a private object (a crypto-officer session only).
   */
  createPublicData(application: string, label: string, value: Buffer, options: { destroyable?: boolean; private?: boolean } = {}): { modifiable: boolean; destroyable: boolean } {
    const template: Template = [
      { type: CKA.CLASS, value: CKO.DATA },
      { type: CKA.TOKEN, value: true },
      { type: CKA.PRIVATE, value: options.private === true },
      { type: CKA.MODIFIABLE, value: false },
      { type: CKA.APPLICATION, value: application },
      { type: CKA.LABEL, value: label },
      { type: CKA.VALUE, value },
    ];
    let handle: Handle;
    try {
      handle = this.lib.C_CreateObject(this.handle, options.destroyable ? template : [...template, { type: CKA.DESTROYABLE, value: false }]);
    } catch (error) {
      const name = asPkcs11Failure(error)?.rvName;
      if (name !== 'CKR_ATTRIBUTE_TYPE_INVALID' && name !== 'CKR_TEMPLATE_INCONSISTENT' && name !== 'CKR_ATTRIBUTE_VALUE_INVALID') throw toHsmError(error, 'C_CreateObject');
      handle = withHsmErrors('C_CreateObject', () => this.lib.C_CreateObject(this.handle, template));
    }
    const flag = (type: number): boolean => {
      try {
        const [attr] = this.lib.C_GetAttributeValue(this.handle, handle, [{ type }]);
        return !(attr?.value instanceof Buffer && attr.value.length === 1 && attr.value[0] === 0);
      } catch {
        return true; // unknown to the token: assume the worst
      }
    };
    return { modifiable: flag(CKA.MODIFIABLE), destroyable: flag(CKA.DESTROYABLE) };
  }

  /** The values of the public data objects of `application` labelled `label`. */
  readPublicData(application: string, label: string): Buffer[] {
    // Only unmodifiable objects, as createPublicData makes them: a modifiable look-alike is someone else's.
    const handles = this.findAll([
      { type: CKA.CLASS, value: CKO.DATA },
      { type: CKA.PRIVATE, value: false },
      { type: CKA.MODIFIABLE, value: false },
      { type: CKA.APPLICATION, value: application },
      { type: CKA.LABEL, value: label },
    ]);
    return handles.map((h) => withHsmErrors('C_GetAttributeValue', () => Buffer.from(this.lib.C_GetAttributeValue(this.handle, h, [{ type: CKA.VALUE }])[0]?.value as Buffer)));
  }

  /**
   * Every data object of `application` labelled `label` (public ones, or with `private` the crypto
   * officer's), modifiable or not, with its value: for records whose look-alikes must be seen, not
   * only skipped (the partition policy, the trash bin).
   */
  listPublicData(application: string, label: string, options: { private?: boolean } = {}): { handle: Handle; value: Buffer; modifiable: boolean }[] {
    const handles = this.findAll([
      { type: CKA.CLASS, value: CKO.DATA },
      { type: CKA.PRIVATE, value: options.private === true },
      { type: CKA.APPLICATION, value: application },
      { type: CKA.LABEL, value: label },
    ]);
    return handles.map((h) => {
      const value = withHsmErrors('C_GetAttributeValue', () => Buffer.from(this.lib.C_GetAttributeValue(this.handle, h, [{ type: CKA.VALUE }])[0]?.value as Buffer));
      let modifiable = true;
      try {
        const [attr] = this.lib.C_GetAttributeValue(this.handle, h, [{ type: CKA.MODIFIABLE }]);
        modifiable = !(attr?.value instanceof Buffer && attr.value.length === 1 && attr.value[0] === 0);
      } catch {
        // unknown to the token: assume the worst
      }
      return { handle: h, value, modifiable };
    });
  }

  // ---- object lifecycle and key operations (backup, restore, the backup-signing key) ----

  createObject(template: Template): Handle {
    return withHsmErrors('C_CreateObject', () => this.lib.C_CreateObject(this.handle, template));
  }

  /** C_SetAttributeValue (PKCS#11 v2.40 section 5.7): the token refuses attributes that may not change (CKR_ATTRIBUTE_READ_ONLY). */
  setAttributes(object: Handle, template: Template): void {
    withHsmErrors('C_SetAttributeValue', () => this.lib.C_SetAttributeValue(this.handle, object, template));
  }

  /**
   * The CK_BBOOL attributes of `types` the object has, read one by one: an attribute the token does
   * not give for this object (CKR_ATTRIBUTE_TYPE_INVALID) is simply absent from the answer.
   */
  readFlags(object: Handle, types: readonly number[]): Map<number, boolean> {
    const out = new Map<number, boolean>();
    for (const type of types) {
      try {
        const [attr] = pkcs11Call('C_GetAttributeValue', () => this.lib.C_GetAttributeValue(this.handle, object, [{ type }]));
        const value = attr?.value;
        if (value instanceof Buffer && value.length === 1) out.set(type, value[0] !== 0);
      } catch (error) {
        const name = asPkcs11Failure(error)?.rvName;
        if (name !== 'CKR_ATTRIBUTE_TYPE_INVALID' && name !== 'CKR_ATTRIBUTE_SENSITIVE') throw toHsmError(error, 'C_GetAttributeValue');
      }
    }
    return out;
  }

  destroyObject(object: Handle): void {
    withHsmErrors('C_DestroyObject', () => this.lib.C_DestroyObject(this.handle, object));
  }

  generateKeyPair(mechanism: number, publicTemplate: Template, privateTemplate: Template): { publicKey: Handle; privateKey: Handle } {
    return withHsmErrors('C_GenerateKeyPair', () => this.lib.C_GenerateKeyPair(this.handle, { mechanism }, publicTemplate, privateTemplate));
  }

  /** C_WrapKey into a buffer of `room` bytes; the wrapped bytes are returned (a slice of it). */
  wrapKey(mechanism: number, wrappingKey: Handle, key: Handle, room = 16384): Buffer {
    return this.wrapKeyInto(mechanism, wrappingKey, key, Buffer.alloc(room));
  }

  /** C_WrapKey into `out` (a loop of thousands reuses one buffer); the wrapped bytes are returned (a slice of `out`). */
  wrapKeyInto(mechanism: number, wrappingKey: Handle, key: Handle, out: Buffer): Buffer {
    return withHsmErrors('C_WrapKey', () => this.lib.C_WrapKey(this.handle, { mechanism }, wrappingKey, key, out));
  }

  /**
   * C_UnwrapKey (PKCS#11 v2.40 §5.13) in pkcs11js's async form, on one of libuv's threads: unwrapping
   * a private key into a new token object takes SoftHSM2 ~15 ms (it writes the object's file), so a
   * restore of thousands of keys would otherwise hold the main thread that long for each.
   * @returns the new key's handle
   * @throws TesseraError as the call's CKR_* maps (hsm-errors.ts)
   */
  async unwrapKey(mechanism: number, unwrappingKey: Handle, wrapped: Buffer, template: Template): Promise<Handle> {
    try {
      return await this.lib.C_UnwrapKeyAsync(this.handle, { mechanism }, unwrappingKey, wrapped, template);
    } catch (error) {
      throw toHsmError(error, 'C_UnwrapKey');
    }
  }

  sign(mechanism: number, key: Handle, data: Buffer): Buffer {
    return withHsmErrors('C_Sign', () => {
      this.lib.C_SignInit(this.handle, { mechanism }, key);
      return Buffer.from(this.lib.C_Sign(this.handle, data, Buffer.alloc(1024)));
    });
  }

  encrypt(mechanism: number, key: Handle, data: Buffer): Buffer {
    return withHsmErrors('C_Encrypt', () => {
      this.lib.C_EncryptInit(this.handle, { mechanism }, key);
      return Buffer.from(this.lib.C_Encrypt(this.handle, data, Buffer.alloc(data.length + 64)));
    });
  }

  /**
   * Raw attribute bytes for a backup: anything but private key material. CKA_VALUE is read only
   * from certificates and data objects, whose value a backup carries (encrypted) as it is.
   * Attributes the object lacks or withholds are simply absent from the answer.
   * An attribute the token fails to read (any other CK_RV about the attribute, e.g. SoftHSM2's
   * CKR_GENERAL_ERROR for a private key's CKA_START_DATE, SoftHSMv2 #655) is absent too and, when
   * `unreadable` is given, entered there with the reason in words; without it, the read fails.
   * @throws TesseraError for failures that concern the session, login, token or object, and for
   *   unreadable attributes when no `unreadable` map is given.
   */
  readRaw(object: Handle, types: readonly number[], objectClass: number, variant = '', unreadable?: Map<number, string>): Map<number, Buffer> {
    for (const type of types) {
      if (type === CKA.VALUE ? objectClass !== CKO.CERTIFICATE && objectClass !== CKO.DATA : isNeverRead(objectClass, type)) {
        throw new TesseraError('INTERNAL', 'The terminal refused to read key material.', `attribute 0x${type.toString(16)}`);
      }
    }
    // Which attributes a token lacks differs by class and key type (`variant`): learnt per both.
    const key = `raw:${objectClass}:${variant}:${types.join(',')}`;
    const skip = this.unsupported.get(key) ?? new Set<number>();
    // An empty CK_DATE makes the binding throw a TypeError: dates are read on their own, so that one
    // unset date does not turn every object's single bulk read into one call per attribute.
    const dates = types.filter((t) => (t === CKA.START_DATE || t === CKA.END_DATE) && !skip.has(t));
    const wanted = types.filter((t) => !skip.has(t) && !dates.includes(t));
    const out = new Map<number, Buffer>();
    const readAll = (list: readonly number[]): void => {
      if (list.length === 0) return;
      const result = pkcs11Call('C_GetAttributeValue', () => this.lib.C_GetAttributeValue(this.handle, object, list.map((type) => ({ type }))));
      result.forEach((attr, i) => {
        if (attr.value !== undefined) out.set(list[i] as number, Buffer.from(attr.value as Buffer));
      });
    };
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0; // expected failures here are answers, not worth a stack trace each
    try {
      for (const group of [wanted, dates]) {
        try {
          readAll(group);
        } catch (error) {
          if (!isPartialFailure(error) && (!unreadable || isAboutTheSession(error))) throw toHsmError(error);
          for (const type of group) {
            try {
              readAll([type]);
            } catch (single) {
              const name = asPkcs11Failure(single)?.rvName;
              if (name === 'CKR_ATTRIBUTE_TYPE_INVALID') skip.add(type);
              else if (name === 'CKR_ATTRIBUTE_SENSITIVE' || single instanceof TypeError) continue;
              else if (unreadable && name && !isAboutTheSession(single)) unreadable.set(type, `${failureWords[name] ?? 'the HSM refused to read it'}: the HSM returned ${name}`);
              else throw toHsmError(single);
            }
          }
        }
      }
    } finally {
      Error.stackTraceLimit = limit;
    }
    if (skip.size > 0) this.unsupported.set(key, skip);
    return out;
  }

  logout(): void {
    try {
      pkcs11Call('C_Logout', () => this.lib.C_Logout(this.handle));
    } catch (error) {
      if (asPkcs11Failure(error)?.rvName === 'CKR_USER_NOT_LOGGED_IN') return;
      throw error;
    }
  }

  /** All object handles matching the template, in the token's order. */
  findAll(template: { type: number; value: number | boolean | string | Buffer }[] = []): Handle[] {
    return withHsmErrors('C_FindObjects', () => {
      this.lib.C_FindObjectsInit(this.handle, template);
      try {
        const all: Handle[] = [];
        for (;;) {
          const batch = this.lib.C_FindObjects(this.handle, 512);
          all.push(...batch);
          if (batch.length < 512) return all;
        }
      } finally {
        this.lib.C_FindObjectsFinal(this.handle);
      }
    });
  }

  /** Reads one attribute; null when the object does not have it or the token withholds it or fails to read it. */
  readOne(object: Handle, s: AttributeSpec, objectClass: number | null, keyType: number | null = null): AttributeValue | null {
    let single = this.singles.get(s);
    if (!single) {
      single = Object.freeze([s]);
      this.singles.set(s, single);
    }
    const scratch = this.scratch;
    scratch.values.clear();
    scratch.withheld.clear();
    scratch.unreadable.clear();
    return this.read(object, single, objectClass, keyType, scratch).values.get(s.type) ?? null;
  }

  /**
   * Reads `specs` of one object, in one C_GetAttributeValue where the token allows it. An attribute
   * the token will not give costs only that attribute: it is `withheld` (sensitive, not supported)
   * or `unreadable` (any other CK_RV, or a value that cannot be decoded), never the read.
   * Which attributes a token lacks is learnt per object class and key type (a DES3 key has no
   * CKA_VALUE_LEN, an AES key has), so that later objects are read in one call again.
   * @throws TesseraError for failures that concern the session, login, token or object
   *   (CKR_SESSION_HANDLE_INVALID, CKR_DEVICE_REMOVED, CKR_USER_NOT_LOGGED_IN, CKR_OBJECT_HANDLE_INVALID, ...).
   */
  read(object: Handle, specs: readonly AttributeSpec[], objectClass: number | null, keyType: number | null = null, into?: AttributeRead): AttributeRead {
    const key = this.readKey(specs, objectClass, keyType);
    const known = this.unsupported.get(key);
    const wanted = known === undefined ? specs : specs.filter((s) => !known.has(s.type));
    const out: AttributeRead = into ?? { values: new Map(), withheld: new Map(), unreadable: new Map() };
    if (known !== undefined) for (const type of known) out.withheld.set(type, reasons.CKR_ATTRIBUTE_TYPE_INVALID as string);
    if (wanted.length === 0) return out;
    const error = this.tryBulk(object, wanted, out);
    if (error === null) return out;
    const skip = known ?? new Set<number>();
    if (wanted.length === 1) {
      this.settle(wanted[0] as AttributeSpec, error, out, skip);
    } else {
      if (isAboutTheSession(error)) throw toHsmError(error, 'C_GetAttributeValue');
      // One attribute at a time, to find out which ones the token will not give.
      for (const s of wanted) {
        const single = this.tryBulk(object, [s], out);
        if (single !== null) this.settle(s, single, out, skip);
      }
    }
    if (skip.size > 0) this.unsupported.set(key, skip);
    return out;
  }

  /**
   * The key of `unsupported` for a read of `specs` on an object of this class and key type, once
   * `specs` is known to ask for no key material. For a frozen template array of frozen specs it is
   * made once per class and key type: the inventory passes the same arrays for each object of a
   * kind, and this runs for each of ~44,000 reads of a 10,000-object partition.
   * @throws TesseraError INTERNAL when `specs` asks for key material.
   */
  private readKey(specs: readonly AttributeSpec[], objectClass: number | null, keyType: number | null): string {
    // Only a frozen array of frozen specs can be trusted to ask later for what it asked when it was checked.
    if (!Object.isFrozen(specs)) return `${objectClass}:${keyType}:${this.checkTemplate(specs, objectClass)}`;
    let byClass = this.templates.get(specs);
    if (byClass === undefined) {
      byClass = new Map();
      this.templates.set(specs, byClass);
    }
    let byKeyType = byClass.get(objectClass);
    if (byKeyType === undefined) {
      const types = this.checkTemplate(specs, objectClass);
      byKeyType = new Map();
      // Remembered only where every spec is frozen too (attributes.ts makes them so).
      if (!specs.every((s) => Object.isFrozen(s))) return `${objectClass}:${keyType}:${types}`;
      byClass.set(objectClass, byKeyType);
    }
    let key = byKeyType.get(keyType);
    if (key === undefined) {
      key = `${objectClass}:${keyType}:${specs.map((s) => s.type).join(',')}`;
      byKeyType.set(keyType, key);
    }
    return key;
  }

  private checkTemplate(specs: readonly AttributeSpec[], objectClass: number | null): string {
    for (const s of specs) {
      if (isNeverRead(objectClass, s.type)) {
        throw new TesseraError('INTERNAL', 'The terminal refused to read key material.', `attribute ${s.name}`);
      }
    }
    return specs.map((s) => s.type).join(',');
  }

  /**
   * One C_GetAttributeValue; returns the error (as pkcs11Call gives it) instead of throwing: here
   * failures are answers. Expected failures (an empty date, an attribute the token lacks) are
   * common in a large inventory (16,000 empty dates in a 10,000-object partition): they are caught
   * where the binding throws them, without a stack trace, and never thrown again.
   */
  private tryBulk(object: Handle, specs: readonly AttributeSpec[], out: AttributeRead): unknown {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    let result: ReturnType<Pkcs11['C_GetAttributeValue']>;
    try {
      result = this.lib.C_GetAttributeValue(this.handle, object, specs.map((s) => ({ type: s.type })));
    } catch (error) {
      return asPkcs11Failure(error, 'C_GetAttributeValue') ?? error;
    } finally {
      Error.stackTraceLimit = limit;
    }
    try {
      result.forEach((attr, i) => {
        const s = specs[i] as AttributeSpec;
        if (attr.value === undefined) out.withheld.set(s.type, 'not available');
        else out.values.set(s.type, decode(s, attr.value as Buffer));
      });
      return null;
    } catch (error) {
      return error;
    }
  }

  /** What one attribute's failure means for the read. */
  private settle(s: AttributeSpec, error: unknown, out: AttributeRead, skip: Set<number>): void {
    if (isAboutTheSession(error)) throw toHsmError(error, 'C_GetAttributeValue');
    const failure = asPkcs11Failure(error);
    if (error instanceof TypeError && s.kind === 'date') {
      // The binding throws for a CK_DATE that is not 8 bytes long: empty means "not set" (PKCS#11
      // v2.40 section 3.3); any other length is no date.
      const length = /but is (\d+)/.exec(error.message)?.[1];
      out.values.set(s.type, length === undefined || length === '0' ? '' : `not a date: ${length} bytes (a date has 8)`);
    } else if (failure && reasons[failure.rvName]) {
      out.withheld.set(s.type, reasons[failure.rvName] as string);
      if (failure.rvName === 'CKR_ATTRIBUTE_TYPE_INVALID') skip.add(s.type);
    } else if (failure) {
      out.unreadable.set(s.type, `${failureWords[failure.rvName] ?? 'the HSM refused to read it'}: the HSM returned ${failure.rvName}`);
    } else {
      out.unreadable.set(s.type, `the HSM gave a value the terminal cannot decode (${error instanceof Error ? error.message : String(error)})`);
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      pkcs11Call('C_CloseSession', () => this.lib.C_CloseSession(this.handle));
    } catch (error) {
      // A session of a removed token is gone already; anything else is worth reporting.
      const name = asPkcs11Failure(error)?.rvName;
      if (name !== 'CKR_SESSION_HANDLE_INVALID' && name !== 'CKR_SESSION_CLOSED' && name !== 'CKR_DEVICE_REMOVED' && name !== 'CKR_TOKEN_NOT_PRESENT') throw error;
    }
  }
}
