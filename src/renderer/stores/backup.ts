// The Backup section's facts: the partition's backup key set, the media, the backups on the chosen
// medium (each verified without cards by the main process). Nothing secret passes through here.
import { create } from 'zustand';
import type { ErrorData } from '../../shared/errors';
import type { BackupFileView, BackupSetView, MediaView } from '../../shared/types';
import { api } from '../api';

interface BackupState {
  set: BackupSetView | null;
  media: MediaView[];
  chosen: string | null;
  files: BackupFileView[];
  error: ErrorData | null;
  load(): Promise<void>;
  /** The backup key set alone (the Credentials section needs no media). */
  loadSet(): Promise<void>;
  choose(media: string): Promise<void>;
}

export const useBackup = create<BackupState>((set, get) => ({
  set: null,
  media: [],
  chosen: null,
  files: [],
  error: null,

  async load() {
    const [backupSet, media] = await Promise.all([api.backup.set(), api.backup.media()]);
    const list = media.ok ? media.value : [];
    const chosen = list.some((m) => m.path === get().chosen) ? get().chosen : (list[0]?.path ?? null);
    set({ set: backupSet.ok ? backupSet.value : null, media: list, chosen, error: backupSet.ok ? (media.ok ? null : media.error) : backupSet.error });
    if (chosen) await get().choose(chosen);
    else set({ files: [] });
  },

  async loadSet() {
    const backupSet = await api.backup.set();
    set(backupSet.ok ? { set: backupSet.value } : { set: null, error: backupSet.error });
  },

  async choose(media) {
    const files = await api.backup.files({ media });
    set(files.ok ? { chosen: media, files: files.value } : { chosen: media, files: [], error: files.error });
  },
}));
