// Step: identify a presented card before anything is asked of its holder, and name it by what it
// holds ("Alice's SO card", "a blank card"), so every refusal says whose card it is.
import type { EnrolmentMark, FrameRead, OfficerCard } from '../../cards/officer-card';
import { toErrorData } from '../../errors';
import { type CardRecord, parseRecord } from '../../quorum/card-record';
import type { Purpose } from '../../quorum/card-set';
import { CardPulled } from '../run';

export interface IdentifiedCard {
  serial: string | null;
  slots: Record<Purpose, { frame: FrameRead; record: CardRecord | null }>;
  /** An enrolment that stopped half way on this card, if any. */
  enrolling: EnrolmentMark | null;
}

/** Reads what the card holds: serial, both set slots, an interrupted enrolment. No PIN needed. */
export async function identify(card: OfficerCard): Promise<IdentifiedCard> {
  const serial = await card.serial();
  const so = await card.readSlot('so');
  const backup = await card.readSlot('backup');
  return {
    serial,
    slots: { so: { frame: so, record: parseRecord(so) }, backup: { frame: backup, record: parseRecord(backup) } },
    enrolling: serial ? await card.enrolment() : null,
  };
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
