// Step: identify a presented card before anything is asked of its holder, and name it by what it
// holds ("Alice's SO card", "a blank card"), so every refusal says whose card it is.
import type { EnrolmentMark, FrameRead, OfficerCard, SlotFile } from '../../cards/officer-card';
import { TesseraError, toErrorData } from '../../errors';
import { type CardRecord, parseRecord } from '../../quorum/card-record';
import type { Purpose } from '../../quorum/card-set';
import { CardPulled } from '../run';

export interface IdentifiedCard {
  serial: string | null;
  /**
   * Each set slot: its record, and `next`: a later generation of the same set that a rotation wrote
   * to the pending slot beside it (the old one stays until that generation is in force and the old
   * one is retired on the card: retireOldGeneration).
   */
  slots: Record<Purpose, { frame: FrameRead; record: CardRecord | null; next: CardRecord | null }>;
  /** An enrolment that stopped half way on this card, if any. */
  enrolling: EnrolmentMark | null;
}

const PENDING: Record<Purpose, SlotFile> = { so: 'soPending', backup: 'backupPending' };

/**
 * Reads what the card holds: serial, both set slots (and a next generation beside each), an
 * interrupted enrolment. No PIN needed. A card pulled while a record was moved into place from its
 * pending file (an old generation retired, the last step of a PIN change) reads empty or damaged
 * there, while the record is whole in the pending file: the move is finished first (no PIN either:
 * the record is copied as it is, still sealed), or the card would pass for blank and its share be lost.
 */
export async function identify(card: OfficerCard): Promise<IdentifiedCard> {
  const serial = await card.serial();
  const slot = async (purpose: Purpose): Promise<IdentifiedCard['slots'][Purpose]> => {
    let frame = await card.readSlot(purpose);
    let record = parseRecord(frame);
    if (!record && serial && frame.state !== 'ok') {
      const moving = parseRecord(await card.readSlot(PENDING[purpose]));
      if (moving && moving.card === serial) {
        await retireOldGeneration(card, purpose, moving);
        frame = await card.readSlot(purpose);
        record = parseRecord(frame);
      }
    }
    const pending = record ? parseRecord(await card.readSlot(PENDING[purpose])) : null;
    const next = pending && record && pending.descriptor.set === record.descriptor.set && pending.descriptor.generation > record.descriptor.generation && pending.card === record.card ? pending : null;
    return { frame, record, next };
  };
  return {
    serial,
    slots: { so: await slot('so'), backup: await slot('backup') },
    enrolling: serial ? await card.enrolment() : null,
  };
}

/**
 * Retires the old generation on a card whose next generation is in force: the pending record (sealed
 * under the same card PIN) becomes the card's record, read back, and the pending copy is cleared.
 * Idempotent: a card pulled half way holds the old record, or nothing readable (the record file is
 * written header last), in its main slot, and the new record in its pending file; it is finished the
 * next time it is used (identify). No PIN is needed (the record is copied as it is, still sealed).
 * @throws TesseraError CARD_ERROR when the card does not keep the record.
 */
export async function retireOldGeneration(card: OfficerCard, purpose: Purpose, next: CardRecord): Promise<void> {
  const body = Buffer.from(JSON.stringify(next));
  await card.writeSlot(purpose, body);
  const back = parseRecord(await card.readSlot(purpose));
  if (!back || JSON.stringify(back) !== JSON.stringify(next)) throw new TesseraError('CARD_ERROR', 'The card did not keep its new record. Insert it again: the old generation is retired when it is next used.');
  await card.clearSlot(PENDING[purpose]);
}

const setWords: Record<Purpose, string> = { so: 'SO', backup: 'backup-set' };

/** The card's holder, as its records (or an interrupted enrolment) name them; null when none does. */
export function holderOf(id: IdentifiedCard): string | null {
  return id.slots.so.record?.holder ?? id.slots.backup.record?.holder ?? id.enrolling?.holder ?? null;
}

/** "Alice's SO card", "Alice's card (SO and backup sets)", "a blank card", in officers' words. */
export function cardName(id: IdentifiedCard): string {
  if (!id.serial) return 'A blank card';
  const holder = holderOf(id);
  const held = (['so', 'backup'] as const).filter((p) => id.slots[p].record);
  if (!holder) return 'A card with no share on it';
  if (held.length === 2) return `${holder}'s card (SO and backup sets)`;
  if (held.length === 1) return `${holder}'s ${setWords[held[0] as Purpose]} card`;
  return `${holder}'s card (enrolment not finished)`;
}

/** A card problem in officers' words, and the PC/SC detail apart for the technical details. */
export function cardProblem(error: unknown, pulled: string): { text: string; detail?: string } {
  if (error instanceof CardPulled) return { text: pulled };
  const data = toErrorData(error);
  return data.detail ? { text: data.message, detail: data.detail } : { text: data.message };
}
