// Step: enrol cards, one holder after another (the SO set when adopting, a backup set). A card is
// identified first; a card of another holder, or holding a live share of another set, is refused
// with what it is ("Alice's SO card; Frank's card is expected here"). A blank card gets its identity
// and an enrolment mark before its PIN changes, so a card pulled half way is recognised when it comes
// back (and finished with the PIN that was chosen), or can be made blank again (reset-card). A card
// that has a PIN keeps it. The sealed share is written, read back and opened as a login would,
// before the card counts.
import type { EnrolmentMark, OfficerCard } from '../../cards/officer-card';
import { TesseraError } from '../../errors';
import { openShare, parseRecord, sealRecord } from '../../quorum/card-record';
import { type CardSetDescriptor, type Purpose, setFingerprint } from '../../quorum/card-set';
import { wipe } from '../../secrets';
import type { EnrolmentRecord } from '../../../shared/types';
import { CeremonyCancelled, type CeremonyRun, type PresentedCard } from '../run';
import { type IdentifiedCard, cardName, cardProblem, holderOf, identify } from './cards';
import { type WrongPin, choosePin, giveBlankCardPin, verifiedPin, withCardPin } from './pin';
import { CARDS_WRITING, ENROL_INTENT, type EnrolIntent } from '../../quorum/trust';
import type { CeremonyContext, RunOptions } from '../context';
import { crashPoint } from './crash-points';
import { IntentSteps } from './intent';
import { CARD_PIN, TRANSPORT_PIN } from './pin-rules';

export interface EnrolSpec {
  descriptor: CardSetDescriptor;
  /** One share per holder, in index order. Not wiped here. */
  shares: Buffer[];
  purpose: Purpose;
  retryWrongPin: boolean;
  /** "Card 2 of 5: Bob, insert your blank card." */
  insertText(index: number, n: number, holder: string): string;
  /** Whether a set was abandoned (its cards may be written again). */
  abandoned(set: string): boolean;
  /** After each card is written and checked (the intent log's step, a crash point). */
  written(index: number, serial: string, all: Map<number, string>): void;
}

/** Writes every holder's card; returns card serials by share index. */
export async function enrolCards(run: CeremonyRun, spec: EnrolSpec): Promise<Map<number, string>> {
  const written = new Map<number, string>();
  run.needs(spec.descriptor.n);
  for (const h of spec.descriptor.holders) {
    await enrolOne(run, spec, h.index, h.holder, written);
    spec.written(h.index, written.get(h.index) as string, written);
  }
  return written;
}

async function enrolOne(run: CeremonyRun, spec: EnrolSpec, index: number, holder: string, written: Map<number, string>): Promise<void> {
  const d = spec.descriptor;
  for (;;) {
    const presented = await run.nextCard({ kind: 'insert-card', text: spec.insertText(index, d.n, holder), holder });
    try {
      if (await enrolPresented(run, spec, presented, index, holder, written)) return;
    } finally {
      await presented.session.close();
    }
  }
}

/**
 * Writes `holder`'s share (share `index`) onto the presented card, if it is a card for them (blank,
 * their own, or their interrupted enrolment): PIN, sealed share, read back and opened. False when the
 * card was refused or taken out (said as a notice): another card is needed. The caller closes the session.
 * @throws TesseraError PIN_INCORRECT (a PIN given in advance was wrong); CeremonyCancelled.
 */
export async function enrolPresented(run: CeremonyRun, spec: EnrolSpec, presented: PresentedCard, index: number, holder: string, written: Map<number, string>): Promise<boolean> {
  const d = spec.descriptor;
  const { card, reader } = presented;
  let pin: Buffer | null = null;
  try {
    const id = await identify(card);
    const name = cardName(id);
    const problem = unsuitable(id, spec, holder, index, written);
    if (problem) {
      run.notice('warning', `${name}: ${problem}`);
      return false;
    }
    pin = await cardPin(run, card, id, spec, holder, index, reader);
    if (!pin) return false;
    const serial = await card.ensureSerial();
    run.working(`Writing ${holder}'s card…`);
    await card.writeSlot(spec.purpose, await sealRecord(d, index, serial, spec.shares[index - 1] as Buffer, pin));
    run.wrote(`${holder}'s card holds a share of this unfinished set: it is refused for any login, and can be enrolled again, or made blank again (Check a card).`, holder);
    // Read back from the card and open it as a login (or a restore) would, before counting the card.
    const check = parseRecord(await card.readSlot(spec.purpose));
    const opened = check && check.card === serial && check.index === index ? await openShare(card, check, pin, spec.purpose) : null;
    if (!opened || !('share' in opened)) throw new TesseraError('CARD_ERROR', 'The card did not give back what was written. Use another card.');
    wipe(opened.share);
    if (id.enrolling || !id.serial) await card.markEnrolment(null);
    written.set(index, serial);
    run.collect(holder, index, serial);
    run.notice('info', `${holder}'s card is written and checked (${written.size} of ${d.n}). ${holder}, take your card out.`);
    return true;
  } catch (error) {
    if (error instanceof CeremonyCancelled || (error instanceof TesseraError && error.code === 'PIN_INCORRECT')) throw error;
    const problem = cardProblem(error, 'taken out before it was written and checked. Insert it again: it is recognised and finished.');
    run.notice('warning', `${holder}'s card: ${problem.text}`, problem.detail);
    return false;
  } finally {
    wipe(pin);
  }
}

/** Why this card cannot be `holder`'s card of the new set; null when it can. */
function unsuitable(id: IdentifiedCard, spec: EnrolSpec, holder: string, index: number, written: Map<number, string>): string | null {
  const d = spec.descriptor;
  const writtenFor = [...written].find(([, serial]) => serial === id.serial)?.[0];
  if (writtenFor !== undefined) return `it was just written for ${d.holders.find((h) => h.index === writtenFor)?.holder}. ${holder}, insert your own card.`;
  // Shares of sets still in use, and enrolments of such sets stopped half way, belong to someone.
  const live = (['so', 'backup'] as const).map((p) => id.slots[p].record).filter((r) => r !== null && r.descriptor.set !== d.set && !spec.abandoned(r.descriptor.set));
  const mark = id.enrolling && !spec.abandoned(id.enrolling.set) ? id.enrolling : null;
  const existing = id.slots[spec.purpose].record;
  if (existing && live.includes(existing)) return `it holds a share of another ${spec.purpose === 'so' ? 'card set' : 'backup key set'} (partition "${existing.descriptor.partition.label}"). ${holder}'s card is expected here: a blank card, or ${holder}'s own.`;
  // A card of another holder, even of an abandoned set: its PIN is theirs, and a guess would cost a try.
  const owner = holderOf(id);
  if (owner && owner.toLowerCase() !== holder.toLowerCase()) return `${holder}'s card is expected here.${live.length === 0 ? ` ${owner} can make this card blank again (Check a card).` : ''}`;
  if (mark && (mark.set !== d.set || mark.index !== index)) return `an enrolment of another set stopped half way on it. ${holder}'s card is expected here; make this one blank again first (Check a card).`;
  return null;
}

/**
 * The holder's PIN for the card: a blank card gets a chosen one (identity and enrolment mark first);
 * a card whose enrolment for this holder was interrupted takes the PIN chosen then; a card that has
 * a PIN keeps it (typed once, verified by the card). Null to take another card.
 */
async function cardPin(run: CeremonyRun, card: OfficerCard, id: IdentifiedCard, spec: EnrolSpec, holder: string, index: number, reader: string): Promise<Buffer | null> {
  const d = spec.descriptor;
  const mark = id.enrolling;
  if (mark && mark.set === d.set && mark.index === index) {
    const text = `${holder}: this card's enrolment was interrupted. Type the PIN you chose for it.`;
    return withCardPin(run, card, { holder, reader, text, retry: spec.retryWrongPin }, (pin) => (mark.step === 'pin-set' ? verifiedPin(card, pin) : chosenOrTransport(card, pin)));
  }
  if (id.serial) {
    const text = `${holder}: type your card PIN. The new share is sealed under it.`;
    const current = await withCardPin(run, card, { holder, reader, text, retry: spec.retryWrongPin }, (pin) => verifiedPin(card, pin));
    // A share is never sealed under the blank-card PIN, nor under a PIN outside the rules: the holder chooses one.
    if (!current || !(current.equals(TRANSPORT_PIN) || current.length < CARD_PIN.min || current.length > CARD_PIN.max)) return current;
    try {
      const chosen = await choosePin(run, { holder, reader, text: `${holder}: this card's PIN is the blank-card PIN, or outside the rules. Choose a PIN for it (${CARD_PIN.min} to ${CARD_PIN.max} characters) and type it twice.` });
      if ((await card.changePin(current, chosen)).ok) return chosen;
      wipe(chosen);
      throw new TesseraError('CARD_ERROR', 'The card did not take the new PIN. Use another card.');
    } finally {
      wipe(current);
    }
  }
  const pin = await choosePin(run, { holder, reader, text: `${holder}: choose a PIN for your card (${CARD_PIN.min} to ${CARD_PIN.max} characters) and type it twice.` });
  run.working(`Writing ${holder}'s card…`);
  await card.ensureSerial();
  const marked: EnrolmentMark = { set: d.set, purpose: spec.purpose, partition: d.partition.serial, holder, index, step: 'pin-changing' };
  await card.markEnrolment(marked);
  run.wrote(`${holder}'s card has the PIN ${holder} chose and an unfinished enrolment: it can be finished in a new enrolment, or made blank again (Check a card).`, holder);
  if (!(await giveBlankCardPin(card, pin))) {
    await card.clearAll();
    wipe(pin);
    run.notice('warning', "This card's PIN is not the blank-card PIN, and it holds no Tessera record. Use a blank card.");
    return null;
  }
  await card.markEnrolment({ ...marked, step: 'pin-set' });
  crashPoint(`${run.kind}:card-${index}-pin-set`);
  return pin;
}

/**
 * A card pulled while its PIN was being changed: its PIN is the chosen one, or still the transport
 * PIN. The chosen PIN is tried first (the likelier), then the transport PIN is replaced by it.
 */
async function chosenOrTransport(card: OfficerCard, pin: Buffer): Promise<Buffer | WrongPin> {
  const verified = await verifiedPin(card, pin);
  if (Buffer.isBuffer(verified)) return verified;
  return (await giveBlankCardPin(card, pin)) ? Buffer.from(pin) : verified;
}

/** Begins a new set's enrolment in the intent log (kind by purpose; crash point `kind:started`). */
export function beginEnrolment(ctx: CeremonyContext, descriptor: CardSetDescriptor): IntentSteps<EnrolIntent> {
  return new IntentSteps<EnrolIntent>(ctx.intents, ENROL_INTENT[descriptor.purpose], CARDS_WRITING, { descriptor, cards: {} });
}

/** Enrols every holder's card of the intent's set, recording each card in the intent (crash point `kind:card-N`). */
export function enrolSetCards(run: CeremonyRun, ctx: CeremonyContext, intent: IntentSteps<EnrolIntent>, shares: Buffer[], options: RunOptions, insertText: EnrolSpec['insertText']): Promise<Map<number, string>> {
  const descriptor = intent.data.descriptor;
  return enrolCards(run, {
    descriptor,
    shares,
    purpose: descriptor.purpose,
    retryWrongPin: options.retryWrongPin,
    insertText,
    abandoned: (set) => ctx.store.abandoned(set),
    written: (index, _serial, all) => intent.advance(CARDS_WRITING, { descriptor, cards: Object.fromEntries([...all].map(([i, c]) => [String(i), c])) }, `card-${index}`),
  });
}

/** An enrolment stopped while its cards were written: the set is abandoned (its cards may be enrolled again). */
export function abandonUnfinished(run: CeremonyRun, ctx: CeremonyContext, intent: IntentSteps<EnrolIntent> | null): void {
  if (!intent || intent.finished || intent.step !== CARDS_WRITING) return;
  intent.finish(run.isCancelled ? 'cancelled' : 'failed');
  ctx.store.abandon(intent.data.descriptor);
}

/** What officers keep of an enrolment: the set, and which card each holder has. */
export function enrolmentRecord(descriptor: CardSetDescriptor, written: Map<number, string>): EnrolmentRecord {
  return {
    partition: descriptor.partition,
    set: descriptor.set,
    generation: descriptor.generation,
    m: descriptor.m,
    n: descriptor.n,
    cards: [...written].sort(([a], [b]) => a - b).map(([index, card]) => ({ index, holder: descriptor.holders.find((h) => h.index === index)?.holder ?? `#${index}`, card })),
    date: descriptor.created,
    ...(descriptor.backup ? { fingerprint: setFingerprint(descriptor.backup) } : {}),
  };
}
