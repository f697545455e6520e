// Card sets, the running ceremony and the SO session, as snapshots pushed by the main process.
// PINs pass through `answerPin` straight to the main process and are never kept here.
import { create } from 'zustand';
import type { ErrorData } from '../../shared/errors';
import type { CardSetView, CeremonyView, SoSessionView } from '../../shared/types';
import type { RequestOf } from '../../shared/contract';
import { api } from '../api';

type Start = RequestOf<'ceremony:start'>;

interface QuorumState {
  cardSet: CardSetView | null;
  ceremony: CeremonyView | null;
  so: SoSessionView | null;
  error: ErrorData | null;
  load(): Promise<void>;
  start(request: Start): Promise<void>;
  answerPin(pin: string, repeat?: string): Promise<boolean>;
  confirm(): Promise<void>;
  /** Restore: which backup entries (all when null), and which conflicts to replace. */
  choose(only: number[] | null, replace: number[]): Promise<void>;
  cancel(): Promise<void>;
  dismiss(): void;
  logoutSo(): Promise<void>;
  setIdle(minutes: number): Promise<void>;
}

export const useQuorum = create<QuorumState>((set, get) => {
  const input = async (payload: RequestOf<'ceremony:input'>['input']): Promise<boolean> => {
    const ceremony = get().ceremony;
    if (!ceremony) return false;
    const result = await api.ceremony.input({ id: ceremony.id, seq: ceremony.prompt.seq, input: payload });
    set(result.ok ? { ceremony: result.value, error: null } : { error: result.error });
    return result.ok;
  };
  return {
    cardSet: null,
    ceremony: null,
    so: null,
    error: null,

    async load() {
      const [cardSet, ceremony, so] = await Promise.all([api.cards.set(), api.ceremony.current(), api.so.session()]);
      set({
        cardSet: cardSet.ok ? cardSet.value : null,
        // A finished ceremony stays on screen (with its result) until the officers close it.
        ceremony: ceremony.ok && ceremony.value ? ceremony.value : get().ceremony,
        so: so.ok ? so.value : null,
        error: cardSet.ok ? null : cardSet.error,
      });
    },

    async start(request) {
      const result = await api.ceremony.start(request);
      set(result.ok ? { ceremony: result.value, error: null } : { error: result.error });
    },

    answerPin: (pin, repeat) => input(repeat === undefined ? { kind: 'pin', pin } : { kind: 'pin', pin, repeat }),
    confirm: async () => void (await input({ kind: 'confirm' })),
    choose: async (only, replace) => void (await input({ kind: 'choose', only, replace })),
    cancel: async () => void (await input({ kind: 'cancel' })),

    dismiss() {
      set({ ceremony: null, error: null });
      void get().load();
    },

    async logoutSo() {
      const result = await api.so.logout();
      set(result.ok ? { so: result.value } : { error: result.error });
    },

    async setIdle(minutes) {
      const result = await api.so.setIdle({ minutes });
      set(result.ok ? { so: result.value } : { error: result.error });
    },
  };
});

api.on.ceremonyChanged((ceremony) => {
  useQuorum.setState({ ceremony });
  if (['done', 'failed', 'cancelled'].includes(ceremony.prompt.kind)) void useQuorum.getState().load();
});
api.on.soChanged((so) => useQuorum.setState({ so }));
