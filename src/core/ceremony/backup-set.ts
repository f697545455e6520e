// Creating the partition's backup key set: a backup-signing key generated in the partition, and an
// escrow key whose private half is split m-of-n onto officers' cards (the cards' second set slot;
// cards of the SO set keep their PIN, blank cards get one). Making a backup then needs only the
// escrow key's public half; reading or restoring one needs m of these cards. The set becomes the
// partition's only once every card is written and read back; each step is in the intent log.
import { randomBytes } from 'node:crypto';
import type { CeremonyResult, EnrolmentRecord } from '../../shared/types';
import type { OfficerCard } from '../cards/officer-card';
import { TesseraError } from '../errors';
import { wipe } from '../secrets';
import { escrowPublic, fingerprint, newEscrowKey } from '../backup/escrow';
import { createSigningKey, signingKeyHandles } from '../backup/signing-key';
import { type CardSetDescriptor, descriptorHash, newDescriptor, splitSecret } from '../quorum/card-set';
import { openShare, parseRecord, pinRefusal, sealRecord } from '../quorum/card-record';
import type { AdoptIntent, QuorumContext } from '../quorum/quorum-context';
import type { Intent } from '../store/intents';
import { type AdoptParams, CARD_PIN, TRANSPORT_PIN } from './adopt';
import { Ceremony, CeremonyCancelled, describeCardProblem } from './ceremony';
import { crashPoint } from './crash-points';

export const BACKUP_SET_INTENT = 'backup-set';

export class BackupSetCeremony extends Ceremony {
  private escrow: Buffer | null = null;
  private shares: Buffer[] = [];
  private intent: Intent<AdoptIntent> | null = null;
  private completed = false;

  constructor(
    private readonly ctx: QuorumContext,
    private readonly params: AdoptParams,
    private readonly options: { retryWrongPin: boolean },
  ) {
    const p = ctx.partition.partition();
    super(ctx.readers, 'backup-set', 'Create the backup key set', { label: p.label, serial: p.serial }, ['Backup-signing key', 'Officers\' cards', 'Done']);
  }

  protected async run(): Promise<CeremonyResult> {
    const { partition, audit, intents, store } = this.ctx;
    const holders = this.params.holders.map((h) => h.trim());
    const n = holders.length;
    const m = this.params.threshold;
    const token = partition.partition();
    const target = `${token.label} (serial ${token.serial})`;
    const session = partition.coSession();
    if (store.active(token.serial, 'backup') || partition.anchors('backup').length > 0) {
      throw new TesseraError('INVALID_REQUEST', 'This partition has a backup key set already. Its backups are read with those cards.');
    }

    this.prompt({ kind: 'working', text: 'Generating the backup-signing key in the partition…' });
    // Keys left by a creation that never completed are not anybody's: they go first.
    for (const orphan of signingKeyHandles(session)) session.destroyObject(orphan.handle);
    const signingKeyId = randomBytes(16).toString('hex');
    const signingKey = createSigningKey(session, signingKeyId);
    const random = partition.random(32);
    this.escrow = newEscrowKey(random);
    wipe(random);
    this.shares = await splitSecret(this.escrow, m, n);
    const descriptor = newDescriptor('backup', token, holders, m, this.shares, this.escrow, {
      escrowPublic: escrowPublic(this.escrow).toString('base64'),
      signingKey: signingKey.toString('base64'),
      signingKeyId,
    });
    const set = descriptor.set;
    this.intent = intents.begin<AdoptIntent>(BACKUP_SET_INTENT, 'cards-writing', { descriptor, cards: {} });
    await audit.append({ actor: this.ctx.actor, action: 'backupset.create.start', target, outcome: 'ok', details: { set, m, n, holders: holders.join(', '), signer: fingerprint(signingKey) } });
    crashPoint('backup-set:started');

    this.stepTo(1);
    this.needs(n);
    const written = new Map<number, string>();
    for (let index = 1; index <= n; index++) {
      await this.writeCard(descriptor, index, holders[index - 1] as string, written);
      this.intent = intents.step(this.intent, 'cards-writing', { descriptor, cards: Object.fromEntries([...written].map(([i, c]) => [String(i), c])) });
      crashPoint(`backup-set:card-${index}`);
    }

    this.prompt({ kind: 'working', text: 'Recording the backup key set…' });
    partition.writeAnchor('backup', { set, generation: 1, descriptor: descriptorHash(descriptor), full: descriptor });
    this.intent = intents.step(this.intent, 'anchored');
    crashPoint('backup-set:after-anchor');
    store.save(descriptor, 'active', written);
    intents.finish(this.intent, 'done');
    this.completed = true;

    const record: EnrolmentRecord = {
      partition: { label: token.label, serial: token.serial },
      set,
      generation: 1,
      m,
      n,
      cards: [...written].sort(([a], [b]) => a - b).map(([index, card]) => ({ index, holder: holders[index - 1] as string, card })),
      date: descriptor.created,
    };
    await audit.append({ actor: this.ctx.actor, action: 'backupset.create', target, outcome: 'ok', details: { set, m, n, cards: record.cards.map((c) => `${c.holder}=${c.card}`).join(', '), signer: fingerprint(signingKey), escrow: fingerprint(Buffer.from(descriptor.backup?.escrowPublic ?? '', 'base64')) } });
    return { kind: 'backup-set', record };
  }

  /** One holder's card: an officer card keeps its PIN (typed once), a blank one gets a chosen PIN. */
  private async writeCard(descriptor: CardSetDescriptor, index: number, holder: string, written: Map<number, string>): Promise<void> {
    for (;;) {
      const presented = await this.nextCard({ kind: 'insert-card', text: `Card ${index} of ${descriptor.n}: ${holder}, insert your card.`, holder });
      let pin: Buffer | null = null;
      try {
        const card = presented.card;
        const serial = await card.serial();
        if (serial && [...written.values()].includes(serial)) {
          this.notice('warning', `This card was just written for another holder. ${holder}, insert your own card.`);
          continue;
        }
        const existing = parseRecord(await card.readSlot('backup'));
        if (existing && existing.descriptor.set !== descriptor.set && !this.ctx.store.abandoned(existing.descriptor.set)) {
          this.notice('warning', `This card holds a share of another backup key set (${existing.holder}, partition "${existing.descriptor.partition.label}"). Use another card.`);
          continue;
        }
        pin = serial ? await this.currentPin(card, holder, presented.reader) : await this.newPin(card, holder, presented.reader);
        if (!pin) continue;
        const cardSerial = await card.ensureSerial();
        this.prompt({ kind: 'working', text: `Writing ${holder}'s card…`, holder, reader: presented.reader });
        await card.writeSlot('backup', await sealRecord(descriptor, index, cardSerial, this.shares[index - 1] as Buffer, pin));
        const check = parseRecord(await card.readSlot('backup'));
        const opened = check && check.card === cardSerial && check.index === index ? await openShare(card, check, pin, 'backup') : null;
        if (!opened || !('share' in opened)) throw new TesseraError('CARD_ERROR', 'The card did not give back what was written. Use another card.');
        wipe(opened.share);
        written.set(index, cardSerial);
        this.collect(holder, index, cardSerial);
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

  /** The PIN of a card that has one (an officer card): verified on the card. */
  private async currentPin(card: OfficerCard, holder: string, reader: string): Promise<Buffer | null> {
    let triesLeft = await card.pinTriesLeft();
    for (;;) {
      const { pin } = await this.pinFor({ kind: 'enter-pin', text: `${holder}: type your card PIN. The backup share is sealed under it too.`, holder, reader, triesLeft });
      const check = await card.verifyPin(pin);
      if (check.ok) return pin;
      wipe(pin);
      this.notice('warning', `${holder}'s card: ${pinRefusal(check)}`);
      if (check.blocked || !this.options.retryWrongPin) return null;
      triesLeft = check.triesLeft;
    }
  }

  /** A blank card: the holder chooses its PIN (typed twice), replacing the transport PIN. */
  private async newPin(card: OfficerCard, holder: string, reader: string): Promise<Buffer | null> {
    for (;;) {
      const { pin, repeat } = await this.pinFor({ kind: 'choose-pin', text: `${holder}: choose a PIN for your card (${CARD_PIN.min} to ${CARD_PIN.max} characters) and type it twice.`, holder, reader }, true);
      const same = repeat !== undefined && pin.equals(repeat);
      wipe(repeat);
      if (same && pin.length >= CARD_PIN.min && pin.length <= CARD_PIN.max) {
        const transport = Buffer.from(TRANSPORT_PIN);
        const changed = await card.changePin(transport, pin);
        wipe(transport);
        if (changed.ok) return pin;
        wipe(pin);
        this.notice('warning', 'This card\'s PIN is not the blank-card PIN, and it holds no Tessera record. Use a blank card.');
        return null;
      }
      wipe(pin);
      this.notice('warning', same ? `A card PIN has ${CARD_PIN.min} to ${CARD_PIN.max} characters.` : 'The two PINs differ. Type the same PIN twice.');
    }
  }

  protected wipeSecrets(): void {
    for (const share of this.shares) wipe(share);
    this.shares = [];
    wipe(this.escrow);
    this.escrow = null;
    if (!this.completed && this.intent?.step === 'cards-writing') {
      this.ctx.intents.finish(this.intent, 'cancelled');
      this.ctx.store.abandon(this.intent.data.descriptor);
    }
  }
}
