// The probe's own process (started by module-probe.ts, never imported by the terminal): loads one
// PKCS#11 module, asks it the harmless questions (C_Initialize, C_GetInfo, C_GetSlotList,
// C_Finalize) and prints one line of JSON. If the library crashes or hangs, only this process goes.
// `module-probe PATH` probes PATH; `module-probe --standby` waits for a StandbyRequest (JSON) on its
// standard input and probes that module in the environment given, or ends quietly when the input
// ends empty (the terminal needed no probe).
import { readFileSync } from 'node:fs';
import { toErrorData } from '../errors';
import { moduleStartError } from './module-start';
import type { ProbeAnswer, StandbyRequest } from './module-probe';
import { loadLibrary, pkcs11Call, unloadLibrary } from './pkcs11-adapter';
import { unpad, version } from './token-info';

function probe(path: string): ProbeAnswer {
  try {
    const lib = loadLibrary(path);
    try {
      const info = pkcs11Call('C_GetInfo', () => lib.C_GetInfo());
      const slots = pkcs11Call('C_GetSlotList', () => lib.C_GetSlotList(false)).length;
      const tokens = pkcs11Call('C_GetSlotList', () => lib.C_GetSlotList(true)).length;
      return {
        ok: true,
        probe: {
          description: unpad(info.libraryDescription),
          manufacturer: unpad(info.manufacturerID),
          libraryVersion: version(info.libraryVersion),
          cryptokiVersion: version(info.cryptokiVersion),
          slots,
          tokens,
        },
      };
    } finally {
      unloadLibrary(lib);
    }
  } catch (error) {
    return { ok: false, error: toErrorData(moduleStartError(path, error)) };
  }
}

/** The module a standby probe is asked for, its environment set as the terminal's is now; null when no module is asked. */
function standbyRequest(): string | null {
  const text = readFileSync(0, 'utf8').trim();
  if (!text) return null;
  const request = JSON.parse(text) as StandbyRequest;
  for (const name of Object.keys(process.env)) if (!Object.hasOwn(request.env, name)) Reflect.deleteProperty(process.env, name);
  Object.assign(process.env, request.env);
  return request.path;
}

const path = process.argv[2] === '--standby' ? standbyRequest() : (process.argv[2] ?? '');
if (path !== null) {
  const answer: ProbeAnswer = path ? probe(path) : { ok: false, error: { code: 'INTERNAL', message: 'The module probe was started without a module.' } };
  process.stdout.write(`${JSON.stringify(answer)}\n`);
}
