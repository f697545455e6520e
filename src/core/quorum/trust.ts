// Which card set of a purpose (SO credential, backup escrow key) the chosen partition has, and so
// which cards the terminal accepts: the terminal's record, checked against the partition's anchor;
// without a record, what the anchor names (and, for a backup set, the descriptor it carries,
// checked by its hash). An enrolment interrupted after it changed the partition comes first.
// One lookup for both purposes: the SO login, restores and backups all ask here.
import { TesseraError } from '../errors';
import type { PartitionService } from '../partition/partition-service';
import type { Intent, IntentLog } from '../store/intents';
import type { TrustedSet } from './card-record';
import { type CardSetDescriptor, type Purpose, descriptorHash } from './card-set';
import type { CardSetStore } from './card-set-store';

/** The intent-log kind of each purpose's enrolment (adoption, backup-set creation). */
export const ENROL_INTENT: Record<Purpose, string> = { so: 'adopt', backup: 'backup-set' };

/** What an enrolment records in the intent log: the new set, and the cards written so far (index → serial). */
export interface EnrolIntent {
  descriptor: CardSetDescriptor;
  cards: Record<string, string>;
}

/** The intent-log step of an enrolment whose cards are still being written (nothing else changed yet). */
export const CARDS_WRITING = 'cards-writing';

export interface Trust {
  trusted: TrustedSet;
  /** Known when the terminal recorded the set (or the anchor carries it); learned from the first matching card otherwise. */
  descriptor: CardSetDescriptor | null;
  source: 'terminal' | 'partition' | 'interrupted';
}

const words: Record<Purpose, { record: string; code: 'CARD_ERROR' | 'BACKUP_INVALID'; until: string }> = {
  so: { record: 'card-set record', code: 'CARD_ERROR', until: 'nothing is logged in until this is explained' },
  backup: { record: 'backup-set record', code: 'BACKUP_INVALID', until: 'nothing is backed up or restored until this is explained' },
};

/**
 * The set of `purpose` cards are checked against; null when the partition has none.
 * @throws TesseraError (CARD_ERROR for the SO set, BACKUP_INVALID for the backup set) when the
 *   partition's anchors and the terminal's record disagree, or there is more than one anchor.
 */
export function trustedSet(partition: PartitionService, store: CardSetStore, intents: IntentLog, purpose: Purpose): Trust | null {
  const token = partition.partition();
  const w = words[purpose];
  const anchors = partition.anchors(purpose);
  if (anchors.length > 1) throw new TesseraError(w.code, `The partition holds more than one ${w.record}. This needs investigation: ${w.until}.`, `${anchors.length} anchors`);
  const anchor = anchors[0];
  // Only an adoption interrupted around C_SetPIN is worth a try from the intent log (its cards hold
  // the only SO credential that may work), and only when the partition does not contradict it: no
  // anchor yet, or its own. A backup set is never used before it is complete and anchored: a
  // forged intent must not choose the key new backups are encrypted to.
  const interrupted = purpose === 'so' ? interruptedEnrolment(intents, purpose, token.serial) : null;
  if (interrupted && (!anchor || (anchor.set === interrupted.data.descriptor.set && anchor.descriptor === descriptorHash(interrupted.data.descriptor)))) return fromDescriptor(interrupted.data.descriptor, 'interrupted');
  const known = store.active(token.serial, purpose);
  if (known) {
    // A backup set's anchor carries the escrow key new backups are encrypted to: it must be there and agree.
    const missing = !anchor && purpose === 'backup';
    if (missing || (anchor && (anchor.set !== known.set || anchor.descriptor !== descriptorHash(known)))) {
      throw new TesseraError(w.code, `The partition's ${w.record} differs from this terminal's. Another terminal may have changed it; ${w.until}.`);
    }
    return fromDescriptor(known, 'terminal');
  }
  if (!anchor) return null;
  let descriptor: CardSetDescriptor | null = null;
  if (anchor.full !== undefined) {
    const full = anchor.full as CardSetDescriptor;
    if (typeof full !== 'object' || full === null || descriptorHash(full) !== anchor.descriptor || full.partition?.serial !== token.serial || full.purpose !== purpose) {
      throw new TesseraError(w.code, `The partition's ${w.record} is inconsistent. ${w.until[0]?.toUpperCase()}${w.until.slice(1)}.`);
    }
    descriptor = full;
  }
  return { trusted: { set: anchor.set, generation: anchor.generation, descriptorHash: anchor.descriptor }, descriptor, source: 'partition' };
}

/** An enrolment of this partition that a crash stopped after it began to change the partition. */
export function interruptedEnrolment(intents: IntentLog, purpose: Purpose, tokenSerial: string): Intent<EnrolIntent> | null {
  return intents.unfinished<EnrolIntent>(ENROL_INTENT[purpose]).find((i) => i.data.descriptor.partition.serial === tokenSerial && i.step !== CARDS_WRITING) ?? null;
}

function fromDescriptor(d: CardSetDescriptor, source: Trust['source']): Trust {
  return { trusted: { set: d.set, generation: d.generation, descriptorHash: descriptorHash(d) }, descriptor: d, source };
}

/** The cards an enrolment intent records, as index → card serial. */
export function cardsOf(data: EnrolIntent): Map<number, string> {
  return new Map(Object.entries(data.cards).map(([index, card]) => [Number(index), card]));
}
