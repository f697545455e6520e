// When a section reads its data again: when the partition or its crypto-officer login changes, and
// when the ceremony in the window has ended (its report stays on screen; what it changed is shown).
import { useEffect } from 'react';
import { usePartition } from './partition';
import { useQuorum } from './quorum';

/**
 * Calls each loader (zustand actions: stable references) when the partition or its login changes and
 * no ceremony is under way. Returns whether the last ceremony has ended (true when there is none).
 */
export function useReloadWhenIdle(...loaders: (() => Promise<unknown>)[]): boolean {
  const ceremony = useQuorum((s) => s.ceremony);
  const view = usePartition((s) => s.view);
  const partitionKey = view ? `${view.token.serial}:${view.token.loggedIn}` : null;
  const ended = ceremony ? ['done', 'failed', 'cancelled'].includes(ceremony.prompt.kind) : true;
  const [a, b, c] = loaders;
  useEffect(() => {
    if (partitionKey && ended) for (const load of [a, b, c]) if (load) void load();
  }, [partitionKey, ended, a, b, c]);
  return ended;
}
