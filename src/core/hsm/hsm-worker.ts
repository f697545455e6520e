// The HSM worker thread: long PKCS#11 loops (the inventory of a 10,000-object partition, a
// backup's C_WrapKey of thousands of keys) and long single calls (a search of such a partition: SoftHSM2 matches every object in C_FindObjectsInit) run here,
// so the main thread, and with it the window, never stalls on them. PKCS#11 modules, slots, sessions
// and logins are process-wide: the worker binds to the module the main thread opened and opens its
// own session on the same slot, which shares the main thread's login.
import { getPriority, setPriority } from 'node:os';
import { parentPort } from 'node:worker_threads';
import { toErrorData } from '../errors';
import { toHsmError } from './hsm-errors';
import { type ObjectRead, streamReads } from './inventory';
import { Pkcs11Module } from './module';
import type { Session } from './session';

/** The listing's reads of every object on `slot` (streamReads), sent back in batches as they are made. */
export interface ListJob {
  kind: 'list';
  id: number;
  modulePath: string;
  slot: Uint8Array;
}

/** A search template as it crosses to the worker (byte values arrive as Uint8Array). */
export type SearchTemplate = { type: number; value: number | boolean | string | Uint8Array }[];

/** C_FindObjectsInit/C_FindObjects/C_FindObjectsFinal (PKCS#11 v2.40 §5.7) with `template`, on the worker's session. */
export interface FindJob {
  kind: 'find';
  id: number;
  modulePath: string;
  slot: Uint8Array;
  template: SearchTemplate;
}

/**
 * C_WrapKey (PKCS#11 v2.40 §5.13) of each of `keys` in order, under `wrappingKey` with `mechanism`,
 * on this worker's session: one lane of a backup's wrap loop, run here while the main thread seals
 * and writes (HsmWorker.wrapKeys deals the keys to several lanes, each a worker with its own session,
 * and puts the wrapped keys back in order). The wrapping key is a handle only (a session object the
 * main thread made is visible to every session of the process); no key bytes cross. `room` is the
 * output buffer per key, in bytes; `index` the key's place in the whole loop (a batch is a run of
 * consecutive indexes). `control` (three Int32s, shared with the main thread): [0] `stop`, set to
 * end the loop after the key in hand; [1] `taken`, the batches of this lane the main thread has
 * taken so far; [2] `limit`, the lane wraps no key whose index is at or past it (lowered when
 * another lane's key is refused, so that the first key refused in the loop's order is the one
 * named, as one session would name it). The lane stays at most WRAP_BATCH.ahead batches ahead of `taken`, so
 * a slow medium never piles the whole backup up in memory.
 */
export interface WrapJob {
  kind: 'wrap';
  id: number;
  modulePath: string;
  slot: Uint8Array;
  mechanism: number;
  wrappingKey: Uint8Array;
  keys: { handle: Uint8Array; room: number; index: number }[];
  control: SharedArrayBuffer;
}

/**
 * The wrapped keys of indexes `first`, `first + 1`, ... (WrapJob's `index`), back to back in `bytes`
 * (its buffer is transferred, not copied); key `first + i` ends at byte `ends[i]`.
 */
export interface WrappedBatch {
  first: number;
  bytes: Uint8Array;
  ends: number[];
}

/**
 * Objects' reads (and wrapped keys) come in batches, so that receiving 10,000 of them never stalls
 * the main thread. A read's byte values arrive as Uint8Array (structured clone), not Buffer.
 */
export type JobResult =
  | { id: number; reads: ObjectRead[] }
  | { id: number; wrapped: WrappedBatch }
  | { id: number; ok: true; count: number }
  | { id: number; ok: true; handles: Uint8Array[] }
  | { id: number; ok: false; error: ReturnType<typeof toErrorData>; /** The `index` of the WrapJob key the HSM refused. */ at?: number };

/**
 * Wrapped keys per batch, the longest a batch is held back (ms): the main thread gets work early
 * and often; and how many batches of one lane may wait for it (per lane at most ~1,000 keys, ~1.5
 * MB of RSA-4096 blobs).
 */
const WRAP_BATCH = { keys: 64, ms: 10, ahead: 16 };

const modules = new Map<string, Pkcs11Module>();

async function run(job: ListJob | FindJob | WrapJob): Promise<JobResult> {
  let module = modules.get(job.modulePath);
  if (!module) {
    module = Pkcs11Module.attach(job.modulePath);
    modules.set(job.modulePath, module);
  }
  const session = module.openSession(Buffer.from(job.slot));
  try {
    if (job.kind === 'wrap') return wrapAll(session, job);
    if (job.kind === 'find') {
      const template = job.template.map(({ type, value }) => ({ type, value: value instanceof Uint8Array ? Buffer.from(value) : value }));
      return { id: job.id, ok: true, handles: session.findAll(template).map((h) => new Uint8Array(h)) };
    }
    const count = await streamReads(session, (reads) => parentPort?.postMessage({ id: job.id, reads } satisfies JobResult));
    return { id: job.id, ok: true, count };
  } finally {
    session.close();
  }
}

/** A WrapJob's loop: the wrapped keys go back in batches as they are made; the count at the end. */
function wrapAll(session: Session, job: WrapJob): JobResult {
  const control = new Int32Array(job.control);
  const STOP = 0;
  const TAKEN = 1;
  const LIMIT = 2;
  let sent = 0;
  const wrappingKey = Buffer.from(job.wrappingKey);
  // One output buffer for every C_WrapKey, and one for the batch being gathered: a fresh zeroed
  // buffer per key (16 KiB for RSA) slowed the loop, the slowest part of a backup.
  const out = Buffer.alloc(job.keys.reduce((room, k) => Math.max(room, k.room), 0));
  let gathered = Buffer.alloc(out.length * WRAP_BATCH.keys);
  let at = 0;
  let ends: number[] = [];
  let first = 0;
  let since = performance.now();
  const send = (): void => {
    const bytes = new Uint8Array(at);
    bytes.set(gathered.subarray(0, at));
    parentPort?.postMessage({ id: job.id, wrapped: { first, bytes, ends } } satisfies JobResult, [bytes.buffer]);
    ends = [];
    at = 0;
    sent++;
    // Wait while the main thread is WRAP_BATCH.ahead batches behind (it notifies as it takes one,
    // and when it stops the loop); the timeout only re-checks.
    for (let taken = Atomics.load(control, TAKEN); sent - taken >= WRAP_BATCH.ahead && Atomics.load(control, STOP) === 0; taken = Atomics.load(control, TAKEN)) {
      Atomics.wait(control, TAKEN, taken, 100);
    }
    since = performance.now();
  };
  let done = 0;
  try {
    for (const key of job.keys) {
      if (Atomics.load(control, STOP) !== 0 || key.index >= Atomics.load(control, LIMIT)) break;
      // A batch holds consecutive keys only: the next lane has the keys in between.
      if (ends.length > 0 && key.index !== first + ends.length) send();
      if (ends.length === 0) first = key.index;
      let blob: Buffer;
      try {
        blob = session.wrapKeyInto(job.mechanism, wrappingKey, Buffer.from(key.handle), out.subarray(0, key.room));
      } catch (error) {
        return { id: job.id, ok: false, error: toErrorData(toHsmError(error)), at: key.index };
      }
      if (at + blob.length > gathered.length) {
        const grown = Buffer.alloc(Math.max(gathered.length * 2, at + blob.length));
        gathered.copy(grown, 0, 0, at);
        gathered.fill(0);
        gathered = grown;
      }
      at += blob.copy(gathered, at);
      ends.push(at);
      done++;
      if (ends.length >= WRAP_BATCH.keys || performance.now() - since >= WRAP_BATCH.ms) send();
    }
    if (ends.length > 0) send();
    return { id: job.id, ok: true, count: done };
  } finally {
    out.fill(0);
    gathered.fill(0);
  }
}

/**
 * How much nicer (POSIX nice value) this thread runs than the main thread: where the HSM worker's
 * threads and the main thread want more CPU than there is (a backup: two wrap lanes, and the main
 * thread sealing and writing, on a two-core workstation), the main thread (the window, the card
 * readers' events) goes first; when it is idle, the lanes have every core. Linux keeps a nice value
 * per thread (setpriority(2) of the calling thread); elsewhere it would apply to the whole process,
 * so it is left alone.
 */
const WORKER_NICENESS = 5;
if (process.platform === 'linux') {
  try {
    setPriority(Math.min(19, getPriority() + WORKER_NICENESS));
  } catch {
    // not allowed here: the worker runs at the main thread's priority
  }
}

parentPort?.on('message', (job: ListJob | FindJob | WrapJob) => {
  run(job).then(
    (result) => parentPort?.postMessage(result),
    (error: unknown) => parentPort?.postMessage({ id: job.id, ok: false, error: toErrorData(toHsmError(error)) } satisfies JobResult),
  );
});
