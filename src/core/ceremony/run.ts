// One ceremony as it runs: the view the officers see (steps, what to do now, who has been read, what
// happened), the answers they give (a PIN, a confirmation, a choice, cancel), and the cards they
// present. Ceremonies and their steps (steps/) drive it; the host (host.ts) starts it and ends it.
// Cards are taken as officers present them: cards already in readers first (reader order), then
// cards as they are inserted; a card is not taken twice until it has been pulled out.
import { randomUUID } from 'node:crypto';
import { ceremonyKinds } from '../../shared/ceremonies';
import type { CeremonyKind, CeremonyNotice, CeremonyPrompt, CeremonyView, ReadersSnapshot } from '../../shared/types';
import type { CardSession } from '../cards/card-session';
import { OfficerCard } from '../cards/officer-card';
import type { ReaderMonitor } from '../cards/reader-monitor';
import { TesseraError } from '../errors';
import { wipe } from '../secrets';

/** An officer's answer. PINs are Buffers the ceremony wipes. */
export type CeremonyInput = { kind: 'pin'; pin: Buffer; repeat?: Buffer } | { kind: 'confirm' } | { kind: 'choose'; only: number[] | null; replace: number[] } | { kind: 'fingerprint'; fingerprint: string } | { kind: 'cancel' };

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

export type PromptText = Omit<CeremonyPrompt, 'seq'>;

/** An event a step records in the audit log as it happens (the host adds who acts and where). */
export interface RunRecord {
  action: string;
  target: string;
  outcome: 'ok' | 'failed' | 'refused';
  details: Record<string, string | number | boolean | null>;
}

type Waiter = { kinds: CeremonyInput['kind'][]; resolve(input: CeremonyInput): void; reject(error: Error): void };

export class CeremonyRun {
  readonly id = randomUUID();
  private view: CeremonyView;
  private readonly listeners = new Set<(view: CeremonyView) => void>();
  private waiter: Waiter | null = null;
  private promptSeq = 0;
  private cancelled = false;
  /** Cards taken already, as reader + insertion count: a card pulled out and pushed back in is new. */
  private readonly taken = new Set<string>();
  private readonly writtenKeys = new Map<string, string>();
  /** Where steps record events as they happen (set by the host: the audit log). */
  record: (entry: RunRecord) => Promise<void> = async () => undefined;

  constructor(
    private readonly readers: ReaderMonitor,
    readonly kind: CeremonyKind,
    partition: { label: string; serial: string },
  ) {
    const declared = ceremonyKinds[kind];
    this.view = {
      id: this.id,
      kind,
      title: declared.title,
      partition,
      steps: declared.steps.map((title, i) => ({ title, state: i === 0 ? 'current' : 'todo' })),
      prompt: { seq: 0, kind: 'working', text: 'Starting…' },
      collected: [],
      quorumFrom: 0,
      needed: null,
      notices: [],
      result: null,
      progress: null,
      detail: null,
      error: null,
      written: [],
      started: new Date().toISOString(),
      summary: null,
    };
  }

  get done(): boolean {
    return ['done', 'failed', 'cancelled'].includes(this.view.prompt.kind);
  }

  get isCancelled(): boolean {
    return this.cancelled;
  }

  snapshot(): CeremonyView {
    return structuredClone(this.view);
  }

  /** The view as it is (no copy), for steps that read what was collected. */
  current(): Readonly<CeremonyView> {
    return this.view;
  }

  onChange(listener: (view: CeremonyView) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * An officer's input. A PIN the ceremony is not waiting for is wiped and refused.
   * @throws TesseraError INVALID_REQUEST when the ceremony is not waiting for that kind of input.
   */
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

  // ---- the view ----

  update(patch: Partial<CeremonyView>): void {
    this.view = { ...this.view, ...patch };
    const snapshot = this.snapshot();
    for (const listener of this.listeners) listener(snapshot);
  }

  prompt(prompt: PromptText): void {
    this.update({ prompt: { ...prompt, seq: ++this.promptSeq } });
  }

  /** A working prompt that keeps who and where from the one before (e.g. "Checking…" for Alice's card). */
  working(text: string): void {
    const { holder, reader } = this.view.prompt;
    this.prompt({ kind: 'working', text, ...(holder ? { holder } : {}), ...(reader ? { reader } : {}) });
  }

  notice(level: CeremonyNotice['level'], text: string, detail?: string): void {
    this.update({ notices: [...this.view.notices, { level, text, ...(detail ? { detail } : {}) }] });
  }

  /** The title of the step under way ("Collect the cards"), or null when none is (ended). */
  currentStep(): string | null {
    return this.view.steps.find((s) => s.state === 'current')?.title ?? null;
  }

  /** Marks step `index` current and the ones before it done. */
  stepTo(index: number): void {
    this.update({ steps: this.view.steps.map((s, i) => ({ ...s, state: i < index ? 'done' : i === index ? 'current' : 'todo' })) });
  }

  collect(holder: string, index: number, card: string): void {
    this.update({ collected: [...this.view.collected, { holder, index, card }] });
  }

  /** A new quorum begins (a restore's SO approvers, then its backup-set cards): counted apart. */
  newQuorum(): void {
    this.update({ quorumFrom: this.view.collected.length, needed: null });
  }

  needs(count: number): void {
    this.update({ needed: count });
  }

  progress(done: number, total: number): void {
    this.update({ progress: { done, total } });
  }

  show(detail: CeremonyView['detail']): void {
    this.update({ detail });
  }

  /** Something that stays written if the ceremony stops now (a cancel names it); a later line with the same `key` replaces it. */
  wrote(text: string, key?: string): void {
    if (key !== undefined) this.writtenKeys.set(key, text);
    else this.writtenKeys.set(`#${this.writtenKeys.size}`, text);
    this.update({ written: [...this.writtenKeys.values()] });
  }

  /** What was written is now part of a completed change (nothing to warn about on cancel). */
  settledWrites(): void {
    this.writtenKeys.clear();
    this.update({ written: [] });
  }

  /** Ends the run (the host calls it): the last prompt, the steps' states, and the summary. */
  finish(patch: Omit<Partial<CeremonyView>, 'prompt'> & { prompt: PromptText }): void {
    this.update({ ...patch, prompt: { ...patch.prompt, seq: ++this.promptSeq } });
  }

  // ---- answers ----

  checkCancelled(): void {
    if (this.cancelled) throw new CeremonyCancelled();
  }

  /** Waits for one of the inputs; with `reader`, a pulled card ends the wait with CardPulled. */
  waitFor(kinds: CeremonyInput['kind'][], reader?: string): Promise<CeremonyInput> {
    this.checkCancelled();
    return new Promise<CeremonyInput>((resolve, reject) => {
      let stop = (): void => undefined;
      const settle =
        <T>(fn: (value: T) => void) =>
        (value: T): void => {
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

  /** Shows `prompt` and waits for its answer. */
  async ask<K extends CeremonyInput['kind']>(prompt: PromptText, kind: K): Promise<Extract<CeremonyInput, { kind: K }>> {
    // Cancelled while working (e.g. Ctrl-C during a backup's survey): the question is never shown,
    // so no one answers a ceremony that is ending.
    this.checkCancelled();
    this.prompt(prompt);
    const input = await this.waitFor([kind], prompt.reader);
    if (input.kind !== kind) throw new CeremonyCancelled();
    return input as Extract<CeremonyInput, { kind: K }>;
  }

  // ---- cards ----

  /** The next card officers present: one already in a reader (reader order), else the next inserted. */
  async nextCard(prompt: PromptText): Promise<PresentedCard> {
    const card = await this.nextCardOrFinish(prompt);
    if (!card) throw new CeremonyCancelled();
    return card;
  }

  /**
   * Like nextCard, but with `prompt.finishLabel` officers may answer `confirm` instead of presenting
   * a card ("no more cards"): then null.
   */
  async nextCardOrFinish(prompt: PromptText): Promise<PresentedCard | null> {
    this.checkCancelled();
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
      if (await this.nextReaderChange(prompt.finishLabel !== undefined)) return null;
    }
  }

  /** A new pass over the cards (write the cards that were just read): cards still in readers may be taken again. */
  freshPass(): void {
    this.taken.clear();
  }

  private untakenCard(snapshot: ReadersSnapshot): [reader: string, key: string] | null {
    const present = snapshot.readers.filter((r) => r.condition === 'card-present' && !this.taken.has(`${r.name}#${r.insertion}`)).sort((a, b) => a.name.localeCompare(b.name));
    const first = present[0];
    return first ? [first.name, `${first.name}#${first.insertion}`] : null;
  }

  /** Waits for a reader change (false), or, when `finishable`, for officers to finish (true). */
  private nextReaderChange(finishable = false): Promise<boolean> {
    return new Promise((resolve, reject) => {
      const stop = this.readers.onChange(() => {
        stop();
        this.waiter = null;
        resolve(false);
      });
      this.waiter = {
        kinds: finishable ? ['confirm'] : [],
        resolve: () => {
          stop();
          resolve(true);
        },
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

function isPresent(snapshot: ReadersSnapshot, reader: string): boolean {
  const condition = snapshot.readers.find((r) => r.name === reader)?.condition;
  return condition === 'card-present' || condition === 'card-in-use';
}
