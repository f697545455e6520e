// Logging in as security officer with m of the n officers' cards. Each card is identified before
// its PIN is asked for; a blank, foreign, old, copied, forged or repeated card is refused with its
// reason and costs nothing. Each share is checked against the set, the combined credential against
// the set's commitment, and only then does the HSM see it: the terminal never causes a failed SO
// login with a credential it has not verified.
import type { CeremonyResult } from '../../shared/types';
import { TesseraError } from '../errors';
import { wipe } from '../secrets';
import { combineShares, commitment, matches } from '../quorum/card-set';
import { parseRecord, refusal } from '../quorum/card-record';
import type { QuorumContext } from '../quorum/quorum-context';
import { Ceremony, CeremonyCancelled, describeCardProblem } from './ceremony';

export interface SoLoginOptions {
  /** GUI: a wrong PIN may be typed again. CLI (--pins-from): the card is skipped instead. */
  retryWrongPin: boolean;
}

export class SoLoginCeremony extends Ceremony {
  private readonly shares = new Map<number, Buffer>();
  private credential: Buffer | null = null;

  constructor(
    private readonly ctx: QuorumContext,
    private readonly options: SoLoginOptions,
  ) {
    const p = ctx.partition.partition();
    super(ctx.readers, 'so-login', 'Security-officer login', { label: p.label, serial: p.serial }, ['Officers\' cards', 'Check the credential', 'Log in']);
  }

  protected async run(): Promise<CeremonyResult> {
    const { partition } = this.ctx;
    if (partition.soLoggedIn) throw new TesseraError('INVALID_REQUEST', 'A security officer is logged in already.');
    const trust = this.ctx.trust();
    if (!trust) throw new TesseraError('CARD_ERROR', 'This partition has no card set yet. Adopt it first (Cards).');
    const token = partition.partition();
    refuseWhenSoPinAtRisk(token.soPin.condition);
    // Without its own record of the set, the terminal learns m from the first card that matches the partition.
    let descriptor = trust.descriptor;
    if (descriptor) this.needs(descriptor.m);
    const cards = new Map<number, string>();

    while (!descriptor || this.shares.size < descriptor.m) {
      const of = descriptor ? ` of ${descriptor.m}` : '';
      const presented = await this.nextCard({ kind: 'insert-card', text: `Officer ${this.shares.size + 1}${of}: insert your card.` });
      let holder = 'This card';
      try {
        const serial = await presented.card.serial();
        const frame = await presented.card.readSlot('so');
        const record = parseRecord(frame);
        holder = record?.holder ? `${record.holder}'s card` : holder;
        const refused = refusal(record, frame, serial, trust.trusted, token.serial);
        if (refused || !record || !serial) {
          this.notice('warning', `${holder}: ${refused}`);
          continue;
        }
        if (this.shares.has(record.index) || [...cards.values()].includes(serial)) {
          this.notice('warning', `${holder}: already read. Each officer's card counts once; insert another officer's card.`);
          continue;
        }
        descriptor ??= record.descriptor;
        const share = await this.shareFrom(presented.card, record, presented.reader, 'so', this.options.retryWrongPin);
        if (!share) continue;
        this.shares.set(record.index, share);
        cards.set(record.index, serial);
        this.collect(record.holder, record.index, serial);
        this.notice('info', `${record.holder}'s card read: ${this.shares.size} of ${descriptor.m} collected. Take the card out.`);
      } catch (error) {
        if (error instanceof CeremonyCancelled) throw error;
        this.notice('warning', `${holder}: ${describeCardProblem(error, 'taken out before it was read. Insert it again.')}`);
      } finally {
        await presented.session.close();
      }
    }
    if (!descriptor) throw new TesseraError('INTERNAL', 'No card described the set.');

    this.stepTo(1);
    this.prompt({ kind: 'working', text: 'Rebuilding and checking the credential…' });
    const ordered = [...this.shares.entries()].sort(([a], [b]) => a - b).map(([, share]) => share);
    this.credential = await combineShares(ordered, descriptor.m);
    if (!matches(descriptor.commitment, commitment(descriptor.set, descriptor.generation, this.credential))) {
      throw new TesseraError('CARD_ERROR', 'The cards do not rebuild the partition\'s SO credential. Nothing was sent to the HSM.', 'commitment mismatch');
    }

    this.stepTo(2);
    if (partition.partition().serial !== token.serial) throw new TesseraError('TOKEN_NOT_FOUND', 'The partition changed while the cards were read. Nothing was sent to the HSM.');
    refuseWhenSoPinAtRisk(partition.partition().soPin.condition);
    const holders = [...this.shares.keys()].sort((a, b) => a - b).map((i) => descriptor.holders.find((h) => h.index === i)?.holder ?? `#${i}`);
    const target = `${token.label} (serial ${token.serial})`;
    try {
      partition.loginSo(Buffer.from(this.credential));
    } catch (error) {
      const failures = error instanceof TesseraError && error.code === 'PIN_INCORRECT' ? this.ctx.store.countSoFailure(token.serial) : this.ctx.store.soFailures(token.serial);
      await this.ctx.audit.append({ actor: this.ctx.actor, action: 'so.login', target, outcome: 'failed', details: { holders: holders.join(', '), error: error instanceof TesseraError ? error.code : 'INTERNAL', terminalFailureCount: failures } });
      if (error instanceof TesseraError && error.code === 'PIN_INCORRECT') {
        const rolledBack = await this.ctx.soLoginRefused(descriptor);
        throw new TesseraError('PIN_INCORRECT', rolledBack ?? 'The HSM refused the verified credential: the SO PIN was changed outside this terminal. Do not try again before it is explained.', error.detail);
      }
      throw error;
    }
    this.ctx.store.resetSoFailures(token.serial);
    await this.ctx.soLoggedIn(holders, descriptor, cards);
    await this.ctx.audit.append({ actor: this.ctx.actor, action: 'so.login', target, outcome: 'ok', details: { holders: holders.join(', '), cards: [...cards.values()].join(', '), set: descriptor.set, generation: descriptor.generation } });
    return { kind: 'so-login', holders, cards: [...cards.values()] };
  }

  protected wipeSecrets(): void {
    for (const share of this.shares.values()) wipe(share);
    this.shares.clear();
    wipe(this.credential);
    this.credential = null;
  }
}

export function refuseWhenSoPinAtRisk(condition: string): void {
  if (condition === 'locked') throw new TesseraError('PIN_LOCKED', 'The partition reports its SO PIN locked. The terminal will not try.');
  if (condition === 'final-try') throw new TesseraError('PIN_LOCKED', 'The partition reports one SO login try left. The terminal will not risk it; find out what happened first.');
}
