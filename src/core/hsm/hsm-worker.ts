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

export type JobResult = { id: number; ok: true; objects: ObjectSummary[] } | { id: number; ok: false; error: ReturnType<typeof toErrorData> };

const modules = new Map<string, Pkcs11Module>();

async function run(job: ListJob): Promise<ObjectSummary[]> {
  let module = modules.get(job.modulePath);
  if (!module) {
    module = Pkcs11Module.attach(job.modulePath);
    modules.set(job.modulePath, module);
  }
  const session = module.openSession(Buffer.from(job.slot));
  try {
    return await listObjects(session, job.token);
  } finally {
    session.close();
  }
}

parentPort?.on('message', (job: ListJob) => {
  run(job).then(
    (objects) => parentPort?.postMessage({ id: job.id, ok: true, objects } satisfies JobResult),
    (error: unknown) => parentPort?.postMessage({ id: job.id, ok: false, error: toErrorData(toHsmError(error)) } satisfies JobResult),
  );
});
