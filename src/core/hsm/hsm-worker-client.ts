// The main thread's side of the HSM worker (hsm-worker.ts): one worker per terminal, started on
// first use, one job at a time in order.
import { Worker } from 'node:worker_threads';
import type { ObjectSummary, TokenSummary } from '../../shared/types';
import { TesseraError } from '../errors';
import type { JobResult, ListJob } from './hsm-worker';
import type { Handle } from './pkcs11-adapter';

/** Built, the worker is out/main/hsm-worker.js beside the bundle; from source, it is loaded through tsx. */
function workerUrl(): URL {
  const fromSource = import.meta.url.endsWith('.ts');
  return new URL(fromSource ? './hsm-worker-source.mjs' : './hsm-worker.js', import.meta.url);
}

export class HsmWorker {
  private worker: Worker | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, { objects: ObjectSummary[]; resolve(objects: ObjectSummary[]): void; reject(error: Error): void }>();

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
      else if (result.count !== job.objects.length) job.reject(new TesseraError('INTERNAL', 'The inventory arrived incomplete. Refresh the list.', `${job.objects.length} of ${result.count}`));
      else job.resolve(job.objects);
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
    const worker = this.start();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { objects: [], resolve, reject });
      worker.ref();
      worker.postMessage({ id, modulePath, slot: new Uint8Array(slot), token: { label: token.label, labelHex: token.labelHex, serial: token.serial, manufacturer: token.manufacturer, model: token.model } } satisfies ListJob);
    }).finally(() => {
      if (this.pending.size === 0) this.worker?.unref();
    }) as Promise<ObjectSummary[]>;
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
