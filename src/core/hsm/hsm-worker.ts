// The HSM worker thread: long PKCS#11 loops (the inventory of a 10,000-object partition) run here,
// so the main thread, and with it the window, never stalls on them. PKCS#11 modules, slots, sessions
// and logins are process-wide: the worker binds to the module the main thread opened and opens its
// own session on the same slot, which shares the main thread's login.
import { parentPort } from 'node:worker_threads';
import type { ObjectSummary, TokenSummary } from '../../shared/types';
import { toErrorData } from '../errors';
import { toHsmError } from './hsm-errors';
import { listObjects } from './inventory';
import { Pkcs11Module } from './module';

export interface ListJob {
  id: number;
  modulePath: string;
  slot: Uint8Array;
  token: TokenSummary;
}

/** Objects come in batches, so that receiving 10,000 of them never stalls the main thread. */
export type JobResult =
  | { id: number; batch: ObjectSummary[] }
  | { id: number; ok: true; count: number }
  | { id: number; ok: false; error: ReturnType<typeof toErrorData> };

const modules = new Map<string, Pkcs11Module>();

async function run(job: ListJob): Promise<number> {
  let module = modules.get(job.modulePath);
  if (!module) {
    module = Pkcs11Module.attach(job.modulePath);
    modules.set(job.modulePath, module);
  }
  const session = module.openSession(Buffer.from(job.slot));
  try {
    const objects = await listObjects(session, job.token, (batch) => parentPort?.postMessage({ id: job.id, batch } satisfies JobResult));
    return objects.length;
  } finally {
    session.close();
  }
}

parentPort?.on('message', (job: ListJob) => {
  run(job).then(
    (count) => parentPort?.postMessage({ id: job.id, ok: true, count } satisfies JobResult),
    (error: unknown) => parentPort?.postMessage({ id: job.id, ok: false, error: toErrorData(toHsmError(error)) } satisfies JobResult),
  );
});
