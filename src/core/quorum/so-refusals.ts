// The SO logins of this terminal that the HSM refused and no officer has acknowledged yet. Decided
// from the audit log, whose keyed chain someone with only the database file cannot edit without it
// showing (an SO login first checks the chain: ceremony/so-login.ts), and from the terminal's own
// count, which is only a hint: deleting its row must not lift the hold.
import type { AuditLog } from '../audit/audit-log';
import type { CardSetStore } from './card-set-store';

/** Refused logins since the last acknowledgement (or successful SO login) on the partition, newest first. */
export interface SoRefusals {
  count: number;
  /** The last refusal in words: "<time>, cards of <holders>: <error>", or null when only the count knows of it. */
  last: string | null;
}

/**
 * Counts the HSM's refusals of this terminal's SO logins on `token` that no acknowledgement
 * (`so.login.acknowledged`) or successful SO login has answered since.
 */
export function soRefusals(audit: AuditLog, store: CardSetStore, token: { label: string; serial: string }): SoRefusals {
  // By serial: a partition's label may change, its serial does not.
  const target = `(serial ${token.serial})`;
  let count = 0;
  let last: string | null = null;
  for (const e of audit.list(5000)) {
    if (!e.target.endsWith(target)) continue;
    if (e.action === 'so.login.acknowledged' || (e.action === 'so.login' && e.outcome === 'ok')) break;
    // The one probe after an SO PIN change interrupted inside C_SetPIN is explained where it is recorded.
    // Only the HSM's refusals, as the SO login records them (with the terminal's count): a card that
    // refused its holder's PIN fails the ceremony before anything is sent to the HSM.
    if (e.action === 'so.login' && e.outcome === 'failed' && e.details.error === 'PIN_INCORRECT' && typeof e.details.terminalFailureCount === 'number' && !e.details.probe) {
      count++;
      last ??= `${e.time}, cards of ${String(e.details.holders ?? 'unknown holders')}: ${String(e.details.error)}`;
    }
  }
  return { count: Math.max(count, store.soFailures(token.serial)), last };
}
