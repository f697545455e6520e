// The partition policy in force, as the main process reads it (the partition's signed record, the
// terminal's copy, or the defaults), with who enforces it. Changes go through the policy-set
// ceremony (stores/quorum.ts), never through here.
import { create } from 'zustand';
import type { ErrorData } from '../../shared/errors';
import type { PolicyView } from '../../shared/types';
import { api } from '../api';

interface PolicyState {
  view: PolicyView | null;
  error: ErrorData | null;
  load(): Promise<void>;
}

export const usePolicy = create<PolicyState>((set) => ({
  view: null,
  error: null,
  async load() {
    const result = await api.policy.show();
    set(result.ok ? { view: result.value, error: null } : { view: null, error: result.error });
  },
}));
