// Which card set of a purpose (SO credential, backup escrow key) the chosen partition has, and so
// which cards the terminal accepts: the terminal's record, checked against the partition's anchor;
// without a record, what the anchor names (and, for a backup set, the descriptor it carries,
// checked by its hash). An enrolment interrupted after it changed the partition comes first.
// One lookup for both purposes: the SO login, restores and backups all ask here.
import { TesseraError } from '../errors';
import type { Anchor } from '../partition/anchor';
import type { PartitionService } from '../partition/partition-service';
import type { Intent, IntentLog } from '../store/intents';
import type { TrustedSet } from './card-record';
import { type CardSetDescriptor, type Purpose, descriptorHash } from './card-set';
import type { CardSetStore } from './card-set-store';
import { confirmedInForce, endorsed, successionOf } from './rotation-key';

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

/** The intent-log kind of each purpose's rotation (a new generation of the set). */
export const ROTATE_INTENT: Record<Purpose, string> = { so: 'so-rotate', backup: 'backup-set-rotate' };

/** What a rotation records in the intent log before it changes anything. */
export interface RotateIntent {
  /** The new generation. */
  descriptor: CardSetDescriptor;
  /** The generation it replaces. */
  from: { generation: number; descriptorHash: string };
  /**
   * The new generation's anchor, endorsed by the old generation (computed while its secret was at
   * hand). Never its confirmation: that is made only once the new generation is in force.
   */
  anchor: Anchor;
  /** Cards written so far (share index → card serial). */
  cards: Record<string, string>;
  /** Holders whose card keeps its old-generation share until the old generation is retired on it. */
  kept: string[];
  /** Holders whose old card was replaced by a blank one (and its serial), and holders left out. */
  replaced: { holder: string; card: string | null }[];
  removed: string[];
}

/**
 * The anchor of a set's first generation: set, generation, descriptor hash and rotation key (a
 * backup set's whole descriptor too, so a terminal without records can make backups).
 */
export function firstAnchor(d: CardSetDescriptor): Anchor {
  return { set: d.set, generation: d.generation, descriptor: descriptorHash(d), ...(d.purpose === 'backup' ? { full: d } : {}), ...(d.rotationKey ? { rotationKey: d.rotationKey } : {}) };
}

/** The generations a partition's anchors vouch for, oldest first: each endorsed by the one before. */
export interface AnchorChain {
  tip: Anchor;
  byGeneration: Map<number, Anchor>;
}

/**
 * The chain of a purpose's anchors: the one first generation (an anchor naming no previous one),
 * then each generation whose anchor names the one before and carries its endorsement (a signature by
 * the previous generation's rotation key, quorum/rotation-key.ts) and its confirmation (its own
 * rotation key's signature, made once it was in force). Anchors nobody endorsed (anyone with a
 * session can write one), and endorsed anchors of a rotation that never took effect (the intent log
 * keeps their endorsement), are left out; null when there is no first generation.
 * @throws TesseraError (CARD_ERROR, BACKUP_INVALID) when two first generations, or two endorsed
 *   successors of one generation, disagree: the partition's history is in question.
 */
export function anchorChain(anchors: Anchor[], purpose: Purpose, partitionSerial: string): AnchorChain | null {
  const w = words[purpose];
  const distinct = (list: Anchor[]): Anchor[] => [...new Map(list.map((a) => [JSON.stringify([a.set, a.generation, a.descriptor, a.rotationKey ?? null]), a])).values()];
  const roots = distinct(anchors.filter((a) => a.previous === undefined));
  if (roots.length > 1) throw new TesseraError(w.code, `The partition holds more than one ${w.record}. This needs investigation: ${w.until}.`, `${roots.length} anchors of a first generation`);
  let tip = roots[0];
  if (!tip) return null;
  const byGeneration = new Map([[tip.generation, tip]]);
  for (;;) {
    const cur: Anchor = tip;
    const next = distinct(
      anchors.filter(
        (a) =>
          a.set === cur.set &&
          a.generation === cur.generation + 1 &&
          a.previous === cur.descriptor &&
          a.rotationKey !== undefined &&
          a.endorsement !== undefined &&
          a.confirmation !== undefined &&
          cur.rotationKey !== undefined &&
          endorsed(cur.rotationKey, successionOf(purpose, partitionSerial, a), a.endorsement) &&
          confirmedInForce(successionOf(purpose, partitionSerial, a), a.confirmation),
      ),
    );
    if (next.length > 1) throw new TesseraError(w.code, `The partition holds two endorsed successors of generation ${cur.generation} of its ${w.record}. This needs investigation: ${w.until}.`);
    const found = next[0];
    if (!found) return { tip: cur, byGeneration };
    byGeneration.set(found.generation, found);
    tip = found;
  }
}

/**
 * The set of `purpose` cards are checked against; null when the partition has none. The current
 * generation is the last one the partition's anchors vouch for (anchorChain); the terminal's record
 * must be one of those generations (an earlier one: another terminal made a new generation since).
 * @throws TesseraError (CARD_ERROR for the SO set, BACKUP_INVALID for the backup set) when the
 *   partition's anchors and the terminal's record disagree, or the anchors disagree among themselves.
 */
export function trustedSet(partition: PartitionService, store: CardSetStore, intents: IntentLog, purpose: Purpose): Trust | null {
  const token = partition.partition();
  const w = words[purpose];
  // An endorsed anchor of an attempt that was rolled back (its endorsement was in the intent log,
  // readable to anyone with the database file) is not followed: it lacks the confirmation only a
  // generation in force makes (anchorChain). The terminal's own word that a generation was abandoned
  // is not asked: the database could say so of the generation in force, and bring back the one before.
  const chain = anchorChain(partition.anchors(purpose), purpose, token.serial);
  const anchor = chain?.tip;
  // Only an SO change interrupted around C_SetPIN is worth a try from the intent log (its cards hold
  // the only SO credential that may work), and only when the partition does not contradict it: for
  // an adoption no anchor yet, or its own; for a rotation, the generation it replaces, or its own.
  // A backup set is never used before it is complete and anchored: a forged intent must not choose
  // the key new backups are encrypted to.
  if (purpose === 'so') {
    const interrupted = interruptedEnrolment(intents, purpose, token.serial);
    if (interrupted && (!anchor || (anchor.set === interrupted.data.descriptor.set && anchor.descriptor === descriptorHash(interrupted.data.descriptor)))) return fromDescriptor(interrupted.data.descriptor, 'interrupted');
    const rotation = interruptedRotation(intents, purpose, token.serial);
    if (rotation && chain && vouched(rotation.data, chain, token.serial)) return fromDescriptor(rotation.data.descriptor, 'interrupted');
  }
  const known = store.active(token.serial, purpose);
  if (known) {
    // A backup set's anchor carries the escrow key new backups are encrypted to: it must be there and agree.
    const missing = !chain && purpose === 'backup';
    const recorded = chain?.byGeneration.get(known.generation);
    if (missing || (chain && (!recorded || recorded.set !== known.set || recorded.descriptor !== descriptorHash(known)))) {
      throw new TesseraError(w.code, `The partition's ${w.record} differs from this terminal's. Another terminal may have changed it; ${w.until}.`);
    }
    if (!anchor || anchor.generation === known.generation) return fromDescriptor(known, 'terminal');
    // A later generation, endorsed by the one this terminal recorded: made on another terminal.
  }
  if (!anchor) return null;
  let descriptor: CardSetDescriptor | null = null;
  if (anchor.full !== undefined) {
    const full = anchor.full as CardSetDescriptor;
    if (typeof full !== 'object' || full === null || descriptorHash(full) !== anchor.descriptor || full.partition?.serial !== token.serial || full.purpose !== purpose || full.generation !== anchor.generation || (anchor.rotationKey !== undefined && full.rotationKey !== anchor.rotationKey)) {
      throw new TesseraError(w.code, `The partition's ${w.record} is inconsistent. ${w.until[0]?.toUpperCase()}${w.until.slice(1)}.`);
    }
    descriptor = full;
  }
  return { trusted: { set: anchor.set, generation: anchor.generation, descriptorHash: anchor.descriptor }, descriptor, source: 'partition' };
}

/**
 * Whether an interrupted rotation's new generation is vouched for: its anchor (kept in the intent)
 * names exactly its descriptor and is endorsed by the generation the partition's chain has in force
 * before it. A rotation forged into the database cannot be: it would need the old quorum's secret.
 */
function vouched(data: RotateIntent, chain: AnchorChain, partitionSerial: string): boolean {
  const d = data.descriptor;
  const a = data.anchor;
  const before = chain.byGeneration.get(d.generation - 1);
  if (!before?.rotationKey || a.set !== d.set || a.generation !== d.generation || a.descriptor !== descriptorHash(d) || a.rotationKey !== d.rotationKey || a.previous !== before.descriptor || !a.endorsement || !a.rotationKey) return false;
  const tip = chain.tip.generation;
  if (tip !== d.generation - 1 && !(tip === d.generation && chain.tip.descriptor === a.descriptor)) return false;
  return endorsed(before.rotationKey, { purpose: d.purpose, set: d.set, partitionSerial, generation: d.generation, descriptorHash: a.descriptor, rotationKey: a.rotationKey, previousDescriptorHash: before.descriptor }, a.endorsement);
}

/** A rotation of this partition's set that a crash stopped after its cards were written (around C_SetPIN or the anchor). */
export function interruptedRotation(intents: IntentLog, purpose: Purpose, tokenSerial: string): Intent<RotateIntent> | null {
  return intents.unfinished<RotateIntent>(ROTATE_INTENT[purpose]).find((i) => i.data.descriptor.partition.serial === tokenSerial && i.step !== CARDS_WRITING) ?? null;
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
