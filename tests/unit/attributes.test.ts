import { describe, expect, it } from 'vitest';
import { A, decode, decodeOid, describeCurve, detailSpecs, display, isNeverRead, readUlong, summarySpecs } from '../../src/core/hsm/attributes';
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
