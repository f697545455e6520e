// The main thread's side of the HSM worker (hsm-worker.ts): one worker per terminal, started on
// first use, one job at a time in order.
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

export class HsmWorker {
  private worker: Worker | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, { objects: ObjectSummary[]; listing?: Listing; wrapped?(batch: WrappedBatch): void; done(result: Extract<JobResult, { ok: true }>, objects: ObjectSummary[]): void; reject(error: Error): void }>();

  private start(): Worker {
    if (this.worker) return this.worker;
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
      this.worker = null;
      this.fail(new Error('the HSM worker stopped'));
    });
    worker.unref();
    this.worker = worker;
    return worker;
  }

  private fail(error: Error): void {
    for (const job of this.pending.values()) job.reject(new TesseraError('INTERNAL', 'The terminal\'s HSM worker stopped. Try again.', error.name));
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
   * C_WrapKey of each of `keys` (handle, and output room in bytes) in order under `wrappingKey` with
   * `mechanism`, on the worker's own session on `slot`, which shares the application's login and
   * sees its session objects (the backup's wrap key is one). Yields the wrapped keys in order, in
   * batches, as the worker makes them: the caller works on one batch while the worker wraps the
   * next; the worker stays a few batches ahead of the batches taken, no more (WrapJob). Leaving the
   * loop early (break, return, throw) stops the worker after the key in hand and waits until it has
   * stopped (so the wrapping key can then be destroyed).
   * @throws KeyNotWrapped when the HSM refuses keys[index] (code and detail as C_WrapKey's CKR_* maps);
   *   TesseraError INTERNAL when the worker stopped or answered short
   */
  async *wrapKeys(modulePath: string, slot: Handle, mechanism: number, wrappingKey: Handle, keys: { handle: Handle; room: number }[]): AsyncGenerator<Buffer[], void, undefined> {
    // [0] stop, [1] batches taken (see WrapJob): the worker stays a few batches ahead at most.
    const control = new Int32Array(new SharedArrayBuffer(8));
    const queue: Buffer[][] = [];
    let wake: (() => void) | null = null;
    // Set by the callbacks below (a type assertion, so the checks in the loop are not narrowed away).
    let outcome = null as { error: unknown } | null;
    let arrived = 0;
    let received = 0;
    const job = this.submit<number>(
      (id) => ({ kind: 'wrap', id, modulePath, slot: new Uint8Array(slot), mechanism, wrappingKey: new Uint8Array(wrappingKey), keys: keys.map((k) => ({ handle: new Uint8Array(k.handle), room: k.room })), control: control.buffer as SharedArrayBuffer }) satisfies WrapJob,
      (result, _objects, resolve, reject) => {
        if (!('count' in result)) reject(new TesseraError('INTERNAL', 'The HSM worker answered a wrap loop with something else.'));
        else resolve(result.count);
      },
      (batch) => {
        if (batch.first !== arrived) outcome ??= { error: new TesseraError('INTERNAL', 'The HSM worker sent wrapped keys out of order.', `${batch.first}, expected ${arrived}`) };
        arrived += batch.ends.length;
        // Views on the one transferred buffer: no copy per key.
        const buffer = Buffer.from(batch.bytes.buffer, batch.bytes.byteOffset, batch.bytes.byteLength);
        queue.push(batch.ends.map((end, i) => buffer.subarray(i === 0 ? 0 : (batch.ends[i - 1] as number), end)));
        wake?.();
      },
    ).then(
      (count) => {
        outcome ??= { error: count === arrived ? null : new TesseraError('INTERNAL', 'The HSM worker sent fewer wrapped keys than it reported.', `${arrived} of ${count}`) };
        wake?.();
      },
      (error: unknown) => {
        outcome ??= { error };
        wake?.();
      },
    );
    try {
      for (;;) {
        const batch = outcome?.error ? undefined : queue.shift();
        if (batch) {
          Atomics.add(control, 1, 1);
          Atomics.notify(control, 1);
          received += batch.length;
          yield batch;
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
      Atomics.store(control, 0, 1);
      Atomics.notify(control, 1);
      await job;
    }
  }

  private submit<T>(job: (id: number) => ListJob | FindJob | WrapJob, done: (result: Extract<JobResult, { ok: true }>, objects: ObjectSummary[], resolve: (value: T) => void, reject: (error: Error) => void) => void, wrapped?: (batch: WrappedBatch) => void, listing?: (id: number, reject: (error: Error) => void) => Listing): Promise<T> {
    const worker = this.start();
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { objects: [], ...(wrapped ? { wrapped } : {}), ...(listing ? { listing: listing(id, reject) } : {}), done: (result, objects) => done(result, objects, resolve, reject), reject });
      worker.ref();
      worker.postMessage(job(id));
    }).finally(() => {
      if (this.pending.size === 0) this.worker?.unref();
    });
  }

  /** Whether a job is running (a module must not be finalised under it). */
  get busy(): boolean {
    return this.pending.size > 0;
  }

  async stop(): Promise<void> {
    const worker = this.worker;
    this.worker = null;
    if (worker) await worker.terminate();
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
