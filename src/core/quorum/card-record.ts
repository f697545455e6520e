// What a card holds for one card set, and how the terminal reads it: identify the card (before any
// PIN), then, with the holder's PIN, verify it on the card, open the sealed share and check the
// share against the set's descriptor. Every refusal says which card and why, in officers' words.
import { type FrameRead, type OfficerCard, parseJson } from '../cards/officer-card';
import { wipe } from '../secrets';
import { type CardSetDescriptor, type Purpose, UNPRINTABLE, descriptorHash, matches, shareHash } from './card-set';
import { type SealBinding, type Sealed, seal, unseal } from './seal';

export interface CardRecord {
  v: 1;
  card: string;
  index: number;
  holder: string;
  descriptor: CardSetDescriptor;
  sealed: Sealed;
}

export function binding(descriptor: CardSetDescriptor, index: number, card: string): SealBinding {
  return { set: descriptor.set, purpose: descriptor.purpose, generation: descriptor.generation, index, m: descriptor.m, n: descriptor.n, card, descriptor: descriptorHash(descriptor) };
}

export async function sealRecord(descriptor: CardSetDescriptor, index: number, card: string, share: Buffer, pin: Buffer): Promise<Buffer> {
  const holder = descriptor.holders.find((h) => h.index === index)?.holder ?? '';
  const record: CardRecord = { v: 1, card, index, holder, descriptor, sealed: await seal(share, pin, binding(descriptor, index, card)) };
  return Buffer.from(JSON.stringify(record));
}

export function parseRecord(frame: FrameRead): CardRecord | null {
  if (frame.state !== 'ok') return null;
  const r = parseJson(frame.body) as Partial<CardRecord> | null;
  const d = r?.descriptor;
  if (!r || r.v !== 1 || typeof r.card !== 'string' || !Number.isInteger(r.index) || typeof r.holder !== 'string' || !r.sealed || !d) return null;
  if (typeof d.set !== 'string' || !Number.isInteger(d.generation) || !Number.isInteger(d.m) || !Number.isInteger(d.n) || !Array.isArray(d.holders) || !Array.isArray(d.shareHashes)) return null;
  // Names are shown on screens and terminals: a record that hides control characters in one is not ours.
  if (UNPRINTABLE.test(r.holder) || d.holders.some((h) => typeof h?.holder !== 'string' || UNPRINTABLE.test(h.holder)) || typeof d.partition?.label !== 'string') return null;
  return r as CardRecord;
}

/** The set a terminal trusts: from its database, or (without one) from the partition's anchor. */
export interface TrustedSet {
  set: string;
  generation: number;
  descriptorHash: string;
}

/** Why a card cannot take part, before its PIN is asked for; null when it can. */
export function refusal(record: CardRecord | null, frame: FrameRead, cardSerial: string | null, trusted: TrustedSet, tokenSerial: string): string | null {
  if (frame.state === 'empty' || cardSerial === null) return 'This card is blank: it holds no share of any card set.';
  if (frame.state === 'damaged') return `This card's record is damaged (${frame.reason}). It cannot be used; it may have been pulled out while it was being written.`;
  if (!record) return 'This card holds a record the terminal cannot read.';
  const d = record.descriptor;
  if (d.partition.serial !== tokenSerial) return `This card belongs to a card set of partition “${d.partition.label}” (serial ${d.partition.serial}), not to the set this ceremony needs.`;
  if (d.set !== trusted.set) return 'This card belongs to another card set of this partition, not the current one.';
  if (d.generation < trusted.generation) return `This card is from an old generation of the card set (${d.generation}; the current one is ${trusted.generation}). Its share was replaced.`;
  if (d.generation > trusted.generation) return `This card is from generation ${d.generation}, which this terminal does not know as current (${trusted.generation}).`;
  if (record.card !== cardSerial) return 'This card holds a record written for another card: it was copied.';
  if (!matches(trusted.descriptorHash, descriptorHash(d))) return 'This card\'s record of the card set does not match the partition\'s. It was altered or forged.';
  if (!d.holders.some((h) => h.index === record.index && h.holder === record.holder)) return 'This card\'s holder is not part of the card set.';
  return null;
}

export type OpenResult = { share: Buffer } | { wrongPin: true; triesLeft: number | null; blocked: boolean } | { refused: string };

/**
 * Verifies the holder's PIN on the card, opens the sealed share and checks it against the set.
 * A PIN change interrupted half way leaves the share sealed under the new PIN in the pending slot:
 * that copy is used when the main one does not open.
 */
export async function openShare(card: OfficerCard, record: CardRecord, pin: Buffer, purpose: Purpose): Promise<OpenResult> {
  const check = await card.verifyPin(pin);
  if (!check.ok) return { wrongPin: true, triesLeft: check.triesLeft, blocked: check.blocked };
  const expected = record.descriptor.shareHashes[record.index - 1];
  const candidates = [record];
  const pending = parseRecord(await card.readSlot(purpose === 'so' ? 'soPending' : 'backupPending'));
  if (pending && pending.card === record.card && pending.index === record.index && pending.descriptor.set === record.descriptor.set && pending.descriptor.generation === record.descriptor.generation) candidates.push(pending);
  for (const candidate of candidates) {
    const share = await unseal(candidate.sealed, pin, binding(candidate.descriptor, candidate.index, candidate.card));
    if (!share) continue;
    if (expected && matches(expected, shareHash(record.descriptor.set, record.descriptor.generation, record.index, share))) return { share };
    wipe(share);
    return { refused: 'This card\'s share is not the one that was enrolled for it: the card was rewritten (forged or damaged).' };
  }
  return { refused: 'The card accepted the PIN, but its sealed share does not open: the record on the card was altered.' };
}

export function pinRefusal(result: { triesLeft: number | null; blocked: boolean }): string {
  if (result.blocked) return 'The card is blocked after too many wrong PINs.';
  if (result.triesLeft === null) return 'PIN wrong.';
  return `PIN wrong, ${result.triesLeft} ${result.triesLeft === 1 ? 'try' : 'tries'} left.`;
}
