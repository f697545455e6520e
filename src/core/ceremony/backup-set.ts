// Creating the partition's backup key set: a backup-signing key generated in the partition, and an
// escrow key whose private half is split m-of-n onto officers' cards (the cards' second set slot;
// cards of the SO set keep their PIN, blank cards get one). Making a backup then needs only the
// escrow key's public half; reading or restoring one needs m of these cards. The set becomes the
// partition's only once every card is written and read back; each step is in the intent log.
import { randomBytes } from 'node:crypto';
import type { CeremonyResult } from '../../shared/types';
import type { OfficerCard } from '../cards/officer-card';
import { TesseraError } from '../errors';
import { wipe } from '../secrets';
import { escrowPublic, fingerprint, newEscrowKey } from '../backup/escrow';
import { createSigningKey, signingKeyHandles } from '../backup/signing-key';
import { descriptorHash, newDescriptor, splitSecret } from '../quorum/card-set';
import { type CardRecord, pinRefusal } from '../quorum/card-record';
import type { AdoptIntent, QuorumContext } from '../quorum/quorum-context';
import type { Intent } from '../store/intents';
import type { AdoptParams } from './adopt';
import { TRANSPORT_PIN } from './card-pin';
import { EnrolmentCeremony, enrolmentRecord } from './enrolment';
import { crashPoint } from './crash-points';

export const BACKUP_SET_INTENT = 'backup-set';

export class BackupSetCeremony extends EnrolmentCeremony {
  protected readonly slot = 'backup';
  private escrow: Buffer | null = null;
  private intent: Intent<AdoptIntent> | null = null;
  private completed = false;

  constructor(
    protected readonly ctx: QuorumContext,
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

    const record = enrolmentRecord(descriptor, written);
    await audit.append({ actor: this.ctx.actor, action: 'backupset.create', target, outcome: 'ok', details: { set, m, n, cards: record.cards.map((c) => `${c.holder}=${c.card}`).join(', '), signer: fingerprint(signingKey), escrow: fingerprint(Buffer.from(descriptor.backup?.escrowPublic ?? '', 'base64')) } });
    return { kind: 'backup-set', record };
  }

  protected insertText(index: number, n: number, holder: string): string {
    return `Card ${index} of ${n}: ${holder}, insert your card.`;
  }

  protected otherSetText(existing: CardRecord): string {
    return `This card holds a share of another backup key set (${existing.holder}, partition "${existing.descriptor.partition.label}"). Use another card.`;
  }

  /** An officer card keeps its PIN (typed once, verified by the card); a blank one gets a chosen PIN. */
  protected cardPin(card: OfficerCard, serial: string | null, holder: string, reader: string): Promise<Buffer | null> {
    return serial ? this.currentPin(card, holder, reader) : this.newPin(card, holder, reader);
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
    const pin = await this.choosePin(holder, reader);
    const transport = Buffer.from(TRANSPORT_PIN);
    const changed = await card.changePin(transport, pin);
    wipe(transport);
    if (changed.ok) return pin;
    wipe(pin);
    this.notice('warning', 'This card\'s PIN is not the blank-card PIN, and it holds no Tessera record. Use a blank card.');
    return null;
  }

  protected wipeSecrets(): void {
    this.wipeShares();
    wipe(this.escrow);
    this.escrow = null;
    if (!this.completed && this.intent?.step === 'cards-writing') {
      this.ctx.intents.finish(this.intent, 'cancelled');
      this.ctx.store.abandon(this.intent.data.descriptor);
    }
  }
}
