// The probe's own process (started by module-probe.ts, never imported by the terminal): loads one
// PKCS#11 module, asks it the harmless questions (C_Initialize, C_GetInfo, C_GetSlotList,
// C_Finalize) and prints one line of JSON. If the library crashes or hangs, only this process goes.
import { toErrorData } from '../errors';
import { moduleStartError } from './module-start';
import type { ProbeAnswer } from './module-probe';
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

const path = process.argv[2];
const answer: ProbeAnswer = path ? probe(path) : { ok: false, error: { code: 'INTERNAL', message: 'The module probe was started without a module.' } };
process.stdout.write(`${JSON.stringify(answer)}\n`);
