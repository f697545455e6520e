// The main thread's side of the HSM worker (hsm-worker.ts): one worker per terminal, started on
// first use, one job at a time in order.
import { Worker } from 'node:worker_threads';
import type { ObjectSummary, TokenSummary } from '../../shared/types';
import { TesseraError } from '../errors';
import type { FindJob, JobResult, ListJob, SearchTemplate, WrapJob, WrappedBatch } from './hsm-worker';
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
  private readonly pending = new Map<number, { objects: ObjectSummary[]; wrapped?(batch: WrappedBatch): void; done(result: Extract<JobResult, { ok: true }>, objects: ObjectSummary[]): void; reject(error: Error): void }>();

  private start(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(workerUrl());
    worker.on('message', (result: JobResult) => {
      const job = this.pending.get(result.id);
      if (!job) return;
      if ('batch' in result) {
        job.objects.push(...result.batch);
        return;
      }
      if ('wrapped' in result) {
        job.wrapped?.(result.wrapped);
        return;
      }
      this.pending.delete(result.id);
      if (!result.ok) job.reject(result.at === undefined ? new TesseraError(result.error.code, result.error.message, result.error.detail) : new KeyNotWrapped(result.at, result.error.code, result.error.message, result.error.detail));
      else job.done(result, job.objects);
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
      (id) => ({ kind: 'list', id, modulePath, slot: new Uint8Array(slot), token: { label: token.label, labelHex: token.labelHex, serial: token.serial, manufacturer: token.manufacturer, model: token.model } }),
      (result, objects, resolve, reject) => {
        if (!('count' in result)) reject(new TesseraError('INTERNAL', 'The HSM worker answered a listing with something else.'));
        else if (result.count !== objects.length) reject(new TesseraError('INTERNAL', 'The inventory arrived incomplete. Refresh the list.', `${objects.length} of ${result.count}`));
        else resolve(objects);
      },
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

  private submit<T>(job: (id: number) => ListJob | FindJob | WrapJob, done: (result: Extract<JobResult, { ok: true }>, objects: ObjectSummary[], resolve: (value: T) => void, reject: (error: Error) => void) => void, wrapped?: (batch: WrappedBatch) => void): Promise<T> {
    const worker = this.start();
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { objects: [], ...(wrapped ? { wrapped } : {}), done: (result, objects) => done(result, objects, resolve, reject), reject });
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
