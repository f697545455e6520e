// The main thread's half of an inventory listing: the worker's reads named and summarised in order
// (Listing, ObjectNamer), twins counted across batches, byte values arriving as Uint8Array.
import { describe, expect, it } from 'vitest';
import { CKA, CKK, CKO } from '../../src/core/hsm/constants';
import { Listing } from '../../src/core/hsm/hsm-worker-client';
import { type ObjectRead, ObjectNamer } from '../../src/core/hsm/inventory';
import type { AttributeValue } from '../../src/core/hsm/attributes';
import type { TokenSummary } from '../../src/shared/types';

const token: TokenSummary = { label: 'Partition A', labelHex: null, serial: '0123456789abcdef', manufacturer: 'M', model: 'X' } as TokenSummary;

/** An AES key's read as the worker posts it; `wire` gives byte values as structured clone delivers them (Uint8Array). */
function aesRead(label: string, wire = false): ObjectRead {
  const bytes = (b: Buffer): AttributeValue => (wire ? (new Uint8Array(b) as unknown as Buffer) : b);
  const values = new Map<number, AttributeValue>([
    [CKA.CLASS, CKO.SECRET_KEY],
    [CKA.KEY_TYPE, CKK.AES],
    [CKA.LABEL, bytes(Buffer.from(label))],
    [CKA.ID, bytes(Buffer.from([1, 2]))],
    [CKA.TOKEN, true],
    [CKA.SENSITIVE, true],
    [CKA.EXTRACTABLE, false],
    [CKA.VALUE_LEN, 32],
    [CKA.ENCRYPT, true],
  ]);
  return { objectClass: CKO.SECRET_KEY, keyType: CKK.AES, read: { values, withheld: new Map(), unreadable: new Map() } };
}

const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 30));

describe('a listing summarised on the main thread (Listing, ObjectNamer)', () => {
  it('summarises the reads in order, numbers twins across batches and takes byte values as they arrive from the worker', async () => {
    const failures: Error[] = [];
    const listing = new Listing(new ObjectNamer(token), (error) => failures.push(error));
    listing.add([aesRead('one', true), aesRead('twin', true)]);
    listing.add([aesRead('twin', true)]);
    await new Promise<void>((resolve) => listing.end(resolve));
    expect(failures).toEqual([]);
    expect(listing.objects.map((o) => o.label)).toEqual(['one', 'twin', 'twin']);
    expect(listing.objects[0]).toMatchObject({ class: 'secret-key', keyType: 'AES', size: 256, id: '0102', labelHex: '6f6e65', usage: ['encrypt'] });
    expect(listing.objects[1]?.ref).not.toMatch(/x-tessera-twin/);
    expect(listing.objects[2]?.ref).toBe(`${listing.objects[1]?.ref};x-tessera-twin=1`);
    // The same reads summarised in this thread (Buffers) give the same entries.
    const namer = new ObjectNamer(token);
    expect([aesRead('one'), aesRead('twin'), aesRead('twin')].map((r) => namer.summarise(r))).toEqual(listing.objects);
  });

  it('fails the listing, not the terminal, when a read cannot be summarised, even after the worker has finished', async () => {
    const failures: Error[] = [];
    let ended = false;
    const listing = new Listing(new ObjectNamer(token), (error) => failures.push(error));
    listing.add([aesRead('fine'), { objectClass: CKO.SECRET_KEY, keyType: CKK.AES } as unknown as ObjectRead]);
    listing.end(() => (ended = true));
    await settle();
    expect(ended).toBe(false);
    expect(failures.map((e) => e.message)).toEqual(['The inventory could not be read. Refresh the list.']);
  });

  it('summarises a large batch in slices, so that other work runs in between', async () => {
    const listing = new Listing(new ObjectNamer(token), () => undefined);
    listing.add(Array.from({ length: 20_000 }, (_, i) => aesRead(`key ${i}`)));
    let turns = 0;
    const ticking = setInterval(() => turns++, 1);
    await new Promise<void>((resolve) => listing.end(resolve));
    clearInterval(ticking);
    expect(listing.objects).toHaveLength(20_000);
    expect(turns).toBeGreaterThan(0);
  });
});

