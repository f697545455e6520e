// Generations of a card set: rotation keys derived from a generation's secret, endorsements of the
// next generation's anchor, and the chain of anchors a terminal believes (quorum/trust.ts).
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Anchor } from '../../src/core/partition/anchor';
import { descriptorHash, newDescriptor, nextDescriptor, splitSecret } from '../../src/core/quorum/card-set';
import { confirmInForce, confirmedInForce, endorse, endorsed, rotationPublicKey } from '../../src/core/quorum/rotation-key';
import { anchorChain, firstAnchor } from '../../src/core/quorum/trust';

const partition = { label: 'Unit', serial: '0123456789abcdef' };

async function generations(): Promise<{ anchors: Anchor[]; secrets: Buffer[] }> {
  const s1 = randomBytes(32);
  const d1 = newDescriptor('so', partition, ['ann', 'ben', 'cid'], 2, await splitSecret(s1, 2, 3), s1);
  const s2 = randomBytes(32);
  const d2 = nextDescriptor(d1, partition, ['ann', 'ben', 'cid', 'dan'], 3, await splitSecret(s2, 3, 4), s2);
  const a1 = firstAnchor(d1);
  const succession = { purpose: 'so', set: d2.set, partitionSerial: partition.serial, generation: 2, descriptorHash: descriptorHash(d2), rotationKey: d2.rotationKey as string, previousDescriptorHash: descriptorHash(d1) };
  const a2: Anchor = { set: d2.set, generation: 2, descriptor: descriptorHash(d2), rotationKey: d2.rotationKey as string, previous: descriptorHash(d1), endorsement: endorse(s1, 1, succession), confirmation: confirmInForce(s2, succession) };
  return { anchors: [a1, a2], secrets: [s1, s2] };
}

describe('rotation keys and endorsements', () => {
  it('derives one public key per generation from its secret, and only that secret endorses', async () => {
    const { anchors, secrets } = await generations();
    const [a1, a2] = anchors as [Anchor, Anchor];
    expect(rotationPublicKey(secrets[0] as Buffer, 'so', a1.set, 1)).toBe(a1.rotationKey);
    expect(rotationPublicKey(secrets[0] as Buffer, 'so', a1.set, 2)).not.toBe(a1.rotationKey);
    const succession = { purpose: 'so', set: a2.set, partitionSerial: partition.serial, generation: 2, descriptorHash: a2.descriptor, rotationKey: a2.rotationKey as string, previousDescriptorHash: a1.descriptor };
    expect(endorsed(a1.rotationKey as string, succession, a2.endorsement as string)).toBe(true);
    // Signed by anyone else (their own secret), or over anything else, it does not count.
    expect(endorsed(a1.rotationKey as string, succession, endorse(randomBytes(32), 1, succession))).toBe(false);
    expect(endorsed(a1.rotationKey as string, { ...succession, rotationKey: rotationPublicKey(randomBytes(32), 'so', a2.set, 2) }, a2.endorsement as string)).toBe(false);
    expect(endorsed(a1.rotationKey as string, { ...succession, partitionSerial: 'another' }, a2.endorsement as string)).toBe(false);
    expect(endorsed('not a key', succession, a2.endorsement as string)).toBe(false);
    // The confirmation is the new generation's own: the old key's endorsement is not one, nor is anyone else's.
    expect(confirmedInForce(succession, a2.confirmation as string)).toBe(true);
    expect(confirmedInForce(succession, a2.endorsement as string)).toBe(false);
    expect(confirmedInForce(succession, confirmInForce(randomBytes(32), succession))).toBe(false);
  });
});

describe('the chain of anchors', () => {
  it('follows endorsed generations to the newest', async () => {
    const { anchors } = await generations();
    const chain = anchorChain(anchors, 'so', partition.serial);
    expect(chain?.tip.generation).toBe(2);
    expect([...(chain?.byGeneration.keys() ?? [])]).toEqual([1, 2]);
    // Order on the partition does not matter; an identical copy is one generation.
    expect(anchorChain([...anchors].reverse().concat(anchors), 'so', partition.serial)?.tip.generation).toBe(2);
  });

  it('leaves out a successor nobody endorsed (anyone with a session can write one)', async () => {
    const { anchors } = await generations();
    const [a1, a2] = anchors as [Anchor, Anchor];
    const planted: Anchor = { ...a2, descriptor: 'f'.repeat(64) };
    expect(anchorChain([a1, planted], 'so', partition.serial)?.tip.generation).toBe(1);
    expect(anchorChain([a1, { ...a2, endorsement: undefined } as Anchor], 'so', partition.serial)?.tip.generation).toBe(1);
    // Endorsed for another partition: not this one's.
    expect(anchorChain([a1, a2], 'so', 'another serial')?.tip.generation).toBe(1);
    // Endorsed, but never confirmed by the new generation (a rotation rolled back leaves such an anchor in the intent log).
    expect(anchorChain([a1, { ...a2, confirmation: undefined } as Anchor], 'so', partition.serial)?.tip.generation).toBe(1);
    // A successor alone, without its first generation, is nothing.
    expect(anchorChain([a2], 'so', partition.serial)).toBeNull();
  });

  it('stops at two first generations, or two endorsed successors of one generation', async () => {
    const { anchors, secrets } = await generations();
    const [a1, a2] = anchors as [Anchor, Anchor];
    const other = (await generations()).anchors[0] as Anchor;
    expect(() => anchorChain([a1, other], 'so', partition.serial)).toThrow(/more than one card-set record/);
    // The old quorum signs a second, different generation 2: the history is in question.
    const fork: Anchor = { ...a2, descriptor: 'e'.repeat(64) };
    const forked = { purpose: 'so', set: fork.set, partitionSerial: partition.serial, generation: 2, descriptorHash: fork.descriptor, rotationKey: fork.rotationKey as string, previousDescriptorHash: a1.descriptor };
    fork.endorsement = endorse(secrets[0] as Buffer, 1, forked);
    fork.confirmation = confirmInForce(secrets[1] as Buffer, forked);
    expect(() => anchorChain([a1, a2, fork], 'so', partition.serial)).toThrow(/two endorsed successors/);
  });
});
