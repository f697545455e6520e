// PKCS#11 modules are process-wide: C_Initialize and C_Finalize act on the library, not on one
// caller. Every user in this process shares one Pkcs11Module per library file, counted, and the
// library is finalised when the last user lets go.
import { realpathSync } from 'node:fs';
import { Pkcs11Module } from './module';

const loaded = new Map<string, { module: Pkcs11Module; users: number }>();

function keyOf(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path; // Pkcs11Module.open reports a missing file in officers' words
  }
}

export function acquireModule(path: string): Pkcs11Module {
  const key = keyOf(path);
  const entry = loaded.get(key);
  if (entry) {
    entry.users++;
    return entry.module;
  }
  const module = Pkcs11Module.open(path);
  loaded.set(key, { module, users: 1 });
  return module;
}

export function releaseModule(module: Pkcs11Module): void {
  for (const [key, entry] of loaded) {
    if (entry.module !== module) continue;
    if (--entry.users === 0) {
      loaded.delete(key);
      module.close();
    }
    return;
  }
}

/** True when nobody else in this process holds the module, so a rescan ends no one else's sessions. */
export function isSoleUser(module: Pkcs11Module): boolean {
  return [...loaded.values()].find((e) => e.module === module)?.users === 1;
}
