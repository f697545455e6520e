// The trash bin of the chosen partition (invalidated keys, with what they were) and the Keys
// section's tab. Without the crypto officer the main process answers from this terminal's records
// only; with it, from the partition's bin too, each key's state checked.
import { create } from 'zustand';
import type { ErrorData } from '../../shared/errors';
import type { InvalidatedKeyView } from '../../shared/types';
import { api } from '../api';

export type KeysTab = 'objects' | 'bin';

interface TrashBinState {
  keys: InvalidatedKeyView[];
  loaded: boolean;
  error: ErrorData | null;
  tab: KeysTab;
  /** Why the last delete was refused (shown where it was asked for). */
  deleteError: ErrorData | null;
  /** The key the last delete invalidated. */
  invalidated: InvalidatedKeyView | null;
  load(): Promise<void>;
  show(tab: KeysTab): void;
  /** "Delete" under key invalidation: the key is invalidated and goes into the bin. */
  invalidate(id: string): Promise<boolean>;
  clearDelete(): void;
}

export const useTrashBin = create<TrashBinState>((set, get) => ({
  keys: [],
  loaded: false,
  error: null,
  tab: 'objects',
  deleteError: null,
  invalidated: null,

  async load() {
    const result = await api.keys.invalidated();
    set(result.ok ? { keys: result.value, loaded: true, error: null } : { keys: [], loaded: false, error: result.error });
  },

  show(tab) {
    set({ tab });
  },

  async invalidate(id) {
    set({ deleteError: null, invalidated: null });
    const result = await api.keys.invalidate({ id });
    set(result.ok ? { invalidated: result.value } : { deleteError: result.error });
    await get().load();
    return result.ok;
  },

  clearDelete() {
    set({ deleteError: null, invalidated: null });
  },
}));

/** Whether the key with this CKA_ID is in the bin, invalidated (or, without the crypto officer, recorded so). */
export function inBin(keys: InvalidatedKeyView[], id: string): InvalidatedKeyView | null {
  if (!id) return null;
  return keys.find((k) => k.id === id && (k.state === 'invalidated' || k.state === 'not-checked')) ?? null;
}
