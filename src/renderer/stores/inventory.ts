// The key inventory: the objects of the chosen partition, the filter and sort the officer chose
// (applied in the view, which also knows the trash bin: inventory-filter.ts), and the object whose
// details are open.
import { create } from 'zustand';
import type { ErrorData } from '../../shared/errors';
import type { ObjectDetails, ObjectSummary } from '../../shared/types';
import { api } from '../api';
import type { Filter, Sort, SortKey } from '../inventory-filter';

interface InventoryState {
  objects: ObjectSummary[];
  loading: boolean;
  loaded: boolean;
  error: ErrorData | null;
  filter: Filter;
  sort: Sort;
  details: ObjectDetails | null;
  detailsError: ErrorData | null;
  load(): Promise<void>;
  setFilter(filter: Partial<Filter>): void;
  sortBy(key: SortKey): void;
  /** Opens the details of the object with this ref (ObjectSummary.ref). */
  open(ref: string): Promise<void>;
  close(): void;
}

export const useInventory = create<InventoryState>((set, get) => {
  return {
    objects: [],
    loading: false,
    loaded: false,
    error: null,
    filter: { text: '', objectClass: 'all' },
    sort: { key: 'label', descending: false },
    details: null,
    detailsError: null,

    async load() {
      set({ loading: true, error: null });
      const result = await api.keys.list();
      if (!result.ok) {
        set({ loading: false, loaded: false, objects: [], error: result.error });
        return;
      }
      set({ loading: false, loaded: true, objects: result.value });
    },

    setFilter(change) {
      const filter = { ...get().filter, ...change };
      set({ filter });
    },

    sortBy(key) {
      const current = get().sort;
      const sort = { key, descending: current.key === key ? !current.descending : false };
      set({ sort });
    },

    async open(ref) {
      set({ detailsError: null });
      const result = await api.keys.details({ ref });
      set(result.ok ? { details: result.value } : { details: null, detailsError: result.error });
    },

    close() {
      set({ details: null, detailsError: null });
    },
  };
});
