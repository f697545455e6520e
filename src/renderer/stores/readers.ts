// Live card readers and cards, pushed by the main process as they change.
import { create } from 'zustand';
import type { ReadersSnapshot } from '../../shared/types';
import { api } from '../api';

interface ReadersState {
  snapshot: ReadersSnapshot | null;
  load(): Promise<void>;
}

export const useReaders = create<ReadersState>((set) => ({
  snapshot: null,
  async load() {
    const result = await api.cards.readers();
    if (result.ok) set({ snapshot: result.value });
  },
}));

api.on.cardsReadersChanged((snapshot) => useReaders.setState({ snapshot }));
