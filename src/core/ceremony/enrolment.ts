// What enrolling a card set takes, whatever the set is for (the SO credential, the backup escrow
// key): each holder's card in turn, its PIN, the sealed share written to the set's slot, then read
// back and opened as a login would, before the card counts. A card already written for another
// holder, or holding another live set in that slot, is refused with the reason.
import type { EnrolmentRecord } from '../../shared/types';
import type { SlotFile } from '../cards/officer-card';
import type { OfficerCard } from '../cards/officer-card';
import { TesseraError } from '../errors';
import type { CardSetDescriptor } from '../quorum/card-set';
import { type CardRecord, openShare, parseRecord, sealRecord } from '../quorum/card-record';
import type { QuorumContext } from '../quorum/quorum-context';
import { wipe } from '../secrets';
import { CARD_PIN } from './card-pin';
import { Ceremony, CeremonyCancelled, describeCardProblem } from './ceremony';

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
  };
}

export abstract class EnrolmentCeremony extends Ceremony {
  protected shares: Buffer[] = [];
  protected abstract readonly ctx: QuorumContext;
  protected abstract readonly slot: Extract<SlotFile, 'so' | 'backup'>;

  /** What to tell holder `index` of `n` when their card is wanted. */
  protected abstract insertText(index: number, n: number, holder: string): string;

  /** Why a card holding `existing` (another set, in this slot) cannot be used. */
  protected abstract otherSetText(existing: CardRecord): string;

  /** The holder's PIN, set on or verified by the card; null to take another card (the reason is noticed). */
  protected abstract cardPin(card: OfficerCard, serial: string | null, holder: string, reader: string): Promise<Buffer | null>;

  /** One holder's card: written, read back and opened before it counts. */
  protected async writeCard(descriptor: CardSetDescriptor, index: number, holder: string, written: Map<number, string>): Promise<void> {
    for (;;) {
      const presented = await this.nextCard({ kind: 'insert-card', text: this.insertText(index, descriptor.n, holder), holder });
      let pin: Buffer | null = null;
      try {
        const card = presented.card;
        const existingSerial = await card.serial();
        if (existingSerial && [...written.values()].includes(existingSerial)) {
          this.notice('warning', `This card was just written for another holder. ${holder}, insert your own card.`);
          continue;
        }
        const existing = parseRecord(await card.readSlot(this.slot));
        if (existing && existing.descriptor.set !== descriptor.set && !this.ctx.store.abandoned(existing.descriptor.set)) {
          this.notice('warning', this.otherSetText(existing));
          continue;
        }
        pin = await this.cardPin(card, existingSerial, holder, presented.reader);
        if (!pin) continue;
        const serial = await card.ensureSerial();
        this.prompt({ kind: 'working', text: `Writing ${holder}'s card…`, holder, reader: presented.reader });
        await card.writeSlot(this.slot, await sealRecord(descriptor, index, serial, this.shares[index - 1] as Buffer, pin));
        // Read back from the card and open it as a login (or a restore) would, before counting the card.
        const check = parseRecord(await card.readSlot(this.slot));
        const opened = check && check.card === serial && check.index === index ? await openShare(card, check, pin, this.slot) : null;
        if (!opened || !('share' in opened)) throw new TesseraError('CARD_ERROR', 'The card did not give back what was written. Use another card.');
        wipe(opened.share);
        written.set(index, serial);
        this.collect(holder, index, serial);
        this.notice('info', `${holder}'s card is written and checked (${written.size} of ${descriptor.n}). ${holder}, take your card out.`);
        return;
      } catch (error) {
        if (error instanceof CeremonyCancelled) throw error;
        this.notice('warning', `${holder}'s card: ${describeCardProblem(error, 'taken out before it was written and checked. Insert it again.')}`);
      } finally {
        wipe(pin);
        await presented.session.close();
      }
    }
  }

  /** A new card PIN, typed twice, within the allowed length. */
  protected async choosePin(holder: string, reader: string): Promise<Buffer> {
    for (;;) {
      const { pin, repeat } = await this.pinFor({ kind: 'choose-pin', text: `${holder}: choose a PIN for your card (${CARD_PIN.min} to ${CARD_PIN.max} characters) and type it twice.`, holder, reader }, true);
      const same = repeat !== undefined && pin.equals(repeat);
      wipe(repeat);
      if (!same) this.notice('warning', 'The two PINs differ. Type the same PIN twice.');
      else if (pin.length < CARD_PIN.min || pin.length > CARD_PIN.max) this.notice('warning', `A card PIN has ${CARD_PIN.min} to ${CARD_PIN.max} characters.`);
      else return pin;
      wipe(pin);
    }
  }

  protected wipeShares(): void {
    for (const share of this.shares) wipe(share);
    this.shares = [];
  }
}
