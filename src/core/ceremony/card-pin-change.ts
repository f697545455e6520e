// Changing a card PIN: every share on the card (SO set, backup set) is opened with the current PIN
// and sealed again under the new one. Crash-safe on the card: the new record goes to the pending slot first and is checked, then
// the card's own PIN changes, then the main record is rewritten and the pending copy cleared. At
// every point the share opens with the PIN the card accepts (openShare falls back to the pending copy).
import type { CeremonyResult } from '../../shared/types';
import { TesseraError } from '../errors';
import { wipe } from '../secrets';
import { binding, openShare, parseRecord, pinRefusal, refusal, sealRecord } from '../quorum/card-record';
import type { QuorumContext } from '../quorum/quorum-context';
import { unseal } from '../quorum/seal';
import type { SlotFile } from '../cards/officer-card';
import type { CardRecord } from '../quorum/card-record';
import { Ceremony } from './ceremony';

interface Slot {
  slot: 'so' | 'backup';
  pending: SlotFile;
  record: CardRecord;
}
import { CARD_PIN } from './card-pin';
import { crashPoint } from './crash-points';

export class CardPinChangeCeremony extends Ceremony {
  private shares: Buffer[] = [];

  constructor(private readonly ctx: QuorumContext) {
    const p = ctx.partition.partition();
    super(ctx.readers, 'change-pin', 'Change a card PIN', { label: p.label, serial: p.serial }, ['Insert the card', 'Current PIN', 'New PIN', 'Done']);
  }

  protected async run(): Promise<CeremonyResult> {
    const trust = this.ctx.trust();
    const presented = await this.nextCard({ kind: 'insert-card', text: 'Insert the card whose PIN changes.' });
    const { card, reader } = presented;
    let current: Buffer | null = null;
    let next: Buffer | null = null;
    try {
      const serial = await card.serial();
      // Every share the card holds (SO set, backup set) is sealed under its PIN: all move together.
      const slots: Slot[] = [];
      const soFrame = await card.readSlot('so');
      const soRecord = parseRecord(soFrame);
      if (soRecord) {
        const refused = trust ? refusal(soRecord, soFrame, serial, trust.trusted, this.ctx.partition.partition().serial) : 'This partition has no card set yet.';
        if (refused) throw new TesseraError('CARD_ERROR', refused);
        slots.push({ slot: 'so', pending: 'soPending', record: soRecord });
      }
      const backupRecord = parseRecord(await card.readSlot('backup'));
      if (backupRecord && backupRecord.card === serial) slots.push({ slot: 'backup', pending: 'backupPending', record: backupRecord });
      const first = slots[0];
      if (!first || !serial) throw new TesseraError('CARD_ERROR', 'This card holds no share of a card set: it has no PIN of Tessera\'s to change.');
      const holder = first.record.holder;

      this.stepTo(1);
      current = (await this.pinFor({ kind: 'enter-pin', text: `${holder}: type your current card PIN.`, holder, reader, triesLeft: await card.pinTriesLeft() })).pin;
      for (const s of slots) {
        const opened = await openShare(card, s.record, current, s.slot);
        if ('wrongPin' in opened) throw new TesseraError('PIN_INCORRECT', pinRefusal(opened));
        if ('refused' in opened) throw new TesseraError('CARD_ERROR', opened.refused);
        this.shares.push(opened.share);
      }

      this.stepTo(2);
      for (;;) {
        const chosen = await this.pinFor({ kind: 'choose-pin', text: `${holder}: choose the new card PIN (${CARD_PIN.min} to ${CARD_PIN.max} characters) and type it twice.`, holder, reader }, true);
        const same = chosen.repeat !== undefined && chosen.pin.equals(chosen.repeat);
        wipe(chosen.repeat);
        if (same && chosen.pin.length >= CARD_PIN.min && chosen.pin.length <= CARD_PIN.max) {
          next = chosen.pin;
          break;
        }
        wipe(chosen.pin);
        this.notice('warning', same ? `A card PIN has ${CARD_PIN.min} to ${CARD_PIN.max} characters.` : 'The two PINs differ. Type the same PIN twice.');
      }

      this.prompt({ kind: 'working', text: 'Sealing the shares under the new PIN…', holder, reader });
      const resealed: Buffer[] = [];
      for (const [i, s] of slots.entries()) {
        const share = this.shares[i] as Buffer;
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
      await this.ctx.audit.append({ actor: this.ctx.actor, action: 'card.change-pin', target: `card ${serial}`, outcome: 'ok', details: { holder, sets: slots.map((s) => `${s.slot} ${s.record.descriptor.set} generation ${s.record.descriptor.generation}`).join('; ') } });
      return { kind: 'change-pin', holder, card: serial };
    } finally {
      wipe(current, next);
      await presented.session.close();
    }
  }

  protected wipeSecrets(): void {
    wipe(...this.shares);
    this.shares = [];
  }
}
