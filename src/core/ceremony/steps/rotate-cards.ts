// Steps of a rotation (a new generation of a card set) on the cards. The write pass: each holder of
// the new generation presents a card, in any order: a kept card gets its new share sealed under its
// holder's own PIN in the slot's pending file (its old share stays, so the old generation still works
// until the new one is in force); a new holder, or a holder whose card is replaced, gets a blank card
// (enrolled as in an adoption). The retire pass, once the new generation is in force: each kept card
// once more, its pending record becomes its record and the old share is gone. A card that misses it
// is retired the next time it is used (steps/quorum.ts). See docs/card-profile.md, "Generations".
import { TesseraError } from '../../errors';
import { type CardRecord, binding, openShare, parseRecord, refusal, sealRecord } from '../../quorum/card-record';
import { unseal } from '../../quorum/seal';
import { type CardSetDescriptor, type Purpose, descriptorHash } from '../../quorum/card-set';
import { wipe } from '../../secrets';
import type { CeremonyContext } from '../context';
import { CeremonyCancelled, type CeremonyRun, type PresentedCard } from '../run';
import { cardName, cardProblem, holderOf, identify, retireOldGeneration } from './cards';
import { type EnrolSpec, enrolPresented } from './enrol';
import { crashPoint } from './crash-points';
import { verifiedPin, withCardPin } from './pin';

const PENDING = { so: 'soPending', backup: 'backupPending' } as const;

/** Who gets which card in the new generation. */
export interface GenerationPlan {
  purpose: Purpose;
  /** The generation in force, whose cards are kept. */
  old: CardSetDescriptor;
  /** The new generation (its holders in share order). */
  next: CardSetDescriptor;
  /** One share per holder of `next`, in index order. Not wiped here. */
  shares: Buffer[];
  /** Holders of `next` who keep their card of `old` (lower-case names → their old share index). */
  keep: Map<string, number>;
  /** Holders of `old` whose card is replaced (it must not be presented as theirs). */
  replaced: Set<string>;
  retryWrongPin: boolean;
  abandoned(set: string): boolean;
  /** After each card is written and checked (the intent log's step, a crash point). */
  written(index: number, all: Map<number, string>): void;
}

const lower = (s: string): string => s.toLowerCase();

/**
 * Writes the new generation onto every holder's card, in the order the cards come.
 * @returns card serials by share index of the new generation.
 * @throws TesseraError PIN_INCORRECT (a PIN given in advance was wrong); CeremonyCancelled.
 */
export async function writeGeneration(run: CeremonyRun, plan: GenerationPlan): Promise<Map<number, string>> {
  const { next } = plan;
  const written = new Map<number, string>();
  run.needs(next.n);
  const blankFor = next.holders.filter((h) => !plan.keep.has(lower(h.holder)));
  const spec: EnrolSpec = {
    descriptor: next,
    shares: plan.shares,
    purpose: plan.purpose,
    retryWrongPin: plan.retryWrongPin,
    insertText: () => '',
    abandoned: plan.abandoned,
    written: () => undefined,
  };
  while (written.size < next.n) {
    const waiting = next.holders.filter((h) => !written.has(h.index));
    const kept = waiting.filter((h) => plan.keep.has(lower(h.holder))).map((h) => h.holder);
    const blank = waiting.filter((h) => !plan.keep.has(lower(h.holder))).map((h) => h.holder);
    const text = [kept.length > 0 ? `${kept.join(', ')}: insert your card (the new share is sealed under your card PIN)` : '', blank.length > 0 ? `a blank card for ${blank.join(', ')}` : ''].filter(Boolean).join('; or ');
    const presented = await run.nextCard({ kind: 'insert-card', text: `Card ${written.size + 1} of ${next.n}: ${text}.` });
    try {
      let id = await identify(presented.card);
      // A kept card that missed the retire pass of the generation in force holds it beside the one
      // before: it is retired now (no PIN), as at any use, or it would be refused as an old card.
      const missed = id.slots[plan.purpose].next;
      if (missed && descriptorHash(missed.descriptor) === descriptorHash(plan.old)) {
        await retireOldGeneration(presented.card, plan.purpose, missed);
        id = await identify(presented.card);
      }
      const record = id.slots[plan.purpose].record;
      // (A later generation of the set on a card is one that was rolled back: the card is reusable.)
      const ofOld = record && record.descriptor.set === plan.old.set && record.descriptor.generation <= plan.old.generation ? record : null;
      if (ofOld && id.serial) {
        // A card of the set's generation in force: its holder's own card, kept.
        const problem = keptProblem(ofOld, id.serial, plan, written);
        if (problem) {
          run.notice('warning', `${cardName(id)}: ${problem}`);
          continue;
        }
        const index = next.holders.find((h) => lower(h.holder) === lower(ofOld.holder))?.index as number;
        if (await writeKept(run, plan, presented, ofOld, index, id.serial)) {
          written.set(index, id.serial);
          plan.written(index, written);
        }
        continue;
      }
      // Any other card is for a holder who needs a blank one: their own (named on it) first.
      const owner = holderOf(id);
      const target = blankFor.find((h) => !written.has(h.index) && owner !== null && lower(h.holder) === lower(owner)) ?? blankFor.find((h) => !written.has(h.index));
      if (!target) {
        run.notice('warning', `${cardName(id)}: no holder of the new generation needs a blank card any more. ${kept.join(', ')}: insert your own card.`);
        continue;
      }
      if (await enrolPresented(run, spec, presented, target.index, target.holder, written)) plan.written(target.index, written);
    } catch (error) {
      if (error instanceof CeremonyCancelled || (error instanceof TesseraError && error.code === 'PIN_INCORRECT')) throw error;
      const problem = cardProblem(error, 'taken out before it was written and checked. Insert it again.');
      run.notice('warning', `This card: ${problem.text}`, problem.detail);
    } finally {
      await presented.session.close();
    }
  }
  return written;
}

/** Why a card of the set in force cannot take its holder's new share; null when it can. */
function keptProblem(record: CardRecord, serial: string, plan: GenerationPlan, written: Map<number, string>): string | null {
  const refused = refusal(record, { state: 'ok', body: Buffer.alloc(0) }, serial, { set: plan.old.set, generation: plan.old.generation, descriptorHash: descriptorHash(plan.old) }, plan.old.partition.serial);
  if (refused) return refused;
  const holder = record.holder;
  if (plan.replaced.has(lower(holder))) return `this is the card this ceremony replaces. ${holder} receives a blank card instead; keep this one apart (it no longer counts once the new generation is in force).`;
  if (!plan.keep.has(lower(holder))) return `${holder} is not a holder of the new generation. Take the card out.`;
  if ([...written.values()].includes(serial)) return 'already written. Insert the next card.';
  return null;
}

/** The holder's new share sealed under their card PIN in the pending file, read back and opened. */
async function writeKept(run: CeremonyRun, plan: GenerationPlan, presented: PresentedCard, old: CardRecord, index: number, serial: string): Promise<boolean> {
  const { card, reader } = presented;
  const holder = old.holder;
  const pin = await withCardPin(run, card, { holder, reader, text: `${holder}: type your card PIN. Your new share is sealed under it.`, retry: plan.retryWrongPin }, (p) => verifiedPin(card, p));
  if (!pin) return false;
  // The old share must open under the same PIN: if the rotation is rolled back, it is the one that counts.
  const current = await unseal(old.sealed, pin, binding(old.descriptor, old.index, old.card));
  if (!current) {
    wipe(pin);
    throw new TesseraError('CARD_ERROR', `${holder}'s share does not open under the card's PIN (a PIN change was interrupted on it, or the record was altered). Check the card (Cards → Check a card) before it takes a new share.`);
  }
  wipe(current);
  try {
    run.working(`Writing ${holder}'s card…`);
    const pending = PENDING[plan.purpose];
    await card.writeSlot(pending, await sealRecord(plan.next, index, serial, plan.shares[index - 1] as Buffer, pin));
    run.wrote(`${holder}'s card holds a share of the new generation beside its current one: the current generation still works.`, holder);
    const check = parseRecord(await card.readSlot(pending));
    const opened = check && check.card === serial && check.index === index && check.descriptor.generation === plan.next.generation ? await openShare(card, check, pin, plan.purpose) : null;
    if (!opened || !('share' in opened)) throw new TesseraError('CARD_ERROR', 'The card did not give back what was written. Insert it again.');
    wipe(opened.share);
    run.collect(holder, index, serial);
    run.notice('info', `${holder}'s card is written and checked. ${holder}, take your card out.`);
    return true;
  } finally {
    wipe(pin);
  }
}

/**
 * Retires the old generation on each kept card (its pending record becomes its record; no PIN).
 * Officers may finish before every card came back: the cards left are retired when next used.
 * @returns the holders whose card still holds its old share.
 */
export async function retirePass(run: CeremonyRun, purpose: Purpose, next: CardSetDescriptor, holders: string[], crashAs: string): Promise<string[]> {
  const left = new Set(holders);
  const hash = descriptorHash(next);
  while (left.size > 0) {
    const presented = await run.nextCardOrFinish({
      kind: 'insert-card',
      text: `Retire the old generation: ${[...left].join(', ')}, insert your card once more (no PIN is asked). Its old share is removed.`,
      finishLabel: 'Finish later (each card is retired when it is next used)',
    });
    if (!presented) break;
    try {
      const id = await identify(presented.card);
      const slot = id.slots[purpose];
      const holder = slot.record?.holder ?? null;
      const current = slot.record && slot.record.descriptor.set === next.set && slot.record.descriptor.generation === next.generation && descriptorHash(slot.record.descriptor) === hash;
      if (current && holder) {
        left.delete(holder);
        run.notice('info', `${holder}'s card holds only the new generation already.`);
        continue;
      }
      const fresh = slot.next && descriptorHash(slot.next.descriptor) === hash ? slot.next : null;
      if (!fresh || !left.has(fresh.holder)) {
        run.notice('warning', `${cardName(id)}: it holds no share of the new generation to keep. ${[...left].join(', ')}: insert your card.`);
        continue;
      }
      await retireOldGeneration(presented.card, purpose, fresh);
      left.delete(fresh.holder);
      crashPoint(`${crashAs}:retired-${holders.length - left.size}`);
      run.notice('info', `${fresh.holder}'s card: the old generation is retired. Take the card out.`);
    } catch (error) {
      if (error instanceof CeremonyCancelled) throw error;
      const problem = cardProblem(error, 'taken out before the old share was removed. Insert it again.');
      run.notice('warning', `This card: ${problem.text}`, problem.detail);
    } finally {
      await presented.session.close();
    }
  }
  return [...left];
}

/**
 * Words for a card of an older generation that the terminal knows was replaced, or whose holder left
 * the set ("replaced on 2026-11-30 (generation 2)"): refused before its PIN is asked, at no try.
 */
export function replacedWords(ctx: CeremonyContext): (record: CardRecord, cardSerial: string) => string | null {
  return (record, cardSerial) => {
    // Only a generation this terminal recorded, exactly as recorded: a forged "old" record is not named as replaced.
    const d = record.descriptor;
    const recorded = ctx.store.generation(d.partition.serial, d.purpose, d.set, d.generation);
    if (!recorded || descriptorHash(recorded) !== descriptorHash(d)) return null;
    const found = ctx.store.replacedIn(record.descriptor.set, record.descriptor.generation, cardSerial, record.holder);
    if (!found) return null;
    const date = found.date.slice(0, 10);
    return found.holderKept
      ? `This card was replaced on ${date} (generation ${found.generation}). ${record.holder} has a new card; this one no longer counts.`
      : `This card's holder, ${record.holder}, left the set on ${date} (generation ${found.generation}). This card no longer counts.`;
  };
}
