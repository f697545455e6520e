// Checking one card without logging in: what it is (holder, set, generation, partition), whether it
// belongs to the chosen partition's current set, its remaining PIN tries, and with its PIN whether
// the PIN is right and the sealed share opens and is the one enrolled. A wrong PIN is said as such
// ("the share was not checked") and may be typed again while the card allows.
import type { CardReport, CeremonyResult } from '../../shared/types';
import { TesseraError } from '../errors';
import { openShare, pinRefusal, refusal } from '../quorum/card-record';
import { setFingerprint } from '../quorum/card-set';
import { wipe } from '../secrets';
import type { CeremonyContext, RunOptions } from './context';
import type { CeremonyRun } from './run';
import { type IdentifiedCard, cardName, holderOf, identify } from './steps/cards';
import { withCardPin } from './steps/pin';
import { replacedWords } from './steps/rotate-cards';

export async function checkCard(run: CeremonyRun, ctx: CeremonyContext, options: RunOptions): Promise<Extract<CeremonyResult, { kind: 'check-card' }>> {
  const presented = await run.nextCard({ kind: 'insert-card', text: 'Insert the card to check.' });
  try {
    const { card, reader } = presented;
    const id = await identify(card);
    const serial = id.serial;
    const purpose = id.slots.so.record || !id.slots.backup.record ? 'so' : 'backup';
    const slot = id.slots[purpose];
    const token = ctx.partition.partition();
    const trust = ctx.trust(purpose);
    // A rotation's next generation beside the old one is the card's record once it is in force.
    const useNext = trust !== null && slot.next !== null && slot.next.descriptor.set === trust.trusted.set && slot.next.descriptor.generation === trust.trusted.generation;
    const record = useNext ? slot.next : slot.record;
    const frame = useNext ? ({ state: 'ok', body: Buffer.alloc(0) } as const) : slot.frame;
    const older = trust && record && serial && record.descriptor.set === trust.trusted.set && record.descriptor.generation < trust.trusted.generation ? replacedWords(ctx)(record, serial) : null;
    const problem = older ?? (trust ? refusal(record, frame, serial, trust.trusted, token.serial) : record ? `The chosen partition has no ${purpose === 'so' ? 'card set' : 'backup key set'} to compare with.` : refusal(record, frame, serial, { set: '', generation: 0, descriptorHash: '' }, token.serial));
    const d = record?.descriptor;
    // Stopped half way: an enrolment mark, or only shares of sets this terminal saw abandoned.
    const mark = id.enrolling;
    const abandoned = (['so', 'backup'] as const).map((p) => id.slots[p].record).find((r) => r !== null && ctx.store.abandoned(r.descriptor.set)) ?? null;
    const canReset = resettable(ctx, id);
    const interrupted = !canReset ? null : mark ? { holder: mark.holder, purpose: mark.purpose, partition: mark.partition } : abandoned ? { holder: abandoned.holder, purpose: abandoned.descriptor.purpose, partition: abandoned.descriptor.partition.serial } : null;
    const report: CardReport = {
      name: cardName(id),
      card: serial,
      reader,
      blank: serial === null,
      holder: holderOf(id),
      index: record?.index ?? null,
      set: d?.set ?? null,
      generation: d?.generation ?? null,
      m: d?.m ?? null,
      n: d?.n ?? null,
      partition: d?.partition ?? null,
      setFingerprint: d?.backup ? setFingerprint(d.backup) : null,
      current: trust !== null && problem === null,
      problem: interrupted && !record ? 'An enrolment stopped half way on this card: it holds no share. Finish the enrolment, or make the card blank again.' : interrupted ? 'Its enrolment was cancelled or rolled back: the share on it is of no set in use. Enrol it again, or make it blank again.' : problem,
      pinCorrect: null,
      shareIntact: null,
      triesLeft: serial ? await card.pinTriesLeft() : null,
      interrupted,
    };
    if (serial) run.collect(holderOf(id) ?? 'no holder', record?.index ?? 0, serial);
    // Only a card of the partition's current set is asked for its PIN: a card refused before its PIN
    // (another set, copied, altered) is not worth a try, and its PIN is not sent to a card that is not ours.
    if (record && serial && report.current) {
      run.stepTo(1);
      const opened = await withCardPin(run, card, { holder: record.holder, reader, text: `${record.holder}: type your card PIN to check it and the sealed share.`, retry: options.retryWrongPin, wrongPin: notChecked }, (pin) => openShare(card, record, pin, purpose)).catch((error: unknown) => {
        // A wrong PIN given in advance (CLI) ends the check, not the report: it says what was not checked.
        if (error instanceof TesseraError && error.code === 'PIN_INCORRECT') return null;
        throw error;
      });
      if (opened === null) {
        report.pinCorrect = false;
        report.triesLeft = await card.pinTriesLeft();
        const blocked = report.triesLeft === 0;
        const why = blocked ? 'The card is blocked after too many wrong PINs: its share cannot be opened any more. The set\'s other cards still work; keep this card apart until it can be replaced.' : notChecked(pinRefusal({ triesLeft: report.triesLeft, blocked }));
        report.problem = report.problem ? `${report.problem} ${why}` : why;
      } else {
        report.pinCorrect = true;
        report.shareIntact = 'share' in opened;
        if ('share' in opened) wipe(opened.share);
        if ('refused' in opened) report.problem = opened.refused;
        report.triesLeft = await card.pinTriesLeft();
      }
    }
    run.stepTo(2);
    await ctx.audit.append({
      actor: ctx.actor,
      action: 'card.check',
      target: serial ? `card ${serial}` : 'blank card',
      outcome: 'ok',
      details: { holder: report.holder, set: report.set, generation: report.generation, current: report.current, pinCorrect: report.pinCorrect, shareIntact: report.shareIntact, interrupted: report.interrupted !== null },
    });
    return { kind: 'check-card', report };
  } finally {
    await presented.session.close();
  }
}

/** "PIN wrong, 2 tries left: the share was not checked." */
function notChecked(refusal: string): string {
  return `${refusal.replace(/\.$/, '')}: the share was not checked.`;
}

/**
 * A card that may be made blank again: every share on it is of a set this terminal saw abandoned,
 * and none is of a set the chosen partition trusts (its anchors win over the terminal's records).
 */
export function resettable(ctx: CeremonyContext, id: IdentifiedCard): boolean {
  return (['so', 'backup'] as const).every((p) => {
    const r = id.slots[p].record;
    if (r === null) return true;
    let trusted: string | null;
    try {
      trusted = ctx.trust(p)?.trusted.set ?? null;
    } catch {
      return false; // the partition's records disagree: nothing is wiped until that is explained
    }
    return ctx.store.abandoned(r.descriptor.set) && r.descriptor.set !== trusted;
  });
}
