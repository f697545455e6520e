import { create } from 'zustand';

export const sections = ['partition', 'keys', 'cards', 'backup', 'credentials', 'policy', 'ceremonies', 'audit'] as const;
export type Section = (typeof sections)[number];

export const sectionTitles: Record<Section, string> = {
  partition: 'Partition',
  keys: 'Keys',
  cards: 'Cards',
  backup: 'Backup',
  credentials: 'Credentials',
  policy: 'Policy',
  ceremonies: 'Ceremonies',
  audit: 'Audit',
};

interface NavigationState {
  section: Section;
  go(section: Section): void;
}

export const useNavigation = create<NavigationState>((set) => ({
  section: 'partition',
  go: (section) => set({ section }),
}));
