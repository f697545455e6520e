// The scripted ceremony open in the Ceremonies section, as the main process pushes it, and the
// scripts the terminal offers (on the media, and the shipped examples). The crypto officer's PIN
// typed for a step's login or the transcript's signature goes straight to the main process.
import { create } from 'zustand';
import type { ErrorData } from '../../shared/errors';
import type { ScriptFileView, ScriptRunView } from '../../shared/script-run';
import { api } from '../api';

type Act = 'begin' | 'step' | 'cancel' | 'finish';

interface ScriptState {
  files: ScriptFileView[];
  view: ScriptRunView | null;
  /** A refusal of the last request, shown where it was made. */
  error: ErrorData | null;
  busy: boolean;
  load(): Promise<void>;
  open(path: string, practice: boolean): Promise<void>;
  act(what: Act): Promise<boolean>;
  /** The crypto officer logs in (the PIN goes to the main process, nowhere else), then the run goes on. */
  loginAnd(pin: string, then: 'step' | 'finish'): Promise<void>;
  confirm(by: string): Promise<void>;
  exception(text: string, by: string): Promise<boolean>;
  close(): Promise<void>;
}

export const useScript = create<ScriptState>((set, get) => {
  const run = async (call: () => Promise<{ ok: true; value: ScriptRunView } | { ok: false; error: ErrorData }>): Promise<boolean> => {
    set({ busy: true });
    const result = await call();
    set(result.ok ? { view: result.value, error: null, busy: false } : { error: result.error, busy: false });
    return result.ok;
  };
  const id = (): string => get().view?.id ?? '';
  return {
    files: [],
    view: null,
    error: null,
    busy: false,

    async load() {
      const [files, current] = await Promise.all([api.script.list(), api.script.current()]);
      set({ files: files.ok ? files.value : [], view: current.ok ? current.value : get().view, error: files.ok ? get().error : files.error });
    },

    async open(path, practice) {
      await run(() => api.script.open({ path, practice }));
    },

    act: (what) => run(() => api.script[what]({ id: id() })),

    async loginAnd(pin, then) {
      set({ busy: true });
      // Already logged in (the step before left the crypto officer's session open): no second login.
      const current = await api.hsm.current();
      if (current.ok && current.value?.token.loggedIn) {
        await run(() => api.script[then]({ id: id() }));
        return;
      }
      const login = await api.hsm.login({ pin });
      if (!login.ok) {
        set({ error: login.error, busy: false });
        return;
      }
      await run(() => api.script[then]({ id: id() }));
    },

    async confirm(by) {
      await run(() => api.script.confirm({ id: id(), by }));
    },

    exception: (text, by) => run(() => api.script.exception({ id: id(), text, by })),

    async close() {
      const result = await api.script.close({ id: id() });
      set(result.ok ? { view: null, error: null } : { error: result.error });
      void get().load();
    },
  };
});

api.on.scriptChanged((view) => useScript.setState({ view }));
