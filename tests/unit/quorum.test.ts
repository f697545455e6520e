import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeFrame, encodeFrame } from '../../src/core/cards/officer-card';
import { checkHolders } from '../../src/core/ceremony/adopt';
import { type CardSetDescriptor, combineShares, commitment, descriptorHash, matches, newCredential, sameFingerprint, setFingerprint, shareHash, splitSecret } from '../../src/core/quorum/card-set';
import { type CardRecord, refusal } from '../../src/core/quorum/card-record';
import { type SealBinding, type Sealed, seal, unseal } from '../../src/core/quorum/seal';

// The cheapest parameters the sealing accepts: these tests are about the construction, not the cost.
const FAST = { name: 'scrypt' as const, N: 1 << 14, r: 8, p: 1 };
const binding: SealBinding = { set: 'aa'.repeat(16), purpose: 'so', generation: 1, index: 2, m: 2, n: 3, card: 'cc'.repeat(16), descriptor: 'dd'.repeat(32) };

function descriptor(shares: Buffer[], credential: Buffer, m: number): CardSetDescriptor {
  const set = 'aa'.repeat(16);
  return {
    v: 1,
    set,
    purpose: 'so',
    partition: { label: 'P', serial: 'serial-1' },
    generation: 3,
    m,
    n: shares.length,
    holders: shares.map((_, i) => ({ index: i + 1, holder: `h${i + 1}` })),
    shareHashes: shares.map((s, i) => shareHash(set, 3, i + 1, s)),
    commitment: commitment(set, 3, credential),
    created: '2026-01-01T00:00:00Z',
  };
}

describe('shares and commitments', () => {
  it('rebuilds the credential from any m of n shares, for every threshold (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 0, max: 5 }), fc.uint8Array({ minLength: 32, maxLength: 64 }), async (n, extra, bytes) => {
        const m = Math.max(1, n - extra);
        const secret = Buffer.from(bytes);
        const shares = await splitSecret(secret, m, n);
        expect(shares).toHaveLength(n);
        const pick = shares.slice(n - m);
        expect((await combineShares(pick, m)).equals(secret)).toBe(true);
      }),
      { numRuns: 40 },
    );
  });

  it('does not notice a wrong share by itself: the share hashes and the commitment must', async () => {
    const credential = Buffer.from('ab'.repeat(32), 'latin1');
    const shares = await splitSecret(credential, 2, 3);
    const d = descriptor(shares, credential, 2);
    const forged = Buffer.from(shares[1] as Buffer);
    forged[0] = (forged[0] as number) ^ 1;
    const wrong = await combineShares([shares[0] as Buffer, forged], 2);
    expect(wrong.equals(credential)).toBe(false);
    expect(matches(d.shareHashes[1] as string, shareHash(d.set, 3, 2, forged))).toBe(false);
    expect(matches(d.commitment, commitment(d.set, 3, wrong))).toBe(false);
    expect(matches(d.commitment, commitment(d.set, 3, credential))).toBe(true);
    expect(matches(d.commitment, commitment(d.set, 4, credential))).toBe(false);
  });

  it('makes credentials of hex within the token\'s PIN length, and refuses tokens that allow too little', () => {
    expect(newCredential(Buffer.alloc(32, 1), 255).toString('latin1')).toMatch(/^[0-9a-f]{64}$/);
    expect(newCredential(Buffer.alloc(32, 1), 41)).toHaveLength(40);
    expect(newCredential(Buffer.alloc(32, 1), 255).equals(newCredential(Buffer.alloc(32, 1), 255))).toBe(false);
    expect(() => newCredential(Buffer.alloc(32), 31)).toThrow(RangeError);
  });

  it('hashes a descriptor the same way whatever the key order, and differently when anything changes', async () => {
    const credential = Buffer.alloc(64, 0x61);
    const d = descriptor(await splitSecret(credential, 2, 3), credential, 2);
    const reordered = Object.fromEntries(Object.entries(d).reverse()) as unknown as CardSetDescriptor;
    expect(Object.keys(reordered)[0]).toBe('created');
    expect(descriptorHash(reordered)).toBe(descriptorHash(d));
    expect(descriptorHash({ ...d, holders: [...d.holders].reverse() })).not.toBe(descriptorHash(d));
    expect(descriptorHash({ ...d, generation: 4 })).not.toBe(descriptorHash(d));
  });

  it('refuses impossible card sets before anything is written', () => {
    expect(() => checkHolders({ holders: [], threshold: 1 })).toThrow(/1 to 16/);
    expect(() => checkHolders({ holders: Array.from({ length: 17 }, (_, i) => `h${i}`), threshold: 2 })).toThrow(/1 to 16/);
    expect(() => checkHolders({ holders: ['a', 'b'], threshold: 3 })).toThrow(/between 1 and 2/);
    expect(() => checkHolders({ holders: ['Ann', 'ann'], threshold: 1 })).toThrow('Each holder may appear only once: “ann” is named twice.');
    expect(() => checkHolders({ holders: ['a', ' '], threshold: 1 })).toThrow(/name/);
    expect(() => checkHolders({ holders: ['a', 'b', 'c'], threshold: 2 })).not.toThrow();
  });
});

describe('sealing', () => {
  let sealed: Sealed;
  const share = Buffer.from('the share bytes, 33 of them......');

  it('opens with the right PIN and binding only', async () => {
    sealed = await seal(share, Buffer.from('123456'), binding, FAST);
    expect((await unseal(sealed, Buffer.from('123456'), binding))?.equals(share)).toBe(true);
    expect(await unseal(sealed, Buffer.from('123457'), binding)).toBeNull();
    for (const changed of [{ index: 3 }, { card: 'dd'.repeat(16) }, { generation: 2 }, { m: 3 }, { set: 'bb'.repeat(16) }, { purpose: 'backup' }, { descriptor: 'ee'.repeat(32) }]) {
      expect(await unseal(sealed, Buffer.from('123456'), { ...binding, ...changed }), JSON.stringify(changed)).toBeNull();
    }
  });

  it('does not open when any sealed byte is changed, and refuses KDF parameters out of range', async () => {
    const flipped = Buffer.from(sealed.ciphertext, 'base64');
    flipped[0] = (flipped[0] as number) ^ 1;
    expect(await unseal({ ...sealed, ciphertext: flipped.toString('base64') }, Buffer.from('123456'), binding)).toBeNull();
    expect(await unseal({ ...sealed, tag: Buffer.alloc(16).toString('base64') }, Buffer.from('123456'), binding)).toBeNull();
    expect(await unseal({ ...sealed, nonce: Buffer.alloc(5).toString('base64') }, Buffer.from('123456'), binding)).toBeNull();
    await expect(unseal({ ...sealed, kdf: { ...FAST, N: 1 << 24 } }, Buffer.from('123456'), binding)).rejects.toThrow(RangeError);
    await expect(seal(share, Buffer.from('1'), binding, { ...FAST, N: 1024 })).rejects.toThrow(RangeError);
  });
});

describe('card frames and records', () => {
  it('reads back what it framed, and tells empty from damaged', () => {
    const body = Buffer.from('{"v":1}');
    const frame = Buffer.concat([encodeFrame(body), Buffer.alloc(100)]);
    expect(decodeFrame(frame)).toEqual({ state: 'ok', body });
    expect(decodeFrame(Buffer.alloc(64))).toEqual({ state: 'empty' });
    const halfWritten = Buffer.from(frame);
    halfWritten[8] = 0;
    expect(decodeFrame(halfWritten)).toMatchObject({ state: 'damaged' });
    const cut = Buffer.from(frame);
    cut.writeUInt16BE(4000, 4);
    expect(decodeFrame(cut)).toMatchObject({ state: 'damaged', reason: 'length out of range' });
    expect(decodeFrame(Buffer.from('XXXX0000'))).toMatchObject({ state: 'damaged', reason: 'unknown format' });
  });

  it('names why a card cannot take part, before its PIN is asked for', async () => {
    const credential = Buffer.alloc(64, 0x62);
    const d = descriptor(await splitSecret(credential, 2, 3), credential, 2);
    const trusted = { set: d.set, generation: d.generation, descriptorHash: descriptorHash(d) };
    const ok = { state: 'ok' as const, body: Buffer.alloc(0) };
    const record: CardRecord = { v: 1, card: 'card-1', index: 1, holder: 'h1', descriptor: d, sealed: {} as Sealed };
    expect(refusal(record, ok, 'card-1', trusted, 'serial-1')).toBeNull();
    expect(refusal(null, { state: 'empty' }, null, trusted, 'serial-1')).toMatch(/blank/);
    expect(refusal(null, { state: 'damaged', reason: 'x' }, 'card-1', trusted, 'serial-1')).toMatch(/damaged/);
    expect(refusal(record, ok, 'card-1', trusted, 'other')).toMatch(/belongs to a card set of partition “.*” \(serial .*\), not to the set this ceremony needs/);
    expect(refusal(record, ok, 'card-1', { ...trusted, set: 'ff'.repeat(16) }, 'serial-1')).toMatch(/another card set/);
    expect(refusal({ ...record, descriptor: { ...d, generation: 2 } }, ok, 'card-1', trusted, 'serial-1')).toMatch(/old generation/);
    expect(refusal(record, ok, 'card-2', trusted, 'serial-1')).toMatch(/copied/);
    expect(refusal({ ...record, descriptor: { ...d, m: 1 } }, ok, 'card-1', trusted, 'serial-1')).toMatch(/altered or forged/);
    expect(refusal({ ...record, holder: 'mallory' }, ok, 'card-1', trusted, 'serial-1')).toMatch(/holder is not part/);
  });
});

describe('backup set fingerprint', () => {
  const keys = { escrowPublic: Buffer.alloc(32, 1).toString('base64'), signingKey: Buffer.alloc(91, 2).toString('base64') };

  it('is six groups of four base32 characters, the same for the same keys', () => {
    const print = setFingerprint(keys);
    expect(print).toMatch(/^[A-Z2-7]{4}(-[A-Z2-7]{4}){5}$/);
    expect(setFingerprint({ ...keys })).toBe(print);
  });

  it('changes with the escrow key and with the signing key', () => {
    const print = setFingerprint(keys);
    expect(setFingerprint({ ...keys, escrowPublic: Buffer.alloc(32, 3).toString('base64') })).not.toBe(print);
    expect(setFingerprint({ ...keys, signingKey: Buffer.alloc(91, 4).toString('base64') })).not.toBe(print);
    // The two keys are separated: moving a byte from one to the other is another fingerprint.
    expect(setFingerprint({ escrowPublic: Buffer.alloc(31, 1).toString('base64'), signingKey: Buffer.concat([Buffer.from([1]), Buffer.alloc(91, 2)]).toString('base64') })).not.toBe(print);
  });

  it('is compared as officers type it: any case, spaces or dashes, digits read as look-alike letters; nothing else', () => {
    const print = 'ABCD-EFGH-IJKL-MNOP-QRST-UVWX';
    expect(sameFingerprint('abcd efgh ijkl mnop qrst uvwx', print)).toBe(true);
    expect(sameFingerprint('ABCDEFGH1JKLMN0PQRSTUVWX', print)).toBe(true);
    expect(sameFingerprint('ABCD-EFGH-IJKL-MNOP-QRST-UVWY', print)).toBe(false);
    expect(sameFingerprint('ABCD-EFGH-IJKL-MNOP-QRST', print)).toBe(false);
    expect(sameFingerprint('', print)).toBe(false);
  });
});
