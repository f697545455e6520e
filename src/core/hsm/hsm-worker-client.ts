// The main thread's side of the HSM worker (hsm-worker.ts): one worker per terminal, started on
// first use, one job at a time in order.
import { Worker } from 'node:worker_threads';
import type { ObjectSummary, TokenSummary } from '../../shared/types';
import { TesseraError } from '../errors';
import type { FindJob, JobResult, ListJob, SearchTemplate } from './hsm-worker';
import type { Handle } from './pkcs11-adapter';

/** Built, the worker is out/main/hsm-worker.js beside the bundle; from source, it is loaded through tsx. */
function workerUrl(): URL {
  const fromSource = import.meta.url.endsWith('.ts');
  return new URL(fromSource ? './hsm-worker-source.mjs' : './hsm-worker.js', import.meta.url);
}

export class HsmWorker {
  private worker: Worker | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, { objects: ObjectSummary[]; done(result: Extract<JobResult, { ok: true }>, objects: ObjectSummary[]): void; reject(error: Error): void }>();

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
      this.pending.delete(result.id);
      if (!result.ok) job.reject(new TesseraError(result.error.code, result.error.message, result.error.detail));
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

  private submit<T>(job: (id: number) => ListJob | FindJob, done: (result: Extract<JobResult, { ok: true }>, objects: ObjectSummary[], resolve: (value: T) => void, reject: (error: Error) => void) => void): Promise<T> {
    const worker = this.start();
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { objects: [], done: (result, objects) => done(result, objects, resolve, reject), reject });
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
