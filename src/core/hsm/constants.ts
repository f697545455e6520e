// PKCS#11 v2.40 constants that core uses by name. Values are fixed by the standard; the full
// name tables (every CKM_*, CKR_*) come from the binding through the adapter.

export const CKO = {
  DATA: 0x0,
  CERTIFICATE: 0x1,
  PUBLIC_KEY: 0x2,
  PRIVATE_KEY: 0x3,
  SECRET_KEY: 0x4,
} as const;

export const CKK = {
  RSA: 0x0,
  DSA: 0x1,
  DH: 0x2,
  EC: 0x3,
  GENERIC_SECRET: 0x10,
  DES: 0x13,
  DES2: 0x14,
  DES3: 0x15,
  AES: 0x1f,
  /** PKCS#11 v3.0 section 2.3.6: Ed25519/Ed448 (RFC 8032). */
  EC_EDWARDS: 0x40,
  /** PKCS#11 v3.0 section 2.3.7: X25519/X448 (RFC 7748). */
  EC_MONTGOMERY: 0x41,
} as const;

export const CKU = { SO: 0, USER: 1 } as const;

export const CKF = {
  // Session
  RW_SESSION: 0x2,
  SERIAL_SESSION: 0x4,
  // Slot
  TOKEN_PRESENT: 0x1,
} as const;

export const CKA = {
  CLASS: 0x0,
  TOKEN: 0x1,
  PRIVATE: 0x2,
  LABEL: 0x3,
  APPLICATION: 0x10,
  VALUE: 0x11,
  OBJECT_ID: 0x12,
  CERTIFICATE_TYPE: 0x80,
  ISSUER: 0x81,
  SERIAL_NUMBER: 0x82,
  TRUSTED: 0x86,
  CERTIFICATE_CATEGORY: 0x87,
  CHECK_VALUE: 0x90,
  KEY_TYPE: 0x100,
  SUBJECT: 0x101,
  ID: 0x102,
  SENSITIVE: 0x103,
  ENCRYPT: 0x104,
  DECRYPT: 0x105,
  WRAP: 0x106,
  UNWRAP: 0x107,
  SIGN: 0x108,
  SIGN_RECOVER: 0x109,
  VERIFY: 0x10a,
  VERIFY_RECOVER: 0x10b,
  DERIVE: 0x10c,
  START_DATE: 0x110,
  END_DATE: 0x111,
  MODULUS: 0x120,
  MODULUS_BITS: 0x121,
  PUBLIC_EXPONENT: 0x122,
  PRIVATE_EXPONENT: 0x123,
  PRIME_1: 0x124,
  PRIME_2: 0x125,
  EXPONENT_1: 0x126,
  EXPONENT_2: 0x127,
  COEFFICIENT: 0x128,
  PUBLIC_KEY_INFO: 0x129,
  PRIME: 0x130,
  SUBPRIME: 0x131,
  BASE: 0x132,
  VALUE_BITS: 0x160,
  VALUE_LEN: 0x161,
  EXTRACTABLE: 0x162,
  LOCAL: 0x163,
  NEVER_EXTRACTABLE: 0x164,
  ALWAYS_SENSITIVE: 0x165,
  KEY_GEN_MECHANISM: 0x166,
  MODIFIABLE: 0x170,
  COPYABLE: 0x171,
  DESTROYABLE: 0x172,
  EC_PARAMS: 0x180,
  EC_POINT: 0x181,
  ALWAYS_AUTHENTICATE: 0x202,
  WRAP_WITH_TRUSTED: 0x210,
} as const;

/** CK_TOKEN_INFO.flags */
export const TOKEN_FLAGS: readonly (readonly [number, string])[] = [
  [0x1, 'Has a random number generator'],
  [0x2, 'Write-protected'],
  [0x4, 'Login required'],
  [0x8, 'User PIN initialised'],
  [0x20, 'Saves session state'],
  [0x40, 'Has a clock'],
  [0x100, 'Protected authentication path (PIN pad)'],
  [0x200, 'Dual crypto operations'],
  [0x400, 'Initialised'],
  [0x800, 'Secondary authentication'],
  [0x10000, 'User PIN: wrong PIN entered since last success'],
  [0x20000, 'User PIN: final try'],
  [0x40000, 'User PIN: locked'],
  [0x80000, 'User PIN: must be changed'],
  [0x100000, 'SO PIN: wrong PIN entered since last success'],
  [0x200000, 'SO PIN: final try'],
  [0x400000, 'SO PIN: locked'],
  [0x800000, 'SO PIN: must be changed'],
  [0x1000000, 'Error state'],
];

export const TOKEN_FLAG = {
  WRITE_PROTECTED: 0x2,
  LOGIN_REQUIRED: 0x4,
  USER_PIN_INITIALIZED: 0x8,
  TOKEN_INITIALIZED: 0x400,
  USER_PIN_COUNT_LOW: 0x10000,
  USER_PIN_FINAL_TRY: 0x20000,
  USER_PIN_LOCKED: 0x40000,
  USER_PIN_TO_BE_CHANGED: 0x80000,
  SO_PIN_COUNT_LOW: 0x100000,
  SO_PIN_FINAL_TRY: 0x200000,
  SO_PIN_LOCKED: 0x400000,
  SO_PIN_TO_BE_CHANGED: 0x800000,
} as const;

/** CK_MECHANISM_INFO.flags */
export const MECHANISM_FLAGS: readonly (readonly [number, string])[] = [
  [0x1, 'hardware'],
  [0x100, 'encrypt'],
  [0x200, 'decrypt'],
  [0x400, 'digest'],
  [0x800, 'sign'],
  [0x1000, 'sign-recover'],
  [0x2000, 'verify'],
  [0x4000, 'verify-recover'],
  [0x8000, 'generate'],
  [0x10000, 'generate-key-pair'],
  [0x20000, 'wrap'],
  [0x40000, 'unwrap'],
  [0x80000, 'derive'],
];

/** CK_ULONG value meaning "the token does not say". */
export const CK_UNAVAILABLE_INFORMATION = 0xffffffffffffffffn;
