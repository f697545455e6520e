// The audit log as officers read it, newest first, and the result of its last verification.
import { create } from 'zustand';
import type { ErrorData } from '../../shared/errors';
import type { AuditEntryView, AuditExportReport, AuditVerification, MediaView } from '../../shared/types';
import { api } from '../api';

const PAGE = 200;

interface AuditState {
  entries: AuditEntryView[];
  more: boolean;
  verification: AuditVerification | null;
  error: ErrorData | null;
  /** Why the last acknowledgement of an alarm was refused. */
  acknowledgeError: ErrorData | null;
  load(): Promise<void>;
  loadOlder(): Promise<void>;
  verify(): Promise<void>;
  /**
   * Sends the crypto-officer PIN once to acknowledge the audit alarm; the caller clears its field.
   * `finalTry`: the officer confirmed using the partition's last try (the core refuses it untried without).
   */
  acknowledge(pin: string, finalTry?: boolean): Promise<boolean>;
  /** The media an export can go to (removable drives and the lab's stand-in). */
  media: MediaView[];
  exported: AuditExportReport | null;
  exportError: ErrorData | null;
  exporting: boolean;
  loadMedia(): Promise<void>;
  exportTo(media: string, since: 'last-export' | string | null, until: string | null): Promise<void>;
}

export const useAudit = create<AuditState>((set, get) => ({
  entries: [],
  more: false,
  verification: null,
  error: null,
  acknowledgeError: null,
  media: [],
  exported: null,
  exportError: null,
  exporting: false,

  async loadMedia() {
    const result = await api.backup.media();
    set({ media: result.ok ? result.value : [] });
  },

  async exportTo(media, since, until) {
    set({ exporting: true, exportError: null });
    const result = await api.audit.export({ media, since, until });
    set(result.ok ? { exported: result.value, exporting: false } : { exportError: result.error, exporting: false, exported: null });
    if (result.ok) await get().load();
  },

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

  async acknowledge(pin, finalTry = false) {
    const result = await api.audit.acknowledge(finalTry ? { pin, finalTry: true } : { pin });
    set({ acknowledgeError: result.ok ? null : result.error });
    if (result.ok) await get().load();
    return result.ok;
  },
}));
