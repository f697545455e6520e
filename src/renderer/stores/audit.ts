// The audit log as officers read it, newest first, and the result of its last verification.
import { create } from 'zustand';
import type { ErrorData } from '../../shared/errors';
import type { AuditEntryView, AuditVerification } from '../../shared/types';
import { api } from '../api';

const PAGE = 200;

interface AuditState {
  entries: AuditEntryView[];
  more: boolean;
  verification: AuditVerification | null;
  error: ErrorData | null;
  load(): Promise<void>;
  loadOlder(): Promise<void>;
  verify(): Promise<void>;
}

export const useAudit = create<AuditState>((set, get) => ({
  entries: [],
  more: false,
  verification: null,
  error: null,

  async load() {
    const result = await api.audit.list({ limit: PAGE });
    set(result.ok ? { entries: result.value, more: result.value.length === PAGE, error: null } : { error: result.error });
    await get().verify();
  },

  async loadOlder() {
    const oldest = get().entries.at(-1);
    if (!oldest) return;
    const result = await api.audit.list({ limit: PAGE, beforeSeq: oldest.seq });
    if (result.ok) set({ entries: [...get().entries, ...result.value], more: result.value.length === PAGE });
  },

  async verify() {
    const result = await api.audit.verify();
    set(result.ok ? { verification: result.value } : { error: result.error });
  },
}));
