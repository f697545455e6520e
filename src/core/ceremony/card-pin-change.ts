// Changing a card PIN: the share is opened with the current PIN and sealed again under the new
// one. Crash-safe on the card: the new record goes to the pending slot first and is checked, then
// the card's own PIN changes, then the main record is rewritten and the pending copy cleared. At
// every point the share opens with the PIN the card accepts (openShare falls back to the pending copy).
import type { CeremonyResult } from '../../shared/types';
import { TesseraError } from '../errors';
import { wipe } from '../secrets';
import { binding, openShare, parseRecord, pinRefusal, refusal, sealRecord } from '../quorum/card-record';
import type { QuorumContext } from '../quorum/quorum-context';
import { unseal } from '../quorum/seal';
import { Ceremony } from './ceremony';
import { CARD_PIN } from './adopt';
import { crashPoint } from './crash-points';

export class CardPinChangeCeremony extends Ceremony {
  private share: Buffer | null = null;

  constructor(private readonly ctx: QuorumContext) {
    const p = ctx.partition.partition();
    super(ctx.readers, 'change-pin', 'Change a card PIN', { label: p.label, serial: p.serial }, ['Insert the card', 'Current PIN', 'New PIN', 'Done']);
  }

  protected async run(): Promise<CeremonyResult> {
    const trust = this.ctx.trust();
    if (!trust) throw new TesseraError('CARD_ERROR', 'This partition has no card set yet.');
    const presented = await this.nextCard({ kind: 'insert-card', text: 'Insert the card whose PIN changes.' });
    const { card, reader } = presented;
    let current: Buffer | null = null;
    let next: Buffer | null = null;
    try {
      const serial = await card.serial();
      const frame = await card.readSlot('so');
      const record = parseRecord(frame);
      const refused = refusal(record, frame, serial, trust.trusted, this.ctx.partition.partition().serial);
      if (refused || !record || !serial) throw new TesseraError('CARD_ERROR', refused ?? 'This card cannot be used.');

      this.stepTo(1);
      current = (await this.pinFor({ kind: 'enter-pin', text: `${record.holder}: type your current card PIN.`, holder: record.holder, reader, triesLeft: await card.pinTriesLeft() })).pin;
      const opened = await openShare(card, record, current, 'so');
      if ('wrongPin' in opened) throw new TesseraError('PIN_INCORRECT', pinRefusal(opened));
      if ('refused' in opened) throw new TesseraError('CARD_ERROR', opened.refused);
      this.share = opened.share;

      this.stepTo(2);
      for (;;) {
        const chosen = await this.pinFor({ kind: 'choose-pin', text: `${record.holder}: choose the new card PIN (${CARD_PIN.min} to ${CARD_PIN.max} characters) and type it twice.`, holder: record.holder, reader }, true);
        const same = chosen.repeat !== undefined && chosen.pin.equals(chosen.repeat);
        wipe(chosen.repeat);
        if (same && chosen.pin.length >= CARD_PIN.min && chosen.pin.length <= CARD_PIN.max) {
          next = chosen.pin;
          break;
        }
        wipe(chosen.pin);
        this.notice('warning', same ? `A card PIN has ${CARD_PIN.min} to ${CARD_PIN.max} characters.` : 'The two PINs differ. Type the same PIN twice.');
      }

      this.prompt({ kind: 'working', text: 'Sealing the share under the new PIN…', holder: record.holder, reader });
      const resealed = await sealRecord(record.descriptor, record.index, serial, this.share, next);
      await card.writeSlot('soPending', resealed);
      const pending = parseRecord(await card.readSlot('soPending'));
      const check = pending ? await unseal(pending.sealed, next, binding(pending.descriptor, pending.index, pending.card)) : null;
      if (!check || !check.equals(this.share)) throw new TesseraError('CARD_ERROR', 'The card did not keep the new record. The PIN was not changed.');
      wipe(check);
      crashPoint('change-pin:pending-written');
      const changed = await card.changePin(current, next);
      if (!changed.ok) throw new TesseraError('PIN_INCORRECT', `The card refused to change its PIN: ${pinRefusal(changed)}`);
      crashPoint('change-pin:card-pin-changed');
      await card.writeSlot('so', resealed);
      const final = parseRecord(await card.readSlot('so'));
      const result = final ? await openShare(card, final, next, 'so') : null;
      if (!result || !('share' in result)) throw new TesseraError('CARD_ERROR', 'The card did not keep its record. Check the card before using it.');
      wipe(result.share);
      await card.clearSlot('soPending');
      await this.ctx.audit.append({ actor: this.ctx.actor, action: 'card.change-pin', target: `card ${serial}`, outcome: 'ok', details: { holder: record.holder, set: record.descriptor.set, generation: record.descriptor.generation } });
      return { kind: 'change-pin', holder: record.holder, card: serial };
    } finally {
      wipe(current, next);
      await presented.session.close();
    }
  }

  protected wipeSecrets(): void {
    wipe(this.share);
    this.share = null;
  }
}
