import { describe, expect, it } from 'vitest';
import { A, type AttributeValue, curveOf, decode, decodeDate, decodeOid, describeCurve, detailSpecs, display, isNeverRead, keySizeBits, readUlong, summarySpecs } from '../../src/core/hsm/attributes';
import { CKA, CKK, CKO } from '../../src/core/hsm/constants';

const ulong = (n: number): Buffer => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(n));
  return b;
};

describe('attribute registry', () => {
  it('never asks for key material, for any class or key type', () => {
    for (const objectClass of Object.values(CKO)) {
      for (const keyType of [null, ...Object.values(CKK)]) {
        for (const s of [...summarySpecs(objectClass, keyType), ...detailSpecs(objectClass, keyType)]) {
          expect(isNeverRead(objectClass, s.type), `${s.name} of class ${objectClass}`).toBe(false);
        }
      }
    }
  });

  it('treats CKA_VALUE as secret except for certificates', () => {
    expect(isNeverRead(CKO.SECRET_KEY, CKA.VALUE)).toBe(true);
    expect(isNeverRead(CKO.PRIVATE_KEY, CKA.VALUE)).toBe(true);
    expect(isNeverRead(CKO.DATA, CKA.VALUE)).toBe(true);
    expect(isNeverRead(null, CKA.VALUE)).toBe(true);
    expect(isNeverRead(CKO.CERTIFICATE, CKA.VALUE)).toBe(false);
    expect(isNeverRead(CKO.PRIVATE_KEY, CKA.PRIVATE_EXPONENT)).toBe(true);
  });

  it('reads the key size where it lives for each key type', () => {
    expect(summarySpecs(CKO.PUBLIC_KEY, CKK.RSA)).toContain(A.modulusBits);
    expect(summarySpecs(CKO.PRIVATE_KEY, CKK.RSA)).toContain(A.modulus);
    expect(summarySpecs(CKO.PRIVATE_KEY, CKK.EC)).toContain(A.ecParams);
    expect(summarySpecs(CKO.SECRET_KEY, CKK.AES)).toContain(A.valueLen);
  });

  it('decodes CK_ULONG of both widths, booleans, dates and text', () => {
    expect(readUlong(ulong(0x1f))).toBe(0x1f);
    expect(readUlong(Buffer.from([3, 0, 0, 0]))).toBe(3);
    expect(() => readUlong(Buffer.from([1, 2]))).toThrow(RangeError);
    expect(decode(A.sensitive, Buffer.from([1]))).toBe(true);
    expect(decode(A.sensitive, Buffer.from([0]))).toBe(false);
    expect(decode(A.startDate, Buffer.from('20261123'))).toBe('2026-11-23');
    expect(decode(A.startDate, Buffer.alloc(0))).toBe('');
    expect(display(A.label, decode(A.label, Buffer.from('Schlüssel', 'utf8')))).toBe('Schlüssel');
  });

  it('keeps CKA_LABEL as the bytes the token gave, and shows bytes that are not text escaped', () => {
    const raw = Buffer.from([0x74, 0x77, 0x69, 0x6e, 0x2d, 0xff]);
    expect(decode(A.label, raw)).toEqual(raw);
    expect(display(A.label, decode(A.label, raw))).toBe('twin-\\xff');
    expect(display(A.label, decode(A.label, Buffer.from([0x74, 0x77, 0x69, 0x6e, 0x2d, 0xfe])))).toBe('twin-\\xfe');
  });

  it('shows values in words', () => {
    expect(display(A.class, CKO.PRIVATE_KEY)).toBe('private key');
    expect(display(A.keyType, CKK.AES)).toBe('AES');
    expect(display(A.keyGenMechanism, 0x1080)).toBe('CKM_AES_KEY_GEN');
    expect(display(A.extractable, false)).toBe('no');
    expect(display(A.startDate, '')).toBe('not set');
    expect(display(A.id, Buffer.from([0xde, 0xad]))).toBe('dead');
  });
});

describe('EC curves', () => {
  it('decodes OIDs, including multi-byte arcs', () => {
    expect(decodeOid(Buffer.from('2a8648ce3d030107', 'hex'))).toBe('1.2.840.10045.3.1.7');
    expect(decodeOid(Buffer.from('2b81040022', 'hex'))).toBe('1.3.132.0.34');
  });

  it('names the named curves of CKA_EC_PARAMS and refuses other encodings', () => {
    expect(describeCurve(Buffer.from('06082a8648ce3d030107', 'hex'))).toEqual({ name: 'P-256', bits: 256 });
    expect(describeCurve(Buffer.from('06052b81040023', 'hex'))).toEqual({ name: 'P-521', bits: 521 });
    expect(describeCurve(Buffer.from('06032b0601', 'hex'))?.name).toBe('curve 1.3.6.1');
    expect(describeCurve(Buffer.from('3000', 'hex'))).toBeNull();
    expect(describeCurve(Buffer.from('06092a8648ce3d030107', 'hex'))).toBeNull();
  });
});

describe('key sizes, curves and dates by key type', () => {
  const values = (entries: [number, AttributeValue][]): Map<number, AttributeValue> => new Map(entries);
  const printable = (name: string): Buffer => Buffer.concat([Buffer.from([0x13, name.length]), Buffer.from(name, 'latin1')]);

  it('names Edwards and Montgomery curves given as RFC 8410 OIDs or as PKCS#11 v3.0 curve names', () => {
    expect(describeCurve(Buffer.from('06032b6570', 'hex'))).toEqual({ name: 'Ed25519', bits: 255 });
    expect(describeCurve(Buffer.from('06032b6571', 'hex'))).toEqual({ name: 'Ed448', bits: 448 });
    expect(describeCurve(Buffer.from('06032b656e', 'hex'))).toEqual({ name: 'X25519', bits: 255 });
    expect(describeCurve(printable('edwards25519'))).toEqual({ name: 'Ed25519', bits: 255 });
    expect(describeCurve(printable('edwards448'))).toEqual({ name: 'Ed448', bits: 448 });
    expect(describeCurve(printable('curve25519'))).toEqual({ name: 'X25519', bits: 255 });
    // An Edwards key whose token wrote "curve25519" is still an Ed25519 key.
    expect(describeCurve(printable('curve25519'), CKK.EC_EDWARDS)).toEqual({ name: 'Ed25519', bits: 255 });
    expect(describeCurve(printable('curve448'), CKK.EC_EDWARDS)).toEqual({ name: 'Ed448', bits: 448 });
    expect(describeCurve(printable('edwards25519'), CKK.EC_MONTGOMERY)).toEqual({ name: 'X25519', bits: 255 });
    expect(describeCurve(printable('frog\x1b'))).toEqual({ name: 'curve "frog\\x1b"', bits: 0 });
  });

  it('gives each key type its size where it lives', () => {
    expect(keySizeBits(CKK.AES, values([[CKA.VALUE_LEN, 24]]))).toBe(192);
    expect(keySizeBits(CKK.GENERIC_SECRET, values([[CKA.VALUE_LEN, 64]]))).toBe(512);
    expect(keySizeBits(CKK.DES, values([]))).toBe(56);
    expect(keySizeBits(CKK.DES2, values([]))).toBe(112);
    expect(keySizeBits(CKK.DES3, values([]))).toBe(168);
    expect(keySizeBits(CKK.DSA, values([[CKA.PRIME, Buffer.concat([Buffer.from([0x00, 0xb1]), Buffer.alloc(127, 0xff)])]]))).toBe(1024);
    expect(keySizeBits(CKK.RSA, values([[CKA.MODULUS_BITS, 4096]]))).toBe(4096);
    expect(keySizeBits(CKK.EC, values([[CKA.EC_PARAMS, Buffer.from('06052b81040023', 'hex')]]))).toBe(521);
    expect(keySizeBits(CKK.EC_EDWARDS, values([[CKA.EC_PARAMS, printable('edwards25519')]]))).toBe(255);
    expect(keySizeBits(CKK.EC_EDWARDS, values([[CKA.EC_PARAMS, Buffer.from('06032b6571', 'hex')]]))).toBe(448);
    expect(keySizeBits(CKK.AES, values([]))).toBeNull();
    expect(curveOf(CKK.EC_EDWARDS, values([[CKA.EC_PARAMS, Buffer.from('06032b6571', 'hex')]]))).toBe('Ed448');
    expect(curveOf(CKK.EC, values([[CKA.EC_PARAMS, Buffer.from('06092b2403030208010107', 'hex')]]))).toBe('brainpoolP256r1');
    expect(curveOf(CKK.AES, values([[CKA.VALUE_LEN, 32]]))).toBeNull();
  });

  it('reads sizes from the attributes each key type has (no CKA_VALUE_LEN for the DES family)', () => {
    for (const kt of [CKK.DES, CKK.DES2, CKK.DES3]) expect(summarySpecs(CKO.SECRET_KEY, kt)).not.toContain(A.valueLen);
    expect(summarySpecs(CKO.SECRET_KEY, CKK.GENERIC_SECRET)).toContain(A.valueLen);
    expect(summarySpecs(CKO.PRIVATE_KEY, CKK.DSA)).toContain(A.prime);
    expect(summarySpecs(CKO.PRIVATE_KEY, CKK.EC_EDWARDS)).toContain(A.ecParams);
    expect(summarySpecs(CKO.PUBLIC_KEY, CKK.EC_MONTGOMERY)).toContain(A.ecParams);
    expect(display(A.ecParams, printable('curve25519'), CKK.EC_EDWARDS)).toBe('Ed25519');
  });

  it('shows dates that are no calendar date as such, never as a date', () => {
    expect(decodeDate(Buffer.from('20240229'))).toBe('2024-02-29');
    expect(decodeDate(Buffer.from('20261231'))).toBe('2026-12-31');
    expect(decodeDate(Buffer.alloc(0))).toBe('');
    expect(decodeDate(Buffer.from('20230229'))).toBe('not a date: "20230229"');
    expect(decodeDate(Buffer.from('20240231'))).toBe('not a date: "20240231"');
    expect(decodeDate(Buffer.from('00000000'))).toBe('not a date: "00000000"');
    expect(decodeDate(Buffer.alloc(8))).toBe('not a date: "\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00"');
    expect(decodeDate(Buffer.from('2024-1-1'))).toBe('not a date: "2024-1-1"');
    expect(decodeDate(Buffer.from('\x1b[31m"x\\'))).toBe('not a date: "\\x1b[31m\\x22x\\x5c"');
    expect(decodeDate(Buffer.from('20241301'))).toBe('not a date: "20241301"');
    expect(decode(A.endDate, Buffer.from('20240231'))).toBe('not a date: "20240231"');
  });
});
