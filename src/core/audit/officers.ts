// Who acted, as an entry's details name the officers: their holders' names and the serials of the
// cards that were read. Read from the details the writers already record (holders + cards,
// approvedBy + approverCards, approvers + approverCards, holder + card, proved "holder=card"), so
// entries written before this reader existed show their officers too. The entry's hash and mac
// cover the details, not this reading of them.
import type { AuditEntryView, AuditOfficer } from '../../shared/types';

type Details = AuditEntryView['details'];

/** "alice, bob" -> ["alice", "bob"]; anything not a non-empty string -> []. */
function list(value: Details[string] | undefined): string[] {
  return typeof value === 'string' && value.trim() !== '' ? value.split(',').map((s) => s.trim()).filter(Boolean) : [];
}

/** Holders paired with cards by position (writers record both in share order); a card missing from the list is null. */
function paired(holders: string[], cards: string[]): AuditOfficer[] {
  return holders.map((holder, i) => ({ holder, card: holders.length === cards.length ? (cards[i] ?? null) : null }));
}

/**
 * The officers an entry's details name, each once (the first pairing that names a holder wins),
 * in the order the details give them.
 * @param details an audit entry's details (plain scalars)
 * @returns holders with their card serials (null when the entry names no card for them); [] when none
 */
export function officersOf(details: Details): AuditOfficer[] {
  const found: AuditOfficer[] = [];
  const add = (officer: AuditOfficer): void => {
    const known = found.find((o) => o.holder === officer.holder);
    if (!known) found.push(officer);
    else if (!known.card && officer.card) known.card = officer.card;
  };
  for (const pair of list(details.proved)) {
    const at = pair.lastIndexOf('=');
    if (at > 0) add({ holder: pair.slice(0, at), card: pair.slice(at + 1) || null });
  }
  if (typeof details.holder === 'string' && details.holder !== '') add({ holder: details.holder, card: typeof details.card === 'string' && details.card !== '' ? details.card : null });
  for (const o of paired(list(details.holders), list(details.cards))) add(o);
  const approvers = list(details.approvedBy).length > 0 ? list(details.approvedBy) : list(details.approvers);
  for (const o of paired(approvers, list(details.approverCards))) add(o);
  return found;
}
