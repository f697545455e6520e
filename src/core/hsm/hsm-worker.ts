// The HSM worker thread: long PKCS#11 loops (the inventory of a 10,000-object partition) and long
// single calls (a search of such a partition: SoftHSM2 matches every object in C_FindObjectsInit) run here,
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
  kind: 'list';
  id: number;
  modulePath: string;
  slot: Uint8Array;
  token: TokenSummary;
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

/** Objects come in batches, so that receiving 10,000 of them never stalls the main thread. */
export type JobResult =
  | { id: number; batch: ObjectSummary[] }
  | { id: number; ok: true; count: number }
  | { id: number; ok: true; handles: Uint8Array[] }
  | { id: number; ok: false; error: ReturnType<typeof toErrorData> };

const modules = new Map<string, Pkcs11Module>();

async function run(job: ListJob | FindJob): Promise<JobResult> {
  let module = modules.get(job.modulePath);
  if (!module) {
    module = Pkcs11Module.attach(job.modulePath);
    modules.set(job.modulePath, module);
  }
  const session = module.openSession(Buffer.from(job.slot));
  try {
    if (job.kind === 'find') {
      const template = job.template.map(({ type, value }) => ({ type, value: value instanceof Uint8Array ? Buffer.from(value) : value }));
      return { id: job.id, ok: true, handles: session.findAll(template).map((h) => new Uint8Array(h)) };
    }
    const objects = await listObjects(session, job.token, (batch) => parentPort?.postMessage({ id: job.id, batch } satisfies JobResult));
    return { id: job.id, ok: true, count: objects.length };
  } finally {
    session.close();
  }
}

parentPort?.on('message', (job: ListJob | FindJob) => {
  run(job).then(
    (result) => parentPort?.postMessage(result),
    (error: unknown) => parentPort?.postMessage({ id: job.id, ok: false, error: toErrorData(toHsmError(error)) } satisfies JobResult),
  );
});
