// The partition being administered: the module's tokens, the chosen partition's status, the
// crypto-officer login. Holds snapshots only; the PIN never enters this store.
import { create } from 'zustand';
import type { ErrorData } from '../../shared/errors';
import type { AppInfo, ModuleListView, PartitionChoice, PartitionView } from '../../shared/types';
import { api } from '../api';

interface PartitionState {
  app: AppInfo | null;
  /** The modules officers may choose from (the administrator's list, the lab's module). */
  modules: ModuleListView | null;
  /** The chosen module's path: always one from `modules`, never typed in. */
  modulePath: string;
  choice: PartitionChoice | null;
  view: PartitionView | null;
  busy: boolean;
  error: ErrorData | null;
  loginError: ErrorData | null;
  start(): Promise<void>;
  setModulePath(path: string): void;
  openModule(): Promise<void>;
  select(serial: string): Promise<void>;
  refresh(): Promise<void>;
  /**
   * Sends the PIN once; the caller clears its input field. `finalTry`: the officer acknowledged
   * that the partition has one try left (without it the terminal refuses to try).
   */
  login(pin: string, finalTry?: boolean): Promise<boolean>;
  logout(): Promise<void>;
}

export const usePartition = create<PartitionState>((set, get) => ({
  app: null,
  modules: null,
  modulePath: '',
  choice: null,
  view: null,
  busy: false,
  error: null,
  loginError: null,

  async start() {
    const [info, modules] = await Promise.all([api.app.info(), api.hsm.modules()]);
    if (info.ok) set({ app: info.value, modulePath: get().modulePath || info.value.lab?.modulePath || '' });
    set(modules.ok ? { modules: modules.value } : { error: modules.error });
    await get().refresh();
  },

  setModulePath(modulePath) {
    // The partitions shown belong to the module opened before: they go with the change of module.
    set({ modulePath, choice: null });
  },

  async openModule() {
    set({ busy: true, error: null, choice: null });
    const result = await api.hsm.openModule({ modulePath: get().modulePath.trim() });
    set(result.ok ? { busy: false, choice: result.value } : { busy: false, choice: null, error: result.error });
  },

  async select(serial) {
    set({ busy: true, error: null });
    const result = await api.hsm.select({ modulePath: get().modulePath.trim(), serial });
    set(result.ok ? { busy: false, view: result.value, choice: null, loginError: null } : { busy: false, error: result.error });
  },

  async refresh() {
    set({ busy: true });
    const result = await api.hsm.current();
    if (!result.ok) {
      set({ busy: false, view: null, error: result.error });
      return;
    }
    set({ busy: false, view: result.value, error: null, modulePath: result.value?.token.module.path ?? get().modulePath });
  },

  async login(pin, finalTry = false) {
    set({ busy: true, loginError: null });
    const result = await api.hsm.login(finalTry ? { pin, finalTry: true } : { pin });
    if (result.ok) {
      set({ busy: false, view: result.value });
      return true;
    }
    // A refused or wrong PIN may change what the partition says about the tries left: show it.
    const now = await api.hsm.current();
    set(now.ok && now.value ? { busy: false, view: now.value, loginError: result.error } : { busy: false, loginError: result.error });
    return false;
  },

  async logout() {
    set({ busy: true });
    const result = await api.hsm.logout();
    set(result.ok ? { busy: false, view: result.value } : { busy: false, error: result.error });
    // The partitions listed were not read afresh because of this login: now they can be.
    if (result.ok && get().choice?.notRescanned) await get().openModule();
  },
}));

api.on.hsmPartitionChanged((view) => {
  usePartition.setState(
    view
      ? { view }
      : { view: null, error: { code: 'TOKEN_REMOVED', message: 'The partition is no longer available. Check the HSM connection and choose the partition again.' } },
  );
});
