// The main thread's side of the HSM worker (hsm-worker.ts): one worker per terminal, started on
// first use, its jobs run in the order given (a listing's summaries are made here, between other
// work); a wrap loop also runs on a second worker (a lane), started ahead of it.
import { Worker } from 'node:worker_threads';
import type { ObjectSummary, TokenSummary } from '../../shared/types';
import { TesseraError } from '../errors';
import type { FindJob, JobResult, ListJob, SearchTemplate, WrapJob, WrappedBatch } from './hsm-worker';
import { type ObjectRead, ObjectNamer } from './inventory';
import type { Handle } from './pkcs11-adapter';

/** Built, the worker is out/main/hsm-worker.js beside the bundle; from source, it is loaded through tsx. */
function workerUrl(): URL {
  const fromSource = import.meta.url.endsWith('.ts');
  return new URL(fromSource ? './hsm-worker-source.mjs' : './hsm-worker.js', import.meta.url);
}

/** The HSM refused to wrap one key of a wrap loop: `index` is its place in the keys asked for. */
export class KeyNotWrapped extends TesseraError {
  constructor(
    readonly index: number,
    ...error: ConstructorParameters<typeof TesseraError>
  ) {
    super(...error);
  }
}

/**
 * Worker threads a wrap loop runs on, each with its own session, side by side. An HSM serves
 * sessions in parallel (SoftHSM2 with OS locking on one core each; a network HSM hides each call's
 * round trip behind the other's); the loop is the slowest part of a backup. Two: the main thread
 * needs a core too (it seals and writes the keys as they come).
 */
export const WRAP_LANES = 2;

/** Consecutive keys dealt to one lane at a time: a lane's batch (hsm-worker.ts) is at most this many. */
const WRAP_CHUNK = 64;

/** The HSM worker thread itself stopped (crashed, or was terminated) while a job was running. */
export class WorkerStopped extends TesseraError {}

export class HsmWorker {
  /** Lane 0 runs every job; the others only their part of a wrap loop. */
  private readonly workers: (Worker | null)[] = [];
  private nextId = 1;
  private readonly pending = new Map<number, { objects: ObjectSummary[]; listing?: Listing; wrapped?(batch: WrappedBatch): void; done(result: Extract<JobResult, { ok: true }>, objects: ObjectSummary[]): void; reject(error: Error): void }>();

  private start(lane = 0): Worker {
    const running = this.workers[lane];
    if (running) return running;
    const worker = new Worker(workerUrl());
    worker.on('message', (result: JobResult) => {
      const job = this.pending.get(result.id);
      if (!job) return;
      if ('reads' in result) {
        if (job.listing) job.listing.add(result.reads);
        else {
          this.pending.delete(result.id);
          job.reject(new TesseraError('INTERNAL', 'The HSM worker sent objects for something that is not a listing.'));
        }
        return;
      }
      if ('wrapped' in result) {
        job.wrapped?.(result.wrapped);
        return;
      }
      this.pending.delete(result.id);
      if (!result.ok) job.reject(result.at === undefined ? new TesseraError(result.error.code, result.error.message, result.error.detail) : new KeyNotWrapped(result.at, result.error.code, result.error.message, result.error.detail));
      else if (job.listing) {
        const listing = job.listing;
        listing.end(() => job.done(result, listing.objects));
      } else job.done(result, job.objects);
    });
    worker.on('error', (error) => this.fail(error));
    worker.on('exit', () => {
      if (this.workers[lane] === worker) this.workers[lane] = null;
      this.fail(new Error('the HSM worker stopped'));
    });
    worker.unref();
    this.workers[lane] = worker;
    return worker;
  }

  /** Starts the wrap loop's lanes (threads) now, so that starting them is not part of the loop: e.g. while the officers read a backup's preview. */
  readyWrapLanes(): void {
    for (let lane = 0; lane < WRAP_LANES; lane++) this.start(lane);
  }

  private fail(error: Error): void {
    for (const job of this.pending.values()) job.reject(new WorkerStopped('INTERNAL', 'The terminal\'s HSM worker stopped. Try again.', error.name));
    this.pending.clear();
  }

  listObjects(modulePath: string, slot: Handle, token: TokenSummary): Promise<ObjectSummary[]> {
    return this.submit<ObjectSummary[]>(
      (id) => ({ kind: 'list', id, modulePath, slot: new Uint8Array(slot) }),
      (result, objects, resolve, reject) => {
        if (!('count' in result)) reject(new TesseraError('INTERNAL', 'The HSM worker answered a listing with something else.'));
        else if (result.count !== objects.length) reject(new TesseraError('INTERNAL', 'The inventory arrived incomplete. Refresh the list.', `${objects.length} of ${result.count}`));
        else resolve(objects);
      },
      undefined,
      0,
      (id, reject) =>
        new Listing(new ObjectNamer(token), (error) => {
          // The job may have left `pending` already (the worker's last answer came): the promise is rejected all the same.
          this.pending.delete(id);
          reject(error);
        }),
    );
  }

  /**
   * The handles of the objects matching `template` that a session on `slot` sees (a logged-in
   * crypto officer's session sees private objects: the login is the application's), searched on the
   * worker: on a large partition C_FindObjectsInit is one long call (PKCS#11 v2.40 §5.7).
   * @throws TesseraError as the search's PKCS#11 errors map (hsm-errors.ts), INTERNAL when the worker stopped
   */
  findObjects(modulePath: string, slot: Handle, template: SearchTemplate): Promise<Handle[]> {
    return this.submit<Handle[]>(
      (id) => ({ kind: 'find', id, modulePath, slot: new Uint8Array(slot), template }),
      (result, _objects, resolve, reject) => {
        if (!('handles' in result)) reject(new TesseraError('INTERNAL', 'The HSM worker answered a search with something else.'));
        else resolve(result.handles.map((h) => Buffer.from(h)));
      },
    );
  }

  /**
   * C_WrapKey of each of `keys` (handle, and output room in bytes) under `wrappingKey` with
   * `mechanism`, on the worker's sessions on `slot` (WRAP_LANES of them, side by side, each dealt
   * WRAP_CHUNK keys in turn), which share the application's login and see its session objects (the
   * backup's wrap key is one). Yields the wrapped keys in the order of `keys`, in batches, as the
   * lanes make them: the caller works on one batch while the lanes wrap the next; each lane stays a
   * few batches ahead of the batches taken from it, no more (WrapJob). A batch's bytes are zeroed
   * once the caller asks for the next one, or leaves. When the HSM refuses a key, the lanes still
   * wrap the keys before it (none after), and the first key refused in the order of `keys` is named,
   * as one session would name it. Leaving the loop early (break, return, throw) stops every lane
   * after the key in hand and waits until they have stopped (so the wrapping key can then be
   * destroyed); a lane whose thread died takes the others down with it (terminated, and waited for).
   * @throws KeyNotWrapped when the HSM refuses keys[index] (code and detail as C_WrapKey's CKR_* maps);
   *   TesseraError INTERNAL when a worker stopped or answered short or out of order
   */
  async *wrapKeys(modulePath: string, slot: Handle, mechanism: number, wrappingKey: Handle, keys: { handle: Handle; room: number }[]): AsyncGenerator<Buffer[], void, undefined> {
    const STOP = 0;
    const TAKEN = 1;
    const LIMIT = 2;
    const lanes = Array.from({ length: Math.max(1, Math.min(WRAP_LANES, Math.ceil(keys.length / WRAP_CHUNK))) }, () => {
      // [0] stop, [1] batches taken, [2] no key from this index on (see WrapJob).
      const control = new Int32Array(new SharedArrayBuffer(12));
      control[LIMIT] = keys.length;
      /** `at`: how many of the lane's keys have arrived (they come in order). */
      return { control, keys: [] as WrapJob['keys'], at: 0 };
    });
    keys.forEach((k, index) => (lanes[Math.floor(index / WRAP_CHUNK) % lanes.length] as (typeof lanes)[number]).keys.push({ handle: new Uint8Array(k.handle), room: k.room, index }));
    /** Batches arrived and not yet yielded, by the index of their first key, with their lane. */
    const arrivedBatches = new Map<number, { keys: Buffer[]; bytes: Buffer; lane: (typeof lanes)[number] }>();
    let wake: (() => void) | null = null;
    // Set by the callbacks below (a type assertion, so the checks in the loop are not narrowed away).
    let outcome = null as { error: unknown } | null;
    /** The first key refused so far, in the order of `keys`. */
    let refused = null as KeyNotWrapped | null;
    let threadDied = false;
    let closed = false;
    let finished = 0;
    let counted = 0;
    let arrived = 0;
    let received = 0;
    // A lane whose next key comes at or after the refused one has nothing left that will be taken:
    // it is stopped (it may be waiting for batches to be taken that never will be).
    const stopPastRefused = (lane: (typeof lanes)[number]): void => {
      if (!refused || (lane.keys[lane.at]?.index ?? Number.MAX_SAFE_INTEGER) < refused.index) return;
      Atomics.store(lane.control, STOP, 1);
      Atomics.notify(lane.control, TAKEN);
    };
    const settle = (): void => {
      if (++finished < lanes.length) return;
      outcome ??= { error: refused ?? (counted === arrived ? null : new TesseraError('INTERNAL', 'The HSM worker sent fewer wrapped keys than it reported.', `${arrived} of ${counted}`)) };
    };
    const jobs = lanes.map((lane, number) =>
      this.submit<number>(
        (id) => ({ kind: 'wrap', id, modulePath, slot: new Uint8Array(slot), mechanism, wrappingKey: new Uint8Array(wrappingKey), keys: lane.keys, control: lane.control.buffer as SharedArrayBuffer }) satisfies WrapJob,
        (result, _objects, resolve, reject) => {
          if (!('count' in result)) reject(new TesseraError('INTERNAL', 'The HSM worker answered a wrap loop with something else.'));
          else resolve(result.count);
        },
        (batch) => {
          // Views on the one transferred buffer: no copy per key.
          const bytes = Buffer.from(batch.bytes.buffer, batch.bytes.byteOffset, batch.bytes.byteLength);
          if (closed) {
            bytes.fill(0);
            return;
          }
          // The batch must be the lane's next keys, consecutive ones (a lane's keys are runs of WRAP_CHUNK).
          const count = batch.ends.length;
          if (count === 0 || lane.keys[lane.at]?.index !== batch.first || lane.keys[lane.at + count - 1]?.index !== batch.first + count - 1) {
            outcome ??= { error: new TesseraError('INTERNAL', 'The HSM worker sent wrapped keys out of order.', `${count} from ${batch.first}, expected ${lane.keys[lane.at]?.index}`) };
          }
          lane.at += count;
          arrived += count;
          arrivedBatches.set(batch.first, { keys: batch.ends.map((end, i) => bytes.subarray(i === 0 ? 0 : (batch.ends[i - 1] as number), end)), bytes, lane });
          stopPastRefused(lane);
          wake?.();
        },
        number,
      ).then(
        (count) => {
          counted += count;
          settle();
          wake?.();
        },
        (error: unknown) => {
          if (error instanceof KeyNotWrapped) {
            // The other lanes wrap the keys before this one, and stop there: a key before it may be refused too.
            if (!refused || error.index < refused.index) refused = error;
            for (const other of lanes) {
              Atomics.store(other.control, LIMIT, Math.min(Atomics.load(other.control, LIMIT), error.index));
              stopPastRefused(other);
            }
            settle();
          } else {
            if (error instanceof WorkerStopped) threadDied = true;
            outcome ??= { error };
          }
          wake?.();
        },
      ),
    );
    let last: Buffer | null = null;
    try {
      for (;;) {
        last?.fill(0);
        last = null;
        const batch = outcome?.error ? undefined : arrivedBatches.get(received);
        if (batch) {
          arrivedBatches.delete(received);
          Atomics.add(batch.lane.control, TAKEN, 1);
          Atomics.notify(batch.lane.control, TAKEN);
          received += batch.keys.length;
          last = batch.bytes;
          yield batch.keys;
          continue;
        }
        if (outcome) {
          if (outcome.error) throw outcome.error;
          if (received !== keys.length) throw new TesseraError('INTERNAL', 'The HSM worker wrapped fewer keys than asked.', `${received} of ${keys.length}`);
          return;
        }
        await new Promise<void>((resolve) => (wake = resolve));
        wake = null;
      }
    } finally {
      closed = true;
      last?.fill(0);
      for (const batch of arrivedBatches.values()) batch.bytes.fill(0);
      arrivedBatches.clear();
      for (const lane of lanes) {
        Atomics.store(lane.control, STOP, 1);
        Atomics.notify(lane.control, TAKEN);
      }
      await Promise.all(jobs);
      // A lane that died left the others' jobs failed but their threads maybe still inside C_WrapKey:
      // every thread goes, and is waited for, before the caller may destroy the wrapping key.
      if (threadDied) await this.stop();
    }
  }

  private submit<T>(job: (id: number) => ListJob | FindJob | WrapJob, done: (result: Extract<JobResult, { ok: true }>, objects: ObjectSummary[], resolve: (value: T) => void, reject: (error: Error) => void) => void, wrapped?: (batch: WrappedBatch) => void, lane = 0, listing?: (id: number, reject: (error: Error) => void) => Listing): Promise<T> {
    const worker = this.start(lane);
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { objects: [], ...(wrapped ? { wrapped } : {}), ...(listing ? { listing: listing(id, reject) } : {}), done: (result, objects) => done(result, objects, resolve, reject), reject });
      worker.ref();
      worker.postMessage(job(id));
    }).finally(() => {
      if (this.pending.size === 0) for (const w of this.workers) w?.unref();
    });
  }

  /** Whether a job is running (a module must not be finalised under it). */
  get busy(): boolean {
    return this.pending.size > 0;
  }

  async stop(): Promise<void> {
    const workers = this.workers.splice(0);
    await Promise.all(workers.map((w) => w?.terminate()));
  }
}

/** The longest the main thread summarises arriving objects before it lets other work run (ms). */
const SLICE_MS = 8;

/**
 * A listing's objects as they arrive from the worker: named and summarised on this thread
 * (ObjectNamer) while the worker reads the next ones, in slices of at most SLICE_MS, so that batches
 * arriving together never stall the event loop. `end` runs its callback once every read that
 * arrived is summarised; a read that cannot be summarised fails the listing (`fail`), not the terminal.
 */
export class Listing {
  readonly objects: ObjectSummary[] = [];
  private readonly queue: ObjectRead[][] = [];
  private at = 0;
  private scheduled = false;
  private failed = false;
  private ended: (() => void) | null = null;

  constructor(
    private readonly namer: ObjectNamer,
    private readonly fail: (error: Error) => void,
  ) {}

  add(reads: ObjectRead[]): void {
    this.queue.push(reads);
    this.schedule();
  }

  end(then: () => void): void {
    this.ended = then;
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled || this.failed) return;
    this.scheduled = true;
    setImmediate(() => this.slice());
  }

  private slice(): void {
    this.scheduled = false;
    const start = performance.now();
    try {
      while (this.queue.length > 0) {
        const batch = this.queue[0] as ObjectRead[];
        this.objects.push(this.namer.summarise(fromWire(batch[this.at++] as ObjectRead)));
        if (this.at === batch.length) {
          this.queue.shift();
          this.at = 0;
        }
        if (this.queue.length > 0 && performance.now() - start > SLICE_MS) {
          this.schedule();
          return;
        }
      }
    } catch (error) {
      this.failed = true;
      this.fail(new TesseraError('INTERNAL', 'The inventory could not be read. Refresh the list.', error instanceof Error ? error.message : String(error)));
      return;
    }
    const ended = this.ended;
    this.ended = null;
    ended?.();
  }
}

/** A read as it arrives from the worker: byte values come as Uint8Array; Buffer views on the same bytes again (no copy). */
function fromWire(read: ObjectRead): ObjectRead {
  for (const [type, value] of read.read.values) {
    const bytes: unknown = value;
    if (bytes instanceof Uint8Array && !Buffer.isBuffer(bytes)) read.read.values.set(type, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  }
  return read;
}
