// Errors that a later success made untrue go away with it: a "Login needed" refusal, shown where it
// was asked for (a ceremony, a restore, a listing), no longer holds once the crypto officer or the
// security officers have logged in. Each store keeps its own errors; this module only watches the
// logins and clears the refusals they answer, so no store needs to know the others.
import type { ErrorData } from '../../shared/errors';
import { useAudit } from './audit';
import { useBackup } from './backup';
import { useInventory } from './inventory';
import { usePartition } from './partition';
import { usePolicy } from './policy';
import { useQuorum } from './quorum';
import { useScript } from './script';
import { useTrashBin } from './trashBin';

/** A zustand store as far as this module uses it: read the state, set some of it. */
interface ErrorHolder {
  getState(): object;
  setState(change: Record<string, null>): void;
}

const holders: ErrorHolder[] = [useAudit, useBackup, useInventory, usePartition, usePolicy, useQuorum, useScript, useTrashBin];

function isError(value: unknown): value is ErrorData {
  return typeof value === 'object' && value !== null && 'code' in value && 'message' in value;
}

/** Sets to null, in every store, each error that says a login is needed (code NOT_LOGGED_IN). */
export function clearLoginNeeded(): void {
  for (const store of holders) {
    const stale = Object.entries(store.getState()).filter(([, value]) => isError(value) && value.code === 'NOT_LOGGED_IN');
    if (stale.length > 0) store.setState(Object.fromEntries(stale.map(([key]) => [key, null])));
  }
}

/**
 * Clears the "Login needed" errors whenever a login starts: the crypto officer's (the partition's
 * view says logged in) or the security officers' (the SO session becomes active). Call once.
 * Returns the unsubscribe function.
 */
export function watchLogins(): () => void {
  const offPartition = usePartition.subscribe((now, before) => {
    if (now.view?.token.loggedIn && !before.view?.token.loggedIn) clearLoginNeeded();
  });
  const offQuorum = useQuorum.subscribe((now, before) => {
    if (now.so?.active && !before.so?.active) clearLoginNeeded();
  });
  return () => {
    offPartition();
    offQuorum();
  };
}
