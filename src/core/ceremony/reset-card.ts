// Making a card blank again after its enrolment stopped half way (pulled out, cancelled, a crash):
// its holder types the PIN they chose, the card's PIN goes back to the transport PIN, and the
// identity, the enrolment mark and the unfinished share are cleared. A card that holds a share of a
// set still in use is refused: it is somebody's working card.
import type { CeremonyResult } from '../../shared/types';
import { TesseraError } from '../errors';
import { wipe } from '../secrets';
import type { CeremonyContext, RunOptions } from './context';
import type { CeremonyRun } from './run';
import { resettable } from './check-card';
import { cardName, holderOf, identify } from './steps/cards';
import { confirm } from './steps/confirm';
import { type WrongPin, verifiedPin, withCardPin } from './steps/pin';
import { TRANSPORT_PIN } from './steps/pin-rules';

export async function resetCard(run: CeremonyRun, ctx: CeremonyContext, options: RunOptions): Promise<Extract<CeremonyResult, { kind: 'reset-card' }>> {
  const presented = await run.nextCard({ kind: 'insert-card', text: 'Insert the card whose enrolment stopped half way.' });
  const { card, reader } = presented;
  try {
    const id = await identify(card);
    const name = cardName(id);
    if (!id.serial) throw new TesseraError('CARD_ERROR', `${name}: it is blank already.`);
    if (!resettable(ctx, id)) throw new TesseraError('CARD_ERROR', `${name} holds a share of a set in use (or of a set this terminal does not know). It is not made blank; check it or change its PIN instead.`);
    const holder = holderOf(id);
    if (!holder) throw new TesseraError('CARD_ERROR', `${name}: no enrolment stopped half way on it, so there is nothing to undo.`);
    const record = id.slots.so.record ?? id.slots.backup.record;
    const mark = id.enrolling ?? { holder, step: 'pin-set' as const, set: record?.descriptor.set ?? '', purpose: record?.descriptor.purpose ?? 'so' };
    const serial = id.serial;
    await confirm(run, `Make ${mark.holder}'s card (serial ${serial.slice(0, 8)}…) blank again? Its unfinished enrolment is removed and its PIN goes back to the blank-card PIN.`, `Make ${mark.holder}'s card blank`, 'destroys');
    run.stepTo(1);
    const text = mark.step === 'pin-set' ? `${mark.holder}: type the PIN you chose for this card.` : `${mark.holder}: type the PIN you chose for this card (if its PIN was never changed, type the blank-card PIN).`;
    const pin = await withCardPin(run, card, { holder: mark.holder, reader, text, retry: options.retryWrongPin }, async (typed): Promise<Buffer | WrongPin> => verifiedPin(card, typed));
    if (!pin) throw new TesseraError('PIN_INCORRECT', `${mark.holder}'s card did not accept the PIN. Nothing was changed.`);
    try {
      run.stepTo(2);
      run.working('Making the card blank…');
      const transport = Buffer.from(TRANSPORT_PIN);
      const changed = pin.equals(transport) || (await card.changePin(pin, transport)).ok;
      wipe(transport);
      if (!changed) throw new TesseraError('CARD_ERROR', 'The card refused to change its PIN back. Nothing else was changed.');
    } finally {
      wipe(pin);
    }
    await card.clearAll();
    await ctx.audit.append({ actor: ctx.actor, action: 'card.reset', target: `card ${serial}`, outcome: 'ok', details: { holder: mark.holder, set: mark.set, purpose: mark.purpose } });
    return { kind: 'reset-card', holder: mark.holder, card: serial };
  } finally {
    await presented.session.close();
  }
}
