// Changing a card PIN: every share on the card (SO set, backup set) is opened with the current PIN
// and sealed again under the new one. Crash-safe on the card: the new records go to the pending
// slots first and are checked, then the card's own PIN changes, then the main records are rewritten
// and the pending copies cleared. At every point each share opens with the PIN the card accepts
// (openShare falls back to the pending copy). A wrong current PIN may be typed again while tries remain.
import type { CeremonyResult } from '../../shared/types';
import type { OfficerCard, SlotFile } from '../cards/officer-card';
import { TesseraError } from '../errors';
import { type CardRecord, binding, openShare, parseRecord, pinRefusal, refusal, sealRecord } from '../quorum/card-record';
import { descriptorHash } from '../quorum/card-set';
import { unseal } from '../quorum/seal';
import { wipe } from '../secrets';
import type { CeremonyContext, RunOptions } from './context';
import type { CeremonyRun } from './run';
import { type IdentifiedCard, cardName, identify, retireOldGeneration } from './steps/cards';
import { crashPoint } from './steps/crash-points';
import { choosePin, withCardPin } from './steps/pin';
import { CARD_PIN } from './steps/pin-rules';

interface Slot {
  slot: 'so' | 'backup';
  pending: SlotFile;
  record: CardRecord;
}

export async function changePin(run: CeremonyRun, ctx: CeremonyContext, options: RunOptions): Promise<Extract<CeremonyResult, { kind: 'change-pin' }>> {
  const presented = await run.nextCard({ kind: 'insert-card', text: 'Insert the card whose PIN changes.' });
  const { card, reader } = presented;
  let current: Buffer | null = null;
  let next: Buffer | null = null;
  const shares: Buffer[] = [];
  try {
    const id = await settleGenerations(ctx, card, await identify(card));
    const serial = id.serial;
    // Every share the card holds (SO set, backup set) is sealed under its PIN: all move together.
    const slots: Slot[] = [];
    const so = id.slots.so;
    if (so.record) {
      const trust = ctx.trust('so');
      const refused = trust ? refusal(so.record, so.frame, serial, trust.trusted, ctx.partition.partition().serial) : 'This partition has no card set yet.';
      if (refused) throw new TesseraError('CARD_ERROR', `${cardName(id)}: ${refused}`);
      slots.push({ slot: 'so', pending: 'soPending', record: so.record });
    }
    const backup = id.slots.backup.record;
    if (backup && backup.card === serial) slots.push({ slot: 'backup', pending: 'backupPending', record: backup });
    const first = slots[0];
    if (!first || !serial) throw new TesseraError('CARD_ERROR', `${cardName(id)} holds no share of a card set: it has no PIN of Tessera's to change.`);
    const holder = first.record.holder;

    run.stepTo(1);
    current = await withCardPin(run, card, { holder, reader, text: `${holder}: type your current card PIN.`, retry: options.retryWrongPin }, async (pin) => {
      for (const s of slots) {
        const opened = await openShare(card, s.record, pin, s.slot);
        if ('wrongPin' in opened) return opened;
        if ('refused' in opened) throw new TesseraError('CARD_ERROR', opened.refused);
        shares.push(opened.share);
      }
      return Buffer.from(pin);
    });
    if (!current) throw new TesseraError('PIN_INCORRECT', `${holder}'s card did not accept the current PIN. Nothing was changed.`);

    run.stepTo(2);
    next = await choosePin(run, { holder, reader, text: `${holder}: choose the new card PIN (${CARD_PIN.min} to ${CARD_PIN.max} characters) and type it twice.`, current });

    run.working('Sealing the shares under the new PIN…');
    const resealed: Buffer[] = [];
    for (const [i, s] of slots.entries()) {
      const share = shares[i] as Buffer;
      const record = await sealRecord(s.record.descriptor, s.record.index, serial, share, next);
      await card.writeSlot(s.pending, record);
      const pending = parseRecord(await card.readSlot(s.pending));
      const check = pending ? await unseal(pending.sealed, next, binding(pending.descriptor, pending.index, pending.card)) : null;
      if (!check || !check.equals(share)) throw new TesseraError('CARD_ERROR', 'The card did not keep the new record. The PIN was not changed.');
      wipe(check);
      resealed.push(record);
    }
    crashPoint('change-pin:pending-written');
    const changed = await card.changePin(current, next);
    if (!changed.ok) throw new TesseraError('PIN_INCORRECT', `The card refused to change its PIN: ${pinRefusal(changed)}`);
    crashPoint('change-pin:card-pin-changed');
    for (const [i, s] of slots.entries()) {
      await card.writeSlot(s.slot, resealed[i] as Buffer);
      const final = parseRecord(await card.readSlot(s.slot));
      const result = final ? await openShare(card, final, next, s.slot) : null;
      if (!result || !('share' in result)) throw new TesseraError('CARD_ERROR', 'The card did not keep its record. Check the card before using it.');
      wipe(result.share);
      await card.clearSlot(s.pending);
    }
    await ctx.audit.append({ actor: ctx.actor, action: 'card.change-pin', target: `card ${serial}`, outcome: 'ok', details: { holder, sets: slots.map((s) => `${s.slot} ${s.record.descriptor.set} generation ${s.record.descriptor.generation}`).join('; ') } });
    run.collect(holder, first.record.index, serial);
    return { kind: 'change-pin', holder, card: serial };
  } finally {
    wipe(current, next, ...shares);
    await presented.session.close();
  }
}

/**
 * Before the pending files are used for the PIN change: a rotation's next generation beside a share
 * is retired into place when it is in force, cleared when its rotation was rolled back (or another
 * descriptor holds its generation now); while a rotation is undecided the card's PIN must not
 * change (both generations are sealed under it).
 * @throws TesseraError CARD_ERROR while a rotation of the card's set is undecided.
 */
async function settleGenerations(ctx: CeremonyContext, card: OfficerCard, id: IdentifiedCard): Promise<IdentifiedCard> {
  let changed = false;
  for (const purpose of ['so', 'backup'] as const) {
    const next = id.slots[purpose].next;
    if (!next) continue;
    const trust = ctx.trust(purpose);
    const trusted = trust?.trusted;
    const inForce = trusted !== undefined && trusted.set === next.descriptor.set && trusted.descriptorHash === descriptorHash(next.descriptor);
    // A generation number may be tried more than once: a rolled-back attempt's record is not the one
    // in force, nor is an older generation. (While a rotation is undecided, the generation before it may still be.)
    const superseded = trusted !== undefined && trust?.source !== 'interrupted' && trusted.set === next.descriptor.set && next.descriptor.generation <= trusted.generation && !inForce;
    if (inForce && trust?.source !== 'interrupted') {
      await retireOldGeneration(card, purpose, next);
    } else if (superseded || ctx.store.abandonedGeneration(next.descriptor)) {
      await card.clearSlot(purpose === 'so' ? 'soPending' : 'backupPending');
    } else {
      throw new TesseraError('CARD_ERROR', `${cardName(id)} holds generation ${next.descriptor.generation} of its set beside generation ${id.slots[purpose].record?.descriptor.generation ?? '?'}: a rotation of the set is under way or was interrupted. Finish it first (an SO login finishes an interrupted SO rotation); the card's PIN was not changed.`);
    }
    changed = true;
  }
  return changed ? identify(card) : id;
}
