// Adopting a partition: the current SO PIN is typed once; the terminal makes a random SO
// credential (its randomness mixed with the HSM's), splits it m-of-n, and writes one sealed share
// to each holder's card as the holder inserts it and chooses a card PIN. Every card is read back
// and checked. Only when all n are written does the terminal, after a confirmation naming the
// partition, change the SO PIN. Each step is in the intent log first, so a crash at any point is
// finished or rolled back on the next start (see quorum-service.ts).
import type { CeremonyResult, EnrolmentRecord } from '../../shared/types';
import type { OfficerCard } from '../cards/officer-card';
import { TesseraError } from '../errors';
import { wipe } from '../secrets';
import { type CardSetDescriptor, descriptorHash, newCredential, newDescriptor, splitSecret } from '../quorum/card-set';
import { openShare, parseRecord, sealRecord } from '../quorum/card-record';
import type { AdoptIntent, QuorumContext } from '../quorum/quorum-context';
import type { Intent } from '../store/intents';
import { Ceremony, CeremonyCancelled, describeCardProblem } from './ceremony';
import { crashPoint } from './crash-points';
import { refuseWhenSoPinAtRisk } from './so-login';

export interface AdoptParams {
  holders: string[];
  threshold: number;
}

/** The PIN every blank card leaves the issuer with (ISO 7816 transport PIN of the lab's cards). */
export const TRANSPORT_PIN = Buffer.from('1234');
export const CARD_PIN = { min: 6, max: 32 };

export function checkAdoptParams(params: AdoptParams): void {
  const n = params.holders.length;
  if (n < 1 || n > 16) throw new TesseraError('INVALID_REQUEST', 'A card set has 1 to 16 holders.');
  if (!Number.isInteger(params.threshold) || params.threshold < 1 || params.threshold > n) throw new TesseraError('INVALID_REQUEST', `The threshold must be between 1 and ${n}.`);
  const names = params.holders.map((h) => h.trim());
  if (names.some((h) => h === '' || h.length > 64)) throw new TesseraError('INVALID_REQUEST', 'Every holder needs a name of at most 64 characters.');
  if (new Set(names.map((h) => h.toLowerCase())).size !== n) throw new TesseraError('INVALID_REQUEST', 'Each holder may appear only once.');
}

export class AdoptCeremony extends Ceremony {
  private soPin: Buffer | null = null;
  private credential: Buffer | null = null;
  private shares: Buffer[] = [];
  private intent: Intent<AdoptIntent> | null = null;
  private completed = false;

  constructor(
    private readonly ctx: QuorumContext,
    private readonly params: AdoptParams,
  ) {
    const p = ctx.partition.partition();
    super(ctx.readers, 'adopt', 'Adopt the partition and enrol a card set', { label: p.label, serial: p.serial }, ['Current SO PIN', 'Officers\' cards', 'Change the SO PIN', 'Done']);
  }

  protected async run(): Promise<CeremonyResult> {
    const { partition, audit, intents } = this.ctx;
    const holders = this.params.holders.map((h) => h.trim());
    const n = holders.length;
    const m = this.params.threshold;
    const token = partition.partition();
    const target = `${token.label} (serial ${token.serial})`;
    if (this.ctx.trust()) throw new TesseraError('INVALID_REQUEST', 'This partition has a card set already. It cannot be adopted twice.');
    if (partition.soLoggedIn) throw new TesseraError('INVALID_REQUEST', 'A security officer is logged in. End that session first.');

    await this.loginWithCurrentSoPin(target);

    const random = partition.random(32);
    this.credential = newCredential(random, token.maxPinLength);
    wipe(random);
    this.shares = await splitSecret(this.credential, m, n);
    const descriptor = newDescriptor('so', token, holders, m, this.shares, this.credential);
    const set = descriptor.set;
    this.intent = intents.begin<AdoptIntent>('adopt', 'cards-writing', { descriptor, cards: {} });
    await audit.append({ actor: this.ctx.actor, action: 'cardset.enrol.start', target, outcome: 'ok', details: { set, m, n, holders: holders.join(', ') } });
    crashPoint('adopt:started');

    this.stepTo(1);
    this.needs(n);
    const written = new Map<number, string>();
    for (let index = 1; index <= n; index++) {
      const holder = holders[index - 1] as string;
      await this.writeCard(descriptor, index, holder, written);
      this.intent = intents.step(this.intent, 'cards-writing', { descriptor, cards: Object.fromEntries([...written].map(([i, c]) => [String(i), c])) });
      crashPoint(`adopt:card-${index}`);
    }

    this.stepTo(2);
    this.prompt({
      kind: 'confirm',
      text: `All ${n} cards are written and checked. Change the SO PIN of partition “${token.label}” (serial ${token.serial}) now? The current SO PIN stops working; from then on any ${m} of these ${n} cards log in as SO.`,
      confirmLabel: `Change the SO PIN of “${token.label}”`,
    });
    await this.waitFor(['confirm']);
    if (partition.partition().serial !== token.serial) throw new TesseraError('TOKEN_NOT_FOUND', 'The partition in the slot is no longer the one the cards were written for. Nothing was changed.');

    this.prompt({ kind: 'working', text: 'Changing the SO PIN…' });
    this.intent = intents.step(this.intent, 'so-pin-changing');
    crashPoint('adopt:before-set-pin');
    partition.changeSoPin(this.soPin as Buffer, this.credential);
    this.intent = intents.step(this.intent, 'so-pin-changed');
    crashPoint('adopt:after-set-pin');
    partition.writeAnchor('so', { set, generation: 1, descriptor: descriptorHash(descriptor) });
    this.intent = intents.step(this.intent, 'anchored');
    crashPoint('adopt:after-anchor');
    this.ctx.store.save(descriptor, 'active', written);
    intents.finish(this.intent, 'done');
    this.completed = true;
    partition.logoutSo();

    const record: EnrolmentRecord = {
      partition: { label: token.label, serial: token.serial },
      set,
      generation: 1,
      m,
      n,
      cards: [...written].sort(([a], [b]) => a - b).map(([index, card]) => ({ index, holder: holders[index - 1] as string, card })),
      date: descriptor.created,
    };
    await audit.append({ actor: this.ctx.actor, action: 'cardset.enrol', target, outcome: 'ok', details: { set, m, n, holders: holders.join(', '), cards: record.cards.map((c) => `${c.holder}=${c.card}`).join(', ') } });
    return { kind: 'adopt', record };
  }

  /** The SO PIN typed once, proved by logging in with it (the partition counts a wrong one). */
  private async loginWithCurrentSoPin(target: string): Promise<void> {
    for (;;) {
      refuseWhenSoPinAtRisk(this.ctx.partition.partition().soPin.condition);
      const { pin } = await this.pinFor({ kind: 'enter-so-pin', text: 'Type the partition\'s current SO PIN. It is used once, to hand the partition over to the card set.' });
      try {
        this.ctx.partition.loginSo(Buffer.from(pin));
        this.soPin = pin;
        await this.ctx.audit.append({ actor: this.ctx.actor, action: 'so.login', target, outcome: 'ok', details: { with: 'current SO PIN, for adoption' } });
        return;
      } catch (error) {
        wipe(pin);
        await this.ctx.audit.append({ actor: this.ctx.actor, action: 'so.login', target, outcome: 'failed', details: { with: 'current SO PIN, for adoption', error: error instanceof TesseraError ? error.code : 'INTERNAL' } });
        if (!(error instanceof TesseraError) || error.code !== 'PIN_INCORRECT') throw error;
        this.notice('warning', `That is not the partition's SO PIN. ${this.ctx.partition.partition().soPin.words}`);
      }
    }
  }

  /** One holder's card: blank (or this set's own, interrupted), a chosen PIN, written, read back. */
  private async writeCard(descriptor: CardSetDescriptor, index: number, holder: string, written: Map<number, string>): Promise<void> {
    const n = descriptor.n;
    for (;;) {
      const presented = await this.nextCard({ kind: 'insert-card', text: `Card ${index} of ${n}: ${holder}, insert your blank card.`, holder });
      let pin: Buffer | null = null;
      try {
        const card = presented.card;
        const existingSerial = await card.serial();
        if (existingSerial && [...written.values()].includes(existingSerial)) {
          this.notice('warning', `This card was just written for another holder. ${holder}, insert your own card.`);
          continue;
        }
        const existing = parseRecord(await card.readSlot('so'));
        if (existing && existing.descriptor.set !== descriptor.set && !this.isAbandoned(existing.descriptor.set)) {
          this.notice('warning', `This card holds a share of another card set (${existing.holder}, partition "${existing.descriptor.partition.label}"). Use a blank card.`);
          continue;
        }
        pin = await this.choosePin(holder, presented.reader);
        if (!(await this.setCardPin(card, existingSerial !== null, pin, holder, presented.reader))) continue;
        const serial = await card.ensureSerial();
        this.prompt({ kind: 'working', text: `Writing ${holder}'s card…`, holder, reader: presented.reader });
        await card.writeSlot('so', await sealRecord(descriptor, index, serial, this.shares[index - 1] as Buffer, pin));
        // Read back from the card and open it as a login would, before counting the card.
        const check = parseRecord(await card.readSlot('so'));
        const opened = check && check.card === serial && check.index === index ? await openShare(card, check, pin, 'so') : null;
        if (!opened || !('share' in opened)) throw new TesseraError('CARD_ERROR', 'The card did not give back what was written. Use another card.');
        wipe(opened.share);
        written.set(index, serial);
        this.collect(holder, index, serial);
        this.notice('info', `${holder}'s card is written and checked (${written.size} of ${n}). ${holder}, take your card out.`);
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

  private async choosePin(holder: string, reader: string): Promise<Buffer> {
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

  /** Gives the card the holder's PIN: from the transport PIN of a blank card, or from its current PIN. */
  private async setCardPin(card: OfficerCard, usedBefore: boolean, pin: Buffer, holder: string, reader: string): Promise<boolean> {
    let current: Buffer = Buffer.from(TRANSPORT_PIN);
    if (usedBefore) {
      current = (await this.pinFor({ kind: 'enter-pin', text: `${holder}: this card has a PIN already. Type its current PIN.`, holder, reader, triesLeft: await card.pinTriesLeft() })).pin;
    }
    try {
      const result = await card.changePin(current, pin);
      if (result.ok) return true;
      this.notice('warning', usedBefore ? `${holder}: that is not the card's PIN${result.triesLeft === null ? '' : ` (${result.triesLeft} tries left)`}.` : 'This card\'s PIN is not the blank-card PIN. Use a blank card.');
      return false;
    } finally {
      wipe(current);
    }
  }

  /** A set of this partition whose adoption was cancelled or rolled back: its cards may be reused. */
  private isAbandoned(set: string): boolean {
    return this.ctx.store.abandoned(set);
  }

  protected wipeSecrets(): void {
    for (const share of this.shares) wipe(share);
    this.shares = [];
    wipe(this.soPin, this.credential);
    this.soPin = null;
    this.credential = null;
    if (!this.completed) {
      if (this.intent && this.intent.step === 'cards-writing') {
        this.ctx.intents.finish(this.intent, 'cancelled');
        this.ctx.store.abandon(this.intent.data.descriptor);
      }
      if (this.ctx.partition.soLoggedIn) this.ctx.partition.logoutSo();
    }
  }
}
