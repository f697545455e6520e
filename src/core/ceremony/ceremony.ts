// A ceremony is a state machine in core that officers walk through: it publishes what to do now
// (insert a card, type a PIN, confirm) and takes their inputs. The GUI renders it; the CLI prompts
// for it. Cards are taken as officers present them: cards already in readers first (reader order),
// then cards as they are inserted; a card is not taken twice until it has been pulled out.
import { randomUUID } from 'node:crypto';
import type { CeremonyKind, CeremonyNotice, CeremonyPrompt, CeremonyResult, CeremonyStep, CeremonyView, ReadersSnapshot } from '../../shared/types';
import type { CardSession } from '../cards/card-session';
import { OfficerCard } from '../cards/officer-card';
import type { ReaderMonitor } from '../cards/reader-monitor';
import { TesseraError, toErrorData } from '../errors';
import type { Purpose } from '../quorum/card-set';
import { type CardRecord, openShare, pinRefusal } from '../quorum/card-record';
import { wipe } from '../secrets';

export type CeremonyInput = { kind: 'pin'; pin: Buffer; repeat?: Buffer } | { kind: 'confirm' } | { kind: 'choose'; only: number[] | null; replace: number[] } | { kind: 'cancel' };

export class CeremonyCancelled extends Error {
  constructor() {
    super('cancelled');
    this.name = 'CeremonyCancelled';
  }
}

/** The card in front of the ceremony was pulled out before it was done with it. */
export class CardPulled extends Error {
  constructor(readonly reader: string) {
    super('card removed');
    this.name = 'CardPulled';
  }
}

export interface PresentedCard {
  reader: string;
  session: CardSession;
  card: OfficerCard;
}

type Waiter = { kinds: CeremonyInput['kind'][]; resolve(input: CeremonyInput): void; reject(error: Error): void };

export abstract class Ceremony {
  readonly id = randomUUID();
  private view: CeremonyView;
  private readonly listeners = new Set<(view: CeremonyView) => void>();
  private waiter: Waiter | null = null;
  private promptSeq = 0;
  private cancelled = false;
  private finished: Promise<void> | null = null;
  /** Cards taken already, as reader + insertion count: a card pulled out and pushed back in is new. */
  private readonly taken = new Set<string>();

  protected constructor(
    protected readonly readers: ReaderMonitor,
    kind: CeremonyKind,
    title: string,
    partition: { label: string; serial: string },
    steps: string[],
  ) {
    this.view = {
      id: this.id,
      kind,
      title,
      partition,
      steps: steps.map((s, i) => ({ title: s, state: i === 0 ? 'current' : 'todo' })),
      prompt: { seq: 0, kind: 'working', text: 'Starting…' },
      collected: [],
      needed: null,
      notices: [],
      result: null,
      progress: null,
      detail: null,
      error: null,
    };
  }

  protected abstract run(): Promise<CeremonyResult>;

  /** Wipes whatever secret the ceremony still holds (called however it ends). */
  protected abstract wipeSecrets(): void;

  start(): Promise<void> {
    this.finished ??= this.run().then(
      (result) => {
        this.update({ result, prompt: this.next({ kind: 'done', text: 'Done.' }), steps: this.view.steps.map((s) => ({ ...s, state: 'done' })) });
      },
      (error: unknown) => {
        if (this.cancelled || error instanceof CeremonyCancelled) {
          this.update({ prompt: this.next({ kind: 'cancelled', text: 'Cancelled. Nothing that was collected is kept.' }) });
          return;
        }
        const data = toErrorData(error);
        this.update({
          prompt: this.next({ kind: 'failed', text: data.message }),
          error: data,
          steps: this.view.steps.map((s) => (s.state === 'current' ? { ...s, state: 'failed' } : s)),
          notices: [...this.view.notices, { level: 'error', text: data.detail ? `${data.message} (${data.detail})` : data.message }],
        });
      },
    ).finally(() => {
      this.wipeSecrets();
      this.rejectWaiter(new CeremonyCancelled());
    });
    return this.finished;
  }

  /** Resolves once the ceremony has ended and let go of everything (after cancel, too). */
  settled(): Promise<void> {
    return this.finished ?? Promise.resolve();
  }

  get done(): boolean {
    return ['done', 'failed', 'cancelled'].includes(this.view.prompt.kind);
  }

  snapshot(): CeremonyView {
    return structuredClone(this.view);
  }

  /** The view as it is, for the ceremony itself (no copy). */
  protected current(): Readonly<CeremonyView> {
    return this.view;
  }

  onChange(listener: (view: CeremonyView) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** An officer's input. PINs the ceremony is not waiting for are wiped and refused. */
  provide(input: CeremonyInput): void {
    if (input.kind === 'cancel') return this.cancel();
    const waiter = this.waiter;
    if (!waiter || !waiter.kinds.includes(input.kind)) {
      if (input.kind === 'pin') wipe(input.pin, input.repeat);
      throw new TesseraError('INVALID_REQUEST', 'The ceremony is not waiting for that now.', `${input.kind} while ${this.view.prompt.kind}`);
    }
    this.waiter = null;
    waiter.resolve(input);
  }

  cancel(): void {
    this.cancelled = true;
    this.rejectWaiter(new CeremonyCancelled());
  }

  // ---- for the ceremonies ----

  protected update(patch: Partial<CeremonyView>): void {
    this.view = { ...this.view, ...patch };
    const snapshot = this.snapshot();
    for (const listener of this.listeners) listener(snapshot);
  }

  protected prompt(prompt: Omit<CeremonyPrompt, 'seq'>): void {
    this.update({ prompt: this.next(prompt) });
  }

  private next(prompt: Omit<CeremonyPrompt, 'seq'>): CeremonyPrompt {
    return { ...prompt, seq: ++this.promptSeq };
  }

  protected notice(level: CeremonyNotice['level'], text: string): void {
    this.update({ notices: [...this.view.notices, { level, text }] });
  }

  /** Marks step `index` current and the ones before it done. */
  protected stepTo(index: number): void {
    this.update({ steps: this.view.steps.map((s, i): CeremonyStep => ({ ...s, state: i < index ? 'done' : i === index ? 'current' : 'todo' })) });
  }

  protected collect(holder: string, index: number, card: string): void {
    this.update({ collected: [...this.view.collected, { holder, index, card }] });
  }

  protected progress(done: number, total: number): void {
    this.update({ progress: { done, total } });
  }

  protected show(detail: CeremonyView['detail']): void {
    this.update({ detail });
  }

  protected get isCancelled(): boolean {
    return this.cancelled;
  }

  protected needs(count: number): void {
    this.update({ needed: count });
  }

  protected checkCancelled(): void {
    if (this.cancelled) throw new CeremonyCancelled();
  }

  /** Waits for one of the inputs; with `reader`, a pulled card ends the wait with CardPulled. */
  protected waitFor(kinds: CeremonyInput['kind'][], reader?: string): Promise<CeremonyInput> {
    this.checkCancelled();
    return new Promise<CeremonyInput>((resolve, reject) => {
      let stop = (): void => undefined;
      const settle = <T>(fn: (value: T) => void) => (value: T): void => {
        stop();
        fn(value);
      };
      this.waiter = { kinds, resolve: settle(resolve), reject: settle(reject) };
      if (reader) {
        stop = this.readers.onChange((snapshot) => {
          if (!isPresent(snapshot, reader) && this.waiter) {
            const waiter = this.waiter;
            this.waiter = null;
            waiter.reject(new CardPulled(reader));
          }
        });
      }
    });
  }

  /** A PIN for the card in `reader` (and the officer's second typing when `twice`). */
  protected async pinFor(prompt: Omit<CeremonyPrompt, 'seq'>, twice = false): Promise<{ pin: Buffer; repeat?: Buffer }> {
    this.prompt(prompt);
    const input = await this.waitFor(['pin'], prompt.reader);
    if (input.kind !== 'pin') throw new CeremonyCancelled();
    this.prompt({ kind: 'working', text: 'Checking…', ...(prompt.holder ? { holder: prompt.holder } : {}), ...(prompt.reader ? { reader: prompt.reader } : {}) });
    if (twice && !input.repeat) {
      wipe(input.pin);
      throw new TesseraError('INVALID_REQUEST', 'Type the new PIN twice.');
    }
    return input.repeat ? { pin: input.pin, repeat: input.repeat } : { pin: input.pin };
  }

  /**
   * The holder's PIN, the card's verdict on it, and the share opened and checked against its set;
   * null when the card is refused (its reason is noticed). A wrong PIN may be typed again only when
   * `retryWrongPin` (the GUI); the terminal never retries a PIN by itself.
   */
  protected async shareFrom(card: OfficerCard, record: CardRecord, reader: string, purpose: Purpose, retryWrongPin: boolean): Promise<Buffer | null> {
    this.needs(record.descriptor.m);
    let triesLeft = await card.pinTriesLeft();
    for (;;) {
      const { pin } = await this.pinFor({ kind: 'enter-pin', text: `${record.holder}: type your card PIN.`, holder: record.holder, reader, triesLeft });
      let result;
      try {
        result = await openShare(card, record, pin, purpose);
      } finally {
        wipe(pin);
      }
      if ('share' in result) return result.share;
      if ('refused' in result) {
        this.notice('error', `${record.holder}'s card: ${result.refused}`);
        return null;
      }
      this.notice('warning', `${record.holder}'s card: ${pinRefusal(result)}`);
      if (result.blocked || !retryWrongPin) return null;
      triesLeft = result.triesLeft;
    }
  }

  /** The next card officers present: one already in a reader (reader order), else the next inserted. */
  protected async nextCard(prompt: Omit<CeremonyPrompt, 'seq'>): Promise<PresentedCard> {
    this.prompt(prompt);
    for (;;) {
      this.checkCancelled();
      const untaken = this.untakenCard(this.readers.snapshot());
      if (untaken) {
        const [reader, key] = untaken;
        this.taken.add(key);
        try {
          const session = await this.readers.connect(reader);
          return { reader, session, card: new OfficerCard(session) };
        } catch (error) {
          // Pulled out again before it could be read: it was never presented.
          if (!(error instanceof TesseraError) || (error.code !== 'CARD_REMOVED' && error.code !== 'CARD_ABSENT')) throw error;
          continue;
        }
      }
      await this.nextReaderChange();
    }
  }

  private untakenCard(snapshot: ReadersSnapshot): [reader: string, key: string] | null {
    const present = snapshot.readers
      .filter((r) => r.condition === 'card-present' && !this.taken.has(`${r.name}#${r.insertion}`))
      .sort((a, b) => a.name.localeCompare(b.name));
    const first = present[0];
    return first ? [first.name, `${first.name}#${first.insertion}`] : null;
  }

  private nextReaderChange(): Promise<void> {
    return new Promise((resolve, reject) => {
      const stop = this.readers.onChange(() => {
        stop();
        resolve();
      });
      this.waiter = {
        kinds: [],
        resolve: () => undefined,
        reject: (error) => {
          stop();
          reject(error);
        },
      };
    });
  }

  private rejectWaiter(error: Error): void {
    const waiter = this.waiter;
    this.waiter = null;
    waiter?.reject(error);
  }
}

/** A card problem in officers' words, with the PC/SC detail in brackets for support. */
export function describeCardProblem(error: unknown, pulled: string): string {
  if (error instanceof CardPulled) return pulled;
  const data = toErrorData(error);
  return data.detail ? `${data.message} [${data.detail}]` : data.message;
}

function isPresent(snapshot: ReadersSnapshot, reader: string): boolean {
  const condition = snapshot.readers.find((r) => r.name === reader)?.condition;
  return condition === 'card-present' || condition === 'card-in-use';
}
