import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CKO } from '../../src/core/hsm/constants';
import { objectUri, parseObjectUri } from '../../src/core/hsm/pkcs11-uri';

describe('PKCS#11 URIs (RFC 7512)', () => {
  it('names an object by token, serial, label, id and type', () => {
    const uri = objectUri({ tokenLabel: 'Tessera Lab', tokenSerial: 'abc123', objectClass: CKO.PRIVATE_KEY, label: 'Signing Key', id: Buffer.from([1, 0xff]) });
    expect(uri).toBe('pkcs11:token=Tessera%20Lab;serial=abc123;object=Signing%20Key;id=%01%ff;type=private');
  });

  it('round-trips any label and id, including non-ASCII text and ";" or "%" in labels', () => {
    const classes = [CKO.DATA, CKO.CERTIFICATE, CKO.PUBLIC_KEY, CKO.PRIVATE_KEY, CKO.SECRET_KEY];
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 80 }), fc.string({ maxLength: 32 }), fc.uint8Array({ maxLength: 40 }), fc.constantFrom(...classes), (label, serial, id, objectClass) => {
        const parsed = parseObjectUri(objectUri({ tokenLabel: 'T;%=', tokenSerial: serial, objectClass, label, id: Buffer.from(id) }));
        expect(parsed).toEqual({ token: 'T;%=', serial, object: label, id: Buffer.from(id), objectClass });
      }),
    );
  });

  it('refuses malformed URIs instead of guessing', () => {
    expect(parseObjectUri('http://x')).toBeNull();
    expect(parseObjectUri('pkcs11:object=a%zz')).toBeNull();
    expect(parseObjectUri('pkcs11:object=50%')).toBeNull();
    expect(parseObjectUri('pkcs11:type=banana')).toBeNull();
    expect(parseObjectUri('pkcs11:=x')).toBeNull();
  });

  it('ignores attributes it does not use (RFC 7512 section 2.3)', () => {
    expect(parseObjectUri('pkcs11:manufacturer=SoftHSM;object=k?pin-source=x')).toEqual({ object: 'k' });
  });
});
