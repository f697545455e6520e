// Live view of the smart-card readers: readers appearing and disappearing, cards inserted and
// removed. When pcscd is not running (or stops), the monitor says so and keeps retrying, so the
// terminal keeps working without cards and notices when the service comes back.
import type { ReaderCondition, ReadersSnapshot, ReaderView } from '../../shared/types';
import { TesseraError } from '../errors';
import { CardSession } from './card-session';
import { type PcscContext, type PcscReaderHandle, SCARD_STATE, openPcsc } from './pcsc-adapter';

const RETRY_MS = 2000;
const NOT_RUNNING = 'The smart-card service (pcscd) is not running, so card readers cannot be used. Start it, or ask your administrator; the terminal will notice when it is back.';

interface Tracked {
  handle: PcscReaderHandle;
  view: ReaderView;
  /** pcscd's event counter (high word of the state) when the card last changed. */
  events: number;
}

export function readerCondition(state: number): ReaderCondition {
  const s = state & 0xffff; // the high word is pcscd's event counter
  if (s & SCARD_STATE.UNAVAILABLE) return 'unavailable';
  if (s & SCARD_STATE.MUTE) return 'card-mute';
  if (s & SCARD_STATE.PRESENT) return s & (SCARD_STATE.EXCLUSIVE | SCARD_STATE.INUSE) ? 'card-in-use' : 'card-present';
  return 'empty';
}

export class ReaderMonitor {
  private context: PcscContext | null = null;
  private readonly readers = new Map<string, Tracked>();
  /** Readers with an open card session: one step at a time per card. */
  private readonly busy = new Set<string>();
  private readonly listeners = new Set<(snapshot: ReadersSnapshot) => void>();
  private retry: NodeJS.Timeout | null = null;
  private running = false;
  private started: Promise<void> | null = null;

  /** Starts watching; resolves once the first picture of the readers is known. */
  start(): Promise<void> {
    if (this.started) return this.started;
    this.running = true;
    this.started = new Promise((resolve) => this.openContext(resolve));
    return this.started;
  }

  stop(): void {
    this.running = false;
    this.started = null;
    if (this.retry) clearTimeout(this.retry);
    this.retry = null;
    this.closeContext();
  }

  onChange(listener: (snapshot: ReadersSnapshot) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  snapshot(): ReadersSnapshot {
    return {
      service: this.context ? 'running' : 'unavailable',
      message: this.context ? null : NOT_RUNNING,
      readers: [...this.readers.values()].map((r) => ({ ...r.view })).sort((a, b) => a.name.localeCompare(b.name)),
    };
  }

  /** Opens an exclusive session with the card in `readerName`. */
  async connect(readerName: string): Promise<CardSession> {
    const tracked = this.readers.get(readerName);
    if (!this.context) throw new TesseraError('CARD_SERVICE_UNAVAILABLE', NOT_RUNNING);
    if (!tracked) throw new TesseraError('READER_NOT_FOUND', `The reader "${readerName}" is not connected.`);
    if (tracked.view.condition === 'empty') throw new TesseraError('CARD_ABSENT', `There is no card in "${readerName}". Insert the card and try again.`);
    if (this.busy.has(readerName)) throw new TesseraError('CARD_ERROR', `The card in "${readerName}" is already in use by another step. Finish or cancel it first.`);
    this.busy.add(readerName);
    try {
      return await CardSession.open(tracked.handle, () => this.busy.delete(readerName));
    } catch (error) {
      this.busy.delete(readerName);
      throw error;
    }
  }

  private openContext(firstPicture: () => void): void {
    if (!this.running) return firstPicture();
    let context: PcscContext;
    try {
      context = openPcsc();
    } catch {
      this.emit();
      firstPicture();
      this.scheduleRetry();
      return;
    }
    this.context = context;
    // pcsclite reports readers asynchronously; give it a moment to list them before answering.
    const settle = setTimeout(firstPicture, 300);
    context.onReader((handle) => this.track(handle));
    context.onError(() => {
      clearTimeout(settle);
      firstPicture();
      if (this.context !== context) return;
      this.closeContext();
      this.emit();
      this.scheduleRetry();
    });
    this.emit();
  }

  private track(handle: PcscReaderHandle): void {
    const tracked: Tracked = { handle, view: { name: handle.name, condition: 'empty', atr: null, insertion: 0 }, events: -1 };
    this.readers.set(handle.name, tracked);
    handle.onStatus((state, atr) => {
      if (this.readers.get(handle.name) !== tracked) return;
      const condition = readerCondition(state);
      const events = (state >>> 16) & 0xffff;
      const present = (c: ReaderCondition): boolean => c !== 'empty' && c !== 'unavailable';
      // A card counts as newly arrived when the reader was empty, or when pcscd counted events in
      // between (a card pulled and another pushed in faster than the status could show it empty).
      const arrived = present(condition) && (!present(tracked.view.condition) || (tracked.events >= 0 && events !== tracked.events));
      tracked.events = events;
      tracked.view = { name: handle.name, condition, atr: condition === 'empty' ? null : (atr?.toString('hex') ?? tracked.view.atr), insertion: tracked.view.insertion + (arrived ? 1 : 0) };
      this.emit();
    });
    handle.onEnd(() => {
      if (this.readers.get(handle.name) === tracked) {
        this.readers.delete(handle.name);
        this.emit();
      }
    });
    handle.onError(() => {
      // Reader-level errors are followed by 'end' or by a context error; both are handled.
    });
    this.emit();
  }

  private closeContext(): void {
    const context = this.context;
    this.context = null;
    this.readers.clear();
    if (context) {
      try {
        context.close();
      } catch {
        // the service is gone already
      }
    }
  }

  private scheduleRetry(): void {
    if (!this.running || this.retry) return;
    this.retry = setTimeout(() => {
      this.retry = null;
      this.openContext(() => undefined);
    }, RETRY_MS);
    this.retry.unref();
  }

  private emit(): void {
    const snapshot = this.snapshot();
    for (const listener of this.listeners) listener(snapshot);
  }
}
