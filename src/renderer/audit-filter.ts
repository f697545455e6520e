// Filtering the audit entries shown: by officer, action, outcome and period, and a search over
// everything a row shows (words and codes). Pure functions over the entries loaded, unit-tested.
import { actionInWords, detailsInWords, outcomeInWords } from '../shared/audit-words';
import type { AuditEntryView, AuditOutcome } from '../shared/types';

export interface AuditFilter {
  /** A holder's name, or '' for every entry. */
  officer: string;
  /** An action code, or '' for every action. */
  action: string;
  outcome: AuditOutcome | '';
  /** Days in the officer's time zone, YYYY-MM-DD, both included; '' for no bound. */
  from: string;
  until: string;
  /** Words that must all appear in the row (any case). */
  text: string;
}

export const noFilter: AuditFilter = { officer: '', action: '', outcome: '', from: '', until: '', text: '' };

/** Whether any filter is set. */
export function filtering(filter: AuditFilter): boolean {
  return Object.values(filter).some((v) => v.trim() !== '');
}

/** The day of an ISO 8601 time in the local time zone, as YYYY-MM-DD. */
export function localDay(time: string): string {
  const d = new Date(time);
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())}`;
}

/** Everything a row shows, in words and codes, lower-cased: what the search looks in. */
function haystack(e: AuditEntryView): string {
  const officers = e.officers.map((o) => `${o.holder} ${o.card ?? ''}`).join(' ');
  const details = detailsInWords(e)
    .map((l) => `${l.name} ${l.value}`)
    .join(' ');
  return `${e.seq} ${e.time} ${actionInWords(e.action)} ${e.action} ${outcomeInWords(e)} ${e.outcome} ${e.target} ${e.actor} ${officers} ${details}`.toLocaleLowerCase();
}

/** The entries that pass every filter set, in the order given. */
export function filterAudit(entries: readonly AuditEntryView[], filter: AuditFilter): AuditEntryView[] {
  const words = filter.text.toLocaleLowerCase().split(/\s+/).filter(Boolean);
  const officer = filter.officer.toLocaleLowerCase();
  return entries.filter((e) => {
    if (officer && !e.officers.some((o) => o.holder.toLocaleLowerCase() === officer)) return false;
    if (filter.action && e.action !== filter.action) return false;
    if (filter.outcome && e.outcome !== filter.outcome) return false;
    if (filter.from || filter.until) {
      const day = localDay(e.time);
      if (filter.from && day < filter.from) return false;
      if (filter.until && day > filter.until) return false;
    }
    if (words.length === 0) return true;
    const text = haystack(e);
    return words.every((w) => text.includes(w));
  });
}

/** The choices of the officer and action filters: the holders and actions the loaded entries name, sorted by their words. */
export function filterChoices(entries: readonly AuditEntryView[]): { officers: string[]; actions: { code: string; words: string }[] } {
  const officers = new Map<string, string>();
  const actions = new Map<string, string>();
  for (const e of entries) {
    for (const o of e.officers) if (!officers.has(o.holder.toLocaleLowerCase())) officers.set(o.holder.toLocaleLowerCase(), o.holder);
    actions.set(e.action, actionInWords(e.action));
  }
  const collator = new Intl.Collator(undefined, { sensitivity: 'base' });
  return {
    officers: [...officers.values()].sort(collator.compare),
    actions: [...actions.entries()].map(([code, words]) => ({ code, words })).sort((a, b) => collator.compare(a.words, b.words)),
  };
}
