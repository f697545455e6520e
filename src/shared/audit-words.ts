// The audit log in officers' words: what each action code means ("Security officers logged in" for
// `so.login`), each outcome with its reason ("Wrong card PIN", "Refused: invalid request"), detail
// names and values (yes/no/none, never true/false/null). The codes stay in the entry: the view
// shows them under the details, for support and auditors. Shared so the GUI and the CLI say the same.
import type { ErrorCode } from './errors';
import type { AuditEntryView, AuditOutcome } from './types';

/** Action codes the core writes (grep `action:` in src/core), in words. */
const actions: Record<string, string> = {
  'audit.acknowledge': 'Audit alarm acknowledged',
  'audit.export': 'Audit log exported',
  'audit.seal': 'Audit log sealed by the partition',
  'backup.create': 'Backup written',
  'backup.list': 'Backup contents read',
  'backup.recover': 'Interrupted backup cleaned up',
  'backup.restore': 'Backup restored',
  'backup.restore.recover': 'Interrupted restore finished',
  'backup.restore.start': 'Restore started',
  'backup.start': 'Backup started',
  'backupset.create': 'Backup key set created',
  'backupset.create.recover': 'Interrupted backup key set finished',
  'backupset.create.start': 'Backup key set creation started',
  'backupset.roll-call': 'Roll call of the backup key set',
  'backupset.rotate': 'Backup key set re-split',
  'backupset.rotate.recover': 'Interrupted backup key set re-split finished',
  'backupset.rotate.start': 'Backup key set re-split started',
  'backupset.vouched': 'Backup key set confirmed by fingerprint',
  'card.change-pin': 'Card PIN changed',
  'card.check': 'Card checked',
  'card.pin': 'Card PIN typed',
  'card.pin.blocked': 'Card PIN blocked',
  'card.reset': 'Card made blank again',
  'cardset.enrol': 'SO card set enrolled',
  'cardset.enrol.recover': 'Interrupted enrolment finished',
  'cardset.enrol.start': 'SO card set enrolment started',
  'cardset.roll-call': 'Roll call of the SO card set',
  'cardset.rotate': 'SO credential rotated',
  'cardset.rotate.recover': 'Interrupted SO rotation finished',
  'cardset.rotate.set-pin': 'SO PIN changed for the new card set',
  'cardset.rotate.start': 'SO credential rotation started',
  'ceremony.cancelled': 'Scripted ceremony cancelled',
  'ceremony.exception': 'Exception recorded in a scripted ceremony',
  'ceremony.interrupted': 'Scripted ceremony interrupted',
  'ceremony.script.start': 'Scripted ceremony started',
  'ceremony.step': 'Scripted ceremony step done',
  'ceremony.transcript': 'Ceremony transcript written',
  'co-pin.reset': "Crypto officer's PIN reset",
  'key.destroy': 'Keys destroyed',
  'key.destroy.recover': 'Interrupted key destruction finished',
  'key.invalidate': 'Key invalidated',
  'key.reactivate': 'Key reactivated',
  'key.reactivate.recover': 'Interrupted key reactivation finished',
  'module.refused': 'PKCS#11 module refused',
  'partition.login': 'Crypto officer logged in',
  'partition.logout': 'Crypto officer logged out',
  'partition.selected': 'Partition chosen',
  'policy.set': 'Partition policy changed',
  'policy.set.recover': 'Interrupted policy change finished',
  'so.login': 'Security officers logged in',
  'so.login.acknowledged': 'Refused SO login acknowledged',
  'so.logout': 'Security officers logged out',
};

/** Every error code in words, after "Refused: " or "Failed: " (shared/errors.ts). */
const errors: Record<ErrorCode, string> = {
  INVALID_REQUEST: 'invalid request',
  FORBIDDEN_SENDER: 'request from outside the app',
  UNKNOWN_CHANNEL: 'unknown request',
  MODULE_NOT_FOUND: 'PKCS#11 module not found',
  MODULE_INVALID: 'not a usable PKCS#11 module',
  MODULE_NOT_ALLOWED: 'PKCS#11 module not allowed',
  TOKEN_NOT_FOUND: 'partition not found',
  TOKEN_NOT_SELECTED: 'no partition chosen',
  TOKEN_REMOVED: 'partition removed',
  PIN_INCORRECT: 'wrong PIN',
  PIN_LOCKED: 'PIN locked',
  PIN_FINAL_TRY: 'not tried: one PIN try left',
  PIN_INVALID: 'PIN not valid',
  NOT_LOGGED_IN: 'not logged in',
  OBJECT_NOT_FOUND: 'key not found',
  HSM_ERROR: 'HSM error',
  CARD_SERVICE_UNAVAILABLE: 'card service unavailable',
  READER_NOT_FOUND: 'card reader not found',
  CARD_ABSENT: 'no card in the reader',
  CARD_REMOVED: 'card taken out',
  CARD_ERROR: 'card problem',
  CARD_TIMEOUT: 'card did not answer',
  KEYCHAIN_UNAVAILABLE: 'keychain unavailable',
  AUDIT_UNAVAILABLE: 'audit log unavailable',
  AUDIT_ALARM: 'audit log alarm',
  STORE_ERROR: 'database error',
  BACKUP_INVALID: 'backup not valid',
  MEDIA_ERROR: 'USB stick problem',
  POLICY_REFUSED: 'not allowed by the partition policy',
  SCRIPT_INVALID: 'ceremony script not valid',
  INTERNAL: 'internal error',
};

/** Detail names that camelCase does not turn into good words by itself. */
const detailNames: Record<string, string> = {
  triesLeft: 'tries left',
  terminalFailureCount: 'refused logins counted by this terminal',
  headSeq: 'head entry',
  previousHeadSeq: 'previous head entry',
  previousHeadMac: 'previous head MAC',
  m: 'cards needed',
  n: 'cards in the set',
  backupId: 'backup',
  approvedBy: 'approved by',
  approverCards: "approvers' cards",
  stillWritten: 'still written',
  partialRemoved: 'partial file removed',
  sha256: 'SHA-256',
};

const outcomes: Record<AuditOutcome, string> = { ok: 'Done', failed: 'Failed', refused: 'Refused' };

/** The outcome codes and their words, in the order the view offers them. */
export const auditOutcomes: { code: AuditOutcome; words: string }[] = (Object.keys(outcomes) as AuditOutcome[]).map((code) => ({ code, words: outcomes[code] }));

/** "so.login" -> "Security officers logged in"; an action this table does not know is spelled out from its code ("test step"). */
export function actionInWords(action: string): string {
  const known = actions[action];
  if (known) return known;
  const words = action.replace(/[._-]+/g, ' ').trim();
  return words === '' ? 'Unnamed action' : words.charAt(0).toUpperCase() + words.slice(1);
}

/** An error code in words ("invalid request"); `cancelled` (a ceremony stopped by its officers) too; an unknown code as it is. */
export function errorInWords(code: string): string {
  if (code === 'cancelled') return 'cancelled by the officers';
  return (errors as Record<string, string>)[code] ?? code;
}

/**
 * An entry's outcome in words: "Done", "Failed: wrong PIN", "Refused: invalid request"; a card PIN
 * the card refused is "Wrong card PIN" (and says when the card is now blocked).
 */
export function outcomeInWords(entry: Pick<AuditEntryView, 'action' | 'outcome' | 'details'>): string {
  if (entry.action === 'card.pin' && entry.outcome === 'refused') return entry.details.blocked === true ? 'Wrong card PIN: the card is now blocked' : 'Wrong card PIN';
  if (entry.action === 'card.pin.blocked' && entry.outcome === 'refused') return 'Refused: the card PIN is blocked';
  const error = entry.details.error;
  if (entry.outcome !== 'ok' && error === 'cancelled') return 'Cancelled';
  const words = outcomes[entry.outcome] ?? String(entry.outcome);
  return entry.outcome !== 'ok' && typeof error === 'string' && error !== '' ? `${words}: ${errorInWords(error)}` : words;
}

/** A detail's name in words: "triesLeft" -> "tries left". */
export function detailNameInWords(key: string): string {
  return detailNames[key] ?? key.replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase();
}

/** A detail's value in words: yes / no / none for true / false / null or empty, numbers and text as they are. */
export function valueInWords(value: string | number | boolean | null): string {
  if (value === null || value === '') return 'none';
  if (value === true) return 'yes';
  if (value === false) return 'no';
  return String(value);
}

/** Details the "Who" column shows already (core/audit/officers.ts reads them). */
const shownAsWho = new Set(['holder', 'card', 'holders', 'cards', 'approvedBy', 'approvers', 'approverCards']);

/** One line of an entry's details: its name and value in words; `code` marks a machine code (action, error). */
export interface DetailLine {
  name: string;
  value: string;
  code: boolean;
}

/**
 * An entry's details as lines in words, the machine codes last: the action's code, then the error
 * code when there is one. Holders and cards are left to the "Who" column.
 */
export function detailsInWords(entry: Pick<AuditEntryView, 'action' | 'details'>): DetailLine[] {
  const lines: DetailLine[] = [];
  for (const [key, value] of Object.entries(entry.details)) {
    if (shownAsWho.has(key) || key === 'error') continue;
    lines.push({ name: detailNameInWords(key), value: valueInWords(value), code: false });
  }
  lines.push({ name: 'code', value: entry.action, code: true });
  const error = entry.details.error;
  if (typeof error === 'string' && error !== '') lines.push({ name: 'error code', value: error, code: true });
  return lines;
}
