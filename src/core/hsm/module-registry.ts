// PKCS#11 modules are process-wide: C_Initialize and C_Finalize act on the library, not on one
// caller. Every user in this process shares one Pkcs11Module per library file, counted, and the
// library is finalised when the last user lets go. A rescan (finalise + initialise, so that
// partitions created since are seen) ends every session of the module, so it happens only when
// every user agrees, and each user is told to reopen its sessions.
import { realpathSync } from 'node:fs';
import { Pkcs11Module } from './module';

/** What a user of a module answers when another wants to rescan it. */
export interface ModuleUser {
  /** False while the user holds a login or has work under way on the module. */
  canRescan(module: Pkcs11Module): boolean;
  /** The module's sessions are gone; reopen on next use. */
  rescanned(module: Pkcs11Module): void;
}

interface Entry {
  module: Pkcs11Module;
  users: Map<ModuleUser, number>;
}

const loaded = new Map<string, Entry>();

function keyOf(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path; // Pkcs11Module.open reports a missing file in officers' words
  }
}

/** Whether this process has the library loaded already (then it was probed when first loaded). */
export function isLoaded(path: string): boolean {
  return loaded.has(keyOf(path));
}

export function acquireModule(path: string, user: ModuleUser): Pkcs11Module {
  const key = keyOf(path);
  let entry = loaded.get(key);
  if (!entry) {
    entry = { module: Pkcs11Module.open(path), users: new Map() };
    loaded.set(key, entry);
  }
  entry.users.set(user, (entry.users.get(user) ?? 0) + 1);
  return entry.module;
}

export function releaseModule(module: Pkcs11Module, user: ModuleUser): void {
  for (const [key, entry] of loaded) {
    if (entry.module !== module) continue;
    const count = (entry.users.get(user) ?? 0) - 1;
    if (count > 0) entry.users.set(user, count);
    else entry.users.delete(user);
    if (entry.users.size === 0) {
      loaded.delete(key);
      module.close();
    }
    return;
  }
}

/** Rescans the module's partitions if every user of it in this process agrees; true if done. */
export function rescanModule(module: Pkcs11Module): boolean {
  const entry = [...loaded.values()].find((e) => e.module === module);
  if (!entry || ![...entry.users.keys()].every((u) => u.canRescan(module))) return false;
  for (const user of entry.users.keys()) user.rescanned(module);
  module.rescan();
  return true;
}
