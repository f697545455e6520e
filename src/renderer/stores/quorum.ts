// Card sets, the running ceremony and the SO session, as snapshots pushed by the main process.
// PINs pass through `answerPin` straight to the main process and are never kept here. The newest
// view of a ceremony wins (by its prompt's sequence number): an answer's reply may arrive after a
// newer view that core pushed meanwhile. What officers typed into forms (holders, threshold) is kept
// here as drafts, so a refusal or a change of section loses nothing.
import { create } from 'zustand';
import type { ErrorData } from '../../shared/errors';
import type { CardSetView, CeremonyView, SoSessionView } from '../../shared/types';
import type { RequestOf } from '../../shared/contract';
import { api } from '../api';

type Start = RequestOf<'ceremony:start'>;

/** A card set's holders and threshold as typed (not secret). */
export interface HoldersDraft {
  holders: string[];
  threshold: number;
}

interface QuorumState {
  cardSet: CardSetView | null;
  ceremony: CeremonyView | null;
  so: SoSessionView | null;
  /** A refusal of the last request (start or answer), shown where it was made. */
  error: ErrorData | null;
  drafts: Record<string, HoldersDraft>;
  /** The SO session end the officers have seen (its time), so it is announced once. */
  soEndSeen: string | null;
  load(): Promise<void>;
  start(request: Start): Promise<boolean>;
  answerPin(pin: string, repeat?: string): Promise<boolean>;
  confirm(): Promise<void>;
  /** A backup set's fingerprint, as typed from its enrolment record. */
  answerFingerprint(fingerprint: string): Promise<void>;
  /** Restore: which backup entries (all when null), and which conflicts to replace. */
  choose(only: number[] | null, replace: number[]): Promise<void>;
  cancel(): Promise<void>;
  dismiss(): void;
  logoutSo(): Promise<void>;
  setIdle(minutes: number): Promise<void>;
  setDraft(id: string, draft: HoldersDraft): void;
  seeSoEnd(): void;
}

/** Why no SO login may be tried now (the HSM refused one and no officer acknowledged it yet), or null. */
export function soLoginHold(cardSet: CardSetView | null): string | null {
  return cardSet && cardSet.refusedLogins > 0 ? 'The HSM refused an SO login from this terminal. No SO login is tried again until an officer has found out why and acknowledges it.' : null;
}

/** The newer of two views of the same ceremony; a view of another ceremony replaces the old one. */
export function newest(current: CeremonyView | null, incoming: CeremonyView): CeremonyView {
  if (!current || current.id !== incoming.id) return incoming;
  return incoming.prompt.seq >= current.prompt.seq ? incoming : current;
}

export const useQuorum = create<QuorumState>((set, get) => {
  const input = async (payload: RequestOf<'ceremony:input'>['input']): Promise<boolean> => {
    const ceremony = get().ceremony;
    if (!ceremony) return false;
    const result = await api.ceremony.input({ id: ceremony.id, seq: ceremony.prompt.seq, input: payload });
    if (result.ok) {
      set({ ceremony: newest(get().ceremony, result.value), error: null });
      return true;
    }
    set({ error: result.error });
    // The ceremony may have moved on meanwhile: show what it asks now.
    const now = await api.ceremony.current();
    if (now.ok && now.value) set({ ceremony: newest(get().ceremony, now.value) });
    return false;
  };
  return {
    cardSet: null,
    ceremony: null,
    so: null,
    error: null,
    drafts: {},
    soEndSeen: null,

    async load() {
      const [cardSet, ceremony, so] = await Promise.all([api.cards.set(), api.ceremony.current(), api.so.session()]);
      const current = get().ceremony;
      set({
        cardSet: cardSet.ok ? cardSet.value : null,
        // A finished ceremony stays on screen (with its result) until the officers close it.
        ceremony: ceremony.ok && ceremony.value ? newest(current, ceremony.value) : current,
        so: so.ok ? so.value : null,
        error: cardSet.ok ? get().error : cardSet.error,
      });
    },

    async start(request) {
      const result = await api.ceremony.start(request);
      // Core may have pushed the ceremony's next views (its briefing) before this reply arrives.
      set(result.ok ? { ceremony: newest(get().ceremony, result.value), error: null } : { error: result.error });
      return result.ok;
    },

    answerPin: (pin, repeat) => input(repeat === undefined ? { kind: 'pin', pin } : { kind: 'pin', pin, repeat }),
    confirm: async () => void (await input({ kind: 'confirm' })),
    answerFingerprint: async (fingerprint) => void (await input({ kind: 'fingerprint', fingerprint })),
    choose: async (only, replace) => void (await input({ kind: 'choose', only, replace })),
    cancel: async () => void (await input({ kind: 'cancel' })),

    dismiss() {
      set({ ceremony: null, error: null });
      void get().load();
    },

    async logoutSo() {
      const result = await api.so.logout();
      set(result.ok ? { so: result.value, soEndSeen: result.value.lastEnd?.at ?? null } : { error: result.error });
    },

    async setIdle(minutes) {
      const result = await api.so.setIdle({ minutes });
      set(result.ok ? { so: result.value } : { error: result.error });
    },

    setDraft(id, draft) {
      set({ drafts: { ...get().drafts, [id]: draft } });
    },

    seeSoEnd() {
      set({ soEndSeen: get().so?.lastEnd?.at ?? null });
    },
  };
});

api.on.ceremonyChanged((ceremony) => {
  useQuorum.setState({ ceremony: newest(useQuorum.getState().ceremony, ceremony) });
  if (['done', 'failed', 'cancelled'].includes(ceremony.prompt.kind)) void useQuorum.getState().load();
});
api.on.soChanged((so) => useQuorum.setState({ so }));
