import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CKO } from '../../src/core/hsm/constants';
import { objectRef, objectUri, parseObjectRef, parseObjectUri } from '../../src/core/hsm/pkcs11-uri';

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
        expect(parsed).toEqual({ token: Buffer.from('T;%='), serial, object: Buffer.from(label, 'utf8'), id: Buffer.from(id), objectClass });
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
    expect(parseObjectUri('pkcs11:manufacturer=SoftHSM;object=k?pin-source=x')).toEqual({ object: Buffer.from('k') });
  });

  it('percent-encodes the label bytes the token holds and parses the same bytes back (invalid UTF-8, NUL, newline)', () => {
    const labels = [Buffer.from('bad-utf8-\xff\xfe', 'latin1'), Buffer.from('twin-\xff', 'latin1'), Buffer.from('twin-\xfe', 'latin1'), Buffer.from('nul\0inside'), Buffer.from('evil\nrow'), Buffer.alloc(0)];
    const uris = labels.map((label) => objectUri({ tokenLabel: Buffer.from([0x54, 0xff]), tokenSerial: 's1', objectClass: CKO.SECRET_KEY, label, id: Buffer.from([7]) }));
    expect(uris[0]).toBe('pkcs11:token=T%ff;serial=s1;object=bad-utf8-%ff%fe;id=%07;type=secret-key');
    expect(uris[1]).not.toBe(uris[2]);
    uris.forEach((uri, i) => expect(parseObjectUri(uri)).toEqual({ token: Buffer.from([0x54, 0xff]), serial: 's1', object: labels[i], id: Buffer.from([7]), objectClass: CKO.SECRET_KEY }));
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (label) => {
        expect(parseObjectUri(objectUri({ tokenLabel: 'T', tokenSerial: 's', objectClass: CKO.DATA, label: Buffer.from(label), id: Buffer.alloc(0) }))?.object).toEqual(Buffer.from(label));
      }),
    );
  });

  it('a ref is the URI plus a digest and, for exact twins, an ordinal; it parses back, and bad ones are refused', () => {
    const uri = objectUri({ tokenLabel: 'Dups', tokenSerial: 's1', objectClass: CKO.SECRET_KEY, label: 'kek', id: Buffer.from([7]) });
    expect(objectRef(uri, '0123456789abcdef', 0)).toBe(`${uri};x-tessera-digest=0123456789abcdef`);
    expect(parseObjectRef(objectRef(uri, '0123456789abcdef', 2))).toMatchObject({ object: Buffer.from('kek'), id: Buffer.from([7]), digest: '0123456789abcdef', twin: 2 });
    expect(parseObjectRef(uri)).toMatchObject({ digest: null, twin: 0 });
    expect(parseObjectRef(`${uri};x-tessera-digest=xyz`)).toBeNull();
    expect(parseObjectRef(`${uri};x-tessera-digest=0123456789abcdef;x-tessera-twin=0`)).toBeNull();
    expect(parseObjectRef('not a ref')).toBeNull();
  });
});
