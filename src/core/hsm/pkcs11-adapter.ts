// The only file that imports pkcs11js. It loads a module, and turns the binding's errors into
// `Pkcs11Failure` (function + CK_RV) so the rest of core never depends on the binding's classes.
import { createRequire } from 'node:module';
import type pkcs11js from 'pkcs11js';

export type { Handle, Template, Attribute, TokenInfo, SlotInfo, ModuleInfo as Pkcs11ModuleInfo, MechanismInfo } from 'pkcs11js';
export type Pkcs11 = pkcs11js.PKCS11;

/** A PKCS#11 function returned an error code. */
export class Pkcs11Failure extends Error {
  constructor(
    readonly fn: string,
    readonly rv: number,
    readonly rvName: string,
  ) {
    super(`${fn}: ${rvName} (0x${rv.toString(16).toUpperCase()})`);
    this.name = 'Pkcs11Failure';
  }
}

/** The binding rejected the module file itself (dlopen failed, no C_GetFunctionList, ...). */
export class ModuleLoadFailure extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'ModuleLoadFailure';
  }
}

/** PKCS#11 3.0 names the binding does not carry yet. */
const newerNames: Record<string, number> = {
  CKM_EC_EDWARDS_KEY_PAIR_GEN: 0x1055,
  CKM_EC_MONTGOMERY_KEY_PAIR_GEN: 0x1056,
  CKM_EDDSA: 0x1057,
  CKK_EC_EDWARDS: 0x40,
  CKK_EC_MONTGOMERY: 0x41,
};

/**
 * The binding, loaded when a module is first loaded or a constant first named: loading it loads
 * its native addon (tens of ms), and a command's first steps (its options, the module's checks,
 * starting the module's probe in its own process) need none of it.
 */
let loaded: typeof pkcs11js | null = null;
function binding(): typeof pkcs11js {
  return (loaded ??= createRequire(import.meta.url)('pkcs11js') as typeof pkcs11js);
}

let namesByPrefix: Map<string, Map<number, string>> | null = null;

/** The standard name of a constant, e.g. nameOf('CKM', 0x210a) === 'CKM_AES_KEY_WRAP_PAD'. */
export function nameOf(prefix: 'CKM' | 'CKR' | 'CKA' | 'CKK' | 'CKO', value: number): string {
  if (!namesByPrefix) {
    // One pass over the binding's constants for every prefix (the first name given a value wins).
    namesByPrefix = new Map();
    for (const source of [newerNames, binding() as unknown as Record<string, unknown>]) {
      for (const [key, v] of Object.entries(source)) {
        const cut = key.indexOf('_');
        if (typeof v !== 'number' || cut < 0) continue;
        const group = key.slice(0, cut);
        let names = namesByPrefix.get(group);
        if (!names) namesByPrefix.set(group, (names = new Map()));
        if (!names.has(v)) names.set(v, key);
      }
    }
  }
  return namesByPrefix.get(prefix)?.get(value) ?? `${prefix}_0x${value.toString(16).toUpperCase()}`;
}

/** Recognises the binding's PKCS#11 error (a CK_RV from the module). */
export function asPkcs11Failure(error: unknown, fallbackFn = 'PKCS#11'): Pkcs11Failure | null {
  if (error instanceof Pkcs11Failure) return error;
  // Only a loaded binding throws its errors.
  if (loaded && error instanceof loaded.Pkcs11Error) {
    const rv = Number((error as { code?: number }).code ?? 0);
    const fn = (error as { method?: string }).method || fallbackFn;
    return new Pkcs11Failure(fn, rv, nameOf('CKR', rv));
  }
  return null;
}

/** Runs one binding call; PKCS#11 errors come out as Pkcs11Failure, other errors unchanged. */
export function pkcs11Call<T>(fn: string, call: () => T): T {
  try {
    return call();
  } catch (error) {
    throw asPkcs11Failure(error, fn) ?? error;
  }
}

export async function pkcs11CallAsync<T>(fn: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw asPkcs11Failure(error, fn) ?? error;
  }
}

const CKF_OS_LOCKING_OK = 0x2;

/** dlopen()s the module and calls C_Initialize with OS locking (async calls run on other threads). */
export function loadLibrary(path: string): Pkcs11 {
  const lib = new (binding().PKCS11)();
  try {
    lib.load(path);
  } catch (error) {
    throw new ModuleLoadFailure(error instanceof Error ? error.message : String(error));
  }
  try {
    pkcs11Call('C_Initialize', () => lib.C_Initialize({ flags: CKF_OS_LOCKING_OK }));
  } catch (error) {
    const failure = asPkcs11Failure(error, 'C_Initialize');
    // Another part of this process initialised the module already: that is fine.
    if (failure?.rvName !== 'CKR_CRYPTOKI_ALREADY_INITIALIZED') {
      try {
        lib.close();
      } catch {
        // the module is unusable either way; report the first error
      }
      throw error;
    }
  }
  return lib;
}

/**
 * Binds to a module that another thread of this process has initialised (the HSM worker): the
 * library and its sessions are process-wide. Such a binding never calls C_Finalize.
 */
export function attachLibrary(path: string): Pkcs11 {
  return loadLibrary(path);
}

/** C_Finalize then C_Initialize: the module forgets every session and looks at its tokens anew. */
export function reinitialiseLibrary(lib: Pkcs11): void {
  pkcs11Call('C_Finalize', () => lib.C_Finalize());
  pkcs11Call('C_Initialize', () => lib.C_Initialize({ flags: CKF_OS_LOCKING_OK }));
}

export function unloadLibrary(lib: Pkcs11): void {
  try {
    lib.C_Finalize();
  } finally {
    lib.close();
  }
}
