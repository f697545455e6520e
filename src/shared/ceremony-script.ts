// A ceremony script as the terminal holds it once read: who takes part, what must be there before
// it starts, and its steps in order, each one operation of the terminal or a manual step a named
// person confirms. Officers write it in YAML (docs/ceremonies.md, "Ceremony scripts"); core reads
// and checks it (src/core/record/script.ts), the runner plays it and the GUI shows it.
import type { LoginNeed } from './ceremonies';

/** What a roster officer holds or is: an SO-set card, a backup-set card, the crypto officer's PIN. */
export type OfficerRole = 'so-card' | 'backup-card' | 'crypto-officer';

/** Each role in officers' words (the roster on screen and in the printout). */
export const ROLE_WORDS: Readonly<Record<OfficerRole, string>> = {
  'so-card': 'SO card holder',
  'backup-card': 'backup-set card holder',
  'crypto-officer': 'crypto officer',
};

/** A card set as the script expects to find it on the partition. */
export interface ScriptCardSet {
  /** The holders' names, as enrolled on the cards (each a roster officer with the matching card role). */
  holders: string[];
  /** How many of the holders' cards make a quorum (1..holders.length, at most 16). */
  threshold: number;
  /** The set's fingerprint as written in its enrolment record ("ABCD-EFGH-…"), or null when not pinned. */
  fingerprint: string | null;
}

/** One parsed, checked ceremony script (format version 1). */
export interface CeremonyScript {
  version: 1;
  /** What the ceremony is for, as on the script's cover sheet. */
  title: string;
  /** The production partition the script is for (in practice mode the serial is not held). */
  partition: { label: string; serial: string };
  /**
   * Everyone who takes part. Every name appears once: the administrator runs the terminal,
   * witnesses watch and sign, officers hold cards or the crypto officer's PIN.
   */
  roster: { administrator: string; witnesses: string[]; officers: { name: string; roles: OfficerRole[] }[] };
  /** What the runner checks before the first step; null sets are not checked. */
  preconditions: {
    /** The SO card set. */
    cardSet: ScriptCardSet | null;
    /** The backup key set. */
    backupSet: ScriptCardSet | null;
    /** A USB stick (or the lab's stand-in) must be there. */
    media: boolean;
  };
  /** At least one step, at most 200, in the order they run. */
  steps: ScriptStep[];
}

/** One step of a script: where it stands, who does it, and its operation (`do` and its parameters). */
export type ScriptStep = {
  /** Its 1-based position in the script. */
  n: number;
  /** The 1-based line of its `- do:` item in the YAML, for the transcript and for error messages. */
  line: number;
  /** As written, or the operation's words from SCRIPT_OPERATIONS. */
  title: string;
  /** Roster names of who does it (empty: whoever the operation asks for). */
  by: string[];
  /** What officers should see when it went well, as written; null when not said. */
  expect: string | null;
  /** When the step fails: stop the ceremony (the default), or record the exception and go on. */
  onException: 'stop' | 'continue';
} & ScriptOperation;

/** What a step does: a terminal operation with its parameters, or a manual step. */
export type ScriptOperation =
  | { do: 'so-login' }
  | { do: 'co-login' }
  | { do: 'logout' }
  /** `media`: 'lab' (the lab's stand-in for a stick) or a folder path. */
  | { do: 'backup'; media: string }
  /** `only`: key ids (lowercase hex) to restore, null for all. */
  | { do: 'restore'; file: string; only: string[] | null; onConflict: 'skip' | 'replace' }
  | { do: 'co-pin-reset' }
  /** null holders or threshold: keep the current ones. */
  | { do: 'so-rotate'; holders: string[] | null; threshold: number | null }
  | { do: 'so-replace-card'; holder: string }
  | { do: 'backup-set-rotate'; holders: string[] | null; threshold: number | null; newEscrowKey: boolean }
  | { do: 'backup-replace-card'; holder: string }
  | { do: 'roll-call'; set: 'so' | 'backup' }
  /** Setting names as in src/shared/policy.ts: on/off settings are booleans, approvals.* counts. */
  | { do: 'policy-set'; changes: { name: string; value: boolean | number }[] }
  | { do: 'key-invalidate'; id: string }
  | { do: 'key-reactivate'; id: string }
  | { do: 'key-destroy'; ids: string[] }
  /** `since`: 'last-export' or an ISO 8601 date or date and time, as written; null for the whole log. */
  | { do: 'audit-export'; media: string; since: string | null }
  /** Something a named person does and confirms (seal a bag, put the stick in the safe). */
  | { do: 'manual'; text: string };

export type ScriptOperationName = ScriptOperation['do'];

/**
 * Each operation in officers' words (the default title of its steps) and who must be logged in when
 * it runs (as the ceremony registry says: `crypto-officer`, `nobody`, `any`). The runner logs the
 * crypto officer in with the PIN the officer gives, and ends an SO session before a step that needs
 * the crypto officer.
 */
export const SCRIPT_OPERATIONS: { readonly [K in ScriptOperationName]: { readonly words: string; readonly login: LoginNeed } } = {
  'so-login': { words: 'Security-officer login with a quorum of cards', login: 'nobody' },
  'co-login': { words: 'Crypto-officer login with the PIN the officer types', login: 'nobody' },
  logout: { words: 'Log out of the partition', login: 'any' },
  backup: { words: 'Back up the partition to the media', login: 'crypto-officer' },
  restore: { words: 'Restore a backup into the partition', login: 'crypto-officer' },
  'co-pin-reset': { words: "Reset the crypto officer's PIN with a quorum of SO cards", login: 'nobody' },
  'so-rotate': { words: 'Rotate the SO credential onto a new generation of cards', login: 'nobody' },
  'so-replace-card': { words: 'Replace a lost or compromised SO card', login: 'nobody' },
  'backup-set-rotate': { words: 'Re-split or rotate the backup key set', login: 'crypto-officer' },
  'backup-replace-card': { words: 'Replace a lost or compromised backup-set card', login: 'crypto-officer' },
  'roll-call': { words: 'Roll call: every holder shows their card', login: 'any' },
  'policy-set': { words: 'Change the partition policy', login: 'nobody' },
  'key-invalidate': { words: 'Invalidate a key (to the trash bin)', login: 'crypto-officer' },
  'key-reactivate': { words: 'Reactivate an invalidated key', login: 'crypto-officer' },
  'key-destroy': { words: 'Destroy keys for good', login: 'crypto-officer' },
  'audit-export': { words: 'Export the audit log to the media', login: 'any' },
  manual: { words: 'A step a named person does and confirms', login: 'any' },
};

/** The `do` values, in the order of SCRIPT_OPERATIONS. */
export const SCRIPT_OPERATION_NAMES = Object.keys(SCRIPT_OPERATIONS) as ScriptOperationName[];

/** One thing wrong with a script, where it is (1-based line and column) and in officers' words. */
export interface ScriptProblem {
  line: number;
  column: number;
  /** The field as written, numbers counting from 1 (`steps[3].do`); empty for the whole file. */
  path: string;
  message: string;
}
