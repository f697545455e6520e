// Adopting a partition: the current SO PIN is typed once; the terminal makes a random SO
// credential (its randomness mixed with the HSM's), splits it m-of-n, and writes one sealed share
// to each holder's card as the holder inserts it and chooses a card PIN. Every card is read back
// and checked. Only when all n are written does the terminal, after a confirmation naming the
// partition, change the SO PIN. Each step is in the intent log first, so a crash at any point is
// finished or rolled back on the next start (see quorum-service.ts).
import type { CeremonyResult } from '../../shared/types';
import type { OfficerCard } from '../cards/officer-card';
import { TesseraError } from '../errors';
import { wipe } from '../secrets';
import { descriptorHash, newCredential, newDescriptor, splitSecret } from '../quorum/card-set';
import type { CardRecord } from '../quorum/card-record';
import type { AdoptIntent, QuorumContext } from '../quorum/quorum-context';
import type { Intent } from '../store/intents';
import { TRANSPORT_PIN } from './card-pin';
import { EnrolmentCeremony, enrolmentRecord } from './enrolment';
import { crashPoint } from './crash-points';
import { refuseWhenSoPinAtRisk } from './so-login';

export interface AdoptParams {
  holders: string[];
  threshold: number;
}


export function checkAdoptParams(params: AdoptParams): void {
  const n = params.holders.length;
  if (n < 1 || n > 16) throw new TesseraError('INVALID_REQUEST', 'A card set has 1 to 16 holders.');
  if (!Number.isInteger(params.threshold) || params.threshold < 1 || params.threshold > n) throw new TesseraError('INVALID_REQUEST', `The threshold must be between 1 and ${n}.`);
  const names = params.holders.map((h) => h.trim());
  if (names.some((h) => h === '' || h.length > 64)) throw new TesseraError('INVALID_REQUEST', 'Every holder needs a name of at most 64 characters.');
  if (new Set(names.map((h) => h.toLowerCase())).size !== n) throw new TesseraError('INVALID_REQUEST', 'Each holder may appear only once.');
}

export class AdoptCeremony extends EnrolmentCeremony {
  protected readonly slot = 'so';
  private soPin: Buffer | null = null;
  private credential: Buffer | null = null;
  private intent: Intent<AdoptIntent> | null = null;
  private completed = false;

  constructor(
    protected readonly ctx: QuorumContext,
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

    const record = enrolmentRecord(descriptor, written);
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

  protected insertText(index: number, n: number, holder: string): string {
    return `Card ${index} of ${n}: ${holder}, insert your blank card.`;
  }

  protected otherSetText(existing: CardRecord): string {
    return `This card holds a share of another card set (${existing.holder}, partition "${existing.descriptor.partition.label}"). Use a blank card.`;
  }

  /** A new PIN chosen by the holder and given to the card (from the blank card's, or its current one). */
  protected async cardPin(card: OfficerCard, serial: string | null, holder: string, reader: string): Promise<Buffer | null> {
    const pin = await this.choosePin(holder, reader);
    if (await this.setCardPin(card, serial !== null, pin, holder, reader)) return pin;
    wipe(pin);
    return null;
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


  protected wipeSecrets(): void {
    this.wipeShares();
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
