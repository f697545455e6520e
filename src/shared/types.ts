// Plain data that crosses the IPC boundary. No native handles, no secrets.
import type { PartitionPolicy, PolicyLine } from './policy';
import type { CeremonyKind } from './ceremonies';
import type { ErrorData } from './errors';

export type { CeremonyKind } from './ceremonies';

export interface AppInfo {
  version: string;
  /** Where the terminal keeps its database. */
  home: string;
  /** The training lab the terminal found, if any (lab machines only). */
  lab: { tokenLabel: string; modulePath: string } | null;
}

export interface ModuleInfo {
  path: string;
  manufacturer: string;
  description: string;
  libraryVersion: string;
  cryptokiVersion: string;
}

/** What a module answered when the terminal tried it out in a separate process. */
export interface ModuleProbe {
  description: string;
  manufacturer: string;
  libraryVersion: string;
  cryptokiVersion: string;
  /** Slots the module reports, with or without a token. */
  slots: number;
  /** Slots with a token present. */
  tokens: number;
}

/** A module on the administrator's list (or the training lab's). */
export interface ListedModule {
  name: string;
  path: string;
  source: 'administrator' | 'lab';
  /** Why the terminal refuses it (where it lies, who could change it), or null. */
  refusal: string | null;
}

/** The modules officers may choose from, and what is wrong with the list itself, if anything. */
export interface ModuleListView {
  file: string;
  /** Why the administrator's list is not used (missing, unsafe, unreadable), or null. */
  problem: string | null;
  modules: ListedModule[];
}

/** A partition is always named by label and serial, never by slot number. */
export interface TokenSummary {
  /**
   * CK_TOKEN_INFO label without its blank padding, shown by the rule of `labelText`
   * (src/shared/label-text.ts): the text, or an escaped form (`\xHH`) for control characters.
   */
  label: string;
  /**
   * The label's bytes in hex (padding removed), or null where they are not known exactly: the
   * PKCS#11 binding hands the 32-byte field over as decoded text, and text holding U+FFFD may
   * stand for bytes that were not UTF-8.
   */
  labelHex: string | null;
  serial: string;
  manufacturer: string;
  model: string;
}

export type PinCondition = 'ok' | 'count-low' | 'final-try' | 'locked' | 'to-be-changed' | 'not-initialised';

export interface PinStatus {
  condition: PinCondition;
  /** Officer words, e.g. "Locked: too many wrong PINs". */
  words: string;
}

export interface TokenStatus extends TokenSummary {
  module: ModuleInfo;
  hardwareVersion: string;
  firmwareVersion: string;
  /** Every flag of CK_TOKEN_INFO that is set, in plain words. */
  flags: string[];
  userPin: PinStatus;
  soPin: PinStatus;
  pinLength: { min: number; max: number };
  /** Bytes; null where the token does not report it. */
  memory: { publicTotal: number | null; publicFree: number | null; privateTotal: number | null; privateFree: number | null };
  sessions: { open: number | null; max: number | null; readWriteOpen: number | null; readWriteMax: number | null };
  clock: string | null;
  /** True while this terminal holds a crypto-officer (user) login on the partition. */
  loggedIn: boolean;
}

export interface MechanismView {
  type: number;
  name: string;
  minKeySize: number;
  maxKeySize: number;
  flags: string[];
}

export interface PartitionView {
  token: TokenStatus;
  mechanisms: MechanismView[];
}

export interface PartitionChoice {
  module: ModuleInfo;
  tokens: TokenSummary[];
  /** Slots whose token is not initialised yet: counted, not named. */
  uninitialisedSlots: number;
  /**
   * Why partitions created since the module was loaded may be missing from `tokens`, in officers'
   * words, or null when the list was read afresh. Reading it afresh re-initialises the module
   * (C_Finalize + C_Initialize, PKCS#11 v2.40 §5.4; SoftHSM2 reads its token directory only then),
   * which ends every session and login of the module: it is not done while anyone is logged in or
   * work is under way.
   */
  notRescanned: string | null;
}

export type ObjectClassName = 'private-key' | 'public-key' | 'secret-key' | 'certificate' | 'data' | 'other';

export interface ObjectSummary {
  /** RFC 7512 PKCS#11 URI: stable across runs, unlike handles or slot numbers. Objects may share one. */
  uri: string;
  /**
   * Opens exactly this object (`objects show REF`, `keys:details`), across processes: the URI plus a
   * digest of the object's public attributes and, for exact twins, an ordinal (see `objectRef`).
   */
  ref: string;
  class: ObjectClassName;
  keyType: string | null;
  /**
   * Key size in bits where it applies: RSA modulus bits; EC, Edwards, Montgomery curve bits (P-521:
   * 521, Ed25519: 255, Ed448: 448); DSA prime bits; DES 56, DES2 112, DES3 168 effective bits; other
   * secret keys CKA_VALUE_LEN x 8.
   */
  size: number | null;
  /** The curve of an EC, Edwards or Montgomery key by name (P-256, secp256k1, brainpoolP384r1, Ed25519, X448, ...), else null. */
  curve: string | null;
  /** CKA_LABEL as text, or escaped (`bad-utf8-\xff\xfe`, `nul\x00inside`) by the rule of `labelText`. */
  label: string;
  /** CKA_LABEL's bytes, exactly, in hex. */
  labelHex: string;
  /** CKA_ID in hex. */
  id: string;
  token: boolean | null;
  private: boolean | null;
  sensitive: boolean | null;
  extractable: boolean | null;
  neverExtractable: boolean | null;
  alwaysSensitive: boolean | null;
  local: boolean | null;
  modifiable: boolean | null;
  copyable: boolean | null;
  destroyable: boolean | null;
  /** Usage flags that are set: encrypt, decrypt, sign, verify, wrap, unwrap, derive, ... */
  usage: string[];
  /** CKA_START_DATE as YYYY-MM-DD; a value that is no calendar date as `not a date: "..."`; null when not set. */
  startDate: string | null;
  endDate: string | null;
  checkValue: string | null;
  /**
   * Attributes the token failed to read (any failure but "sensitive" or "not supported"), each by
   * its field name in this listing (e.g. startDate) or its CKA_ name, with the reason in words and
   * the CK_RV name ("the HSM failed to read it: the HSM returned CKR_GENERAL_ERROR"). Their fields are null.
   */
  unreadable: { name: string; reason: string }[];
  /** Certificates: the subject's distinguished name (RFC 4514 order of the DER, ", "-separated); else null. */
  subject: string | null;
  /** Certificates: the issuer's distinguished name; else null. */
  issuer: string | null;
  /** Certificates: the serial number in hex (uppercase, as X.509 tools print it); else null. */
  serialNumber: string | null;
}

export interface AttributeView {
  type: number;
  name: string;
  /** Human-readable value (hex for byte strings). */
  value: string;
}

export interface ObjectDetails {
  summary: ObjectSummary;
  attributes: AttributeView[];
  /** Attributes the token would not give or failed to read, with the reason (e.g. sensitive, or the CKR_ it returned). */
  withheld: { name: string; reason: string }[];
}

export type ReaderCondition = 'empty' | 'card-present' | 'card-in-use' | 'card-mute' | 'unavailable';

export interface ReaderView {
  name: string;
  condition: ReaderCondition;
  /** Answer-to-reset of the card in the reader, hex. */
  atr: string | null;
  /** Counts cards arriving in this reader, so a card swapped for another is seen as a new card. */
  insertion: number;
}

export interface ReadersSnapshot {
  service: 'running' | 'unavailable';
  /** Officer words about the card service, when it is not running. */
  message: string | null;
  readers: ReaderView[];
}

export type AuditOutcome = 'ok' | 'failed' | 'refused';

/** An officer an audit entry names: the holder, and the serial of the card that was read (null when the entry names none). */
export interface AuditOfficer {
  holder: string;
  card: string | null;
}

export interface AuditEntryView {
  seq: number;
  /** ISO 8601, UTC. */
  time: string;
  /** The terminal and its workstation user, e.g. "terminal (workstation user root)". */
  actor: string;
  /** The machine code of the action, e.g. `so.login`, `card.pin` (words: shared/audit-words.ts). */
  action: string;
  target: string;
  outcome: AuditOutcome;
  details: Record<string, string | number | boolean | null>;
  /** The officers whose cards the entry names (from its details: core/audit/officers.ts), in share order; empty when none. */
  officers: AuditOfficer[];
}

/**
 * What is wrong with the audit log. `replaced`: the database holds another log than the one this
 * workstation's keychain knows (deleted, emptied, another terminal's); `truncated`: entries were cut
 * off the end; `anchor-unreadable` / `anchor-missing`: the keychain's record of the log cannot be
 * decoded / is gone while the database has entries; `seal-broken`: a head the partition signed no
 * longer matches the entries it covers, or its signature or key is not the partition's.
 */
export type AuditProblemKind = 'altered' | 'removed' | 'reordered' | 'truncated' | 'key-missing' | 'replaced' | 'anchor-unreadable' | 'anchor-missing' | 'seal-broken';

export interface AuditProblem {
  /** The entry the problem is found at, when there is one. */
  seq: number | null;
  kind: AuditProblemKind;
  message: string;
}

/** The heads of the log signed by a partition's audit key (entries `audit.seal`) that were checked. */
export interface AuditSeals {
  /** How many seals verified. */
  verified: number;
  /** The last entry covered by a verified seal; null when none. */
  through: number | null;
  /** SHA-256 fingerprints (hex) of the public keys that made them. */
  keys: string[];
  /** The partition whose audit key the seals were checked against (`audit verify --token`); null when only the log's own keys were used. */
  partition: { label: string; serial: string; key: string | null } | null;
}

export interface AuditVerification {
  intact: boolean;
  entries: number;
  problem: AuditProblem | null;
  seals: AuditSeals;
}

/** The first thing wrong with an audit export, located (docs/audit-export.md). */
export interface AuditExportProblem {
  /** The entry it is found at, when there is one. */
  seq: number | null;
  /** The line of the file (1 is the header), when there is one. */
  line: number | null;
  kind: 'malformed' | 'altered' | 'removed' | 'reordered' | 'truncated' | 'seal-broken' | 'signer';
  message: string;
}

/** `tessera audit verify-export --json`: what an auditor's offline check of an export found. */
export interface AuditExportVerification {
  valid: boolean;
  problem: AuditExportProblem | null;
  /** The log's installation id, from the header. */
  installation: string | null;
  /** The entries the header says the export holds (seq, inclusive). */
  from: number | null;
  through: number | null;
  /** Entries checked. */
  entries: number;
  /**
   * Seals (`audit.seal`) whose signature over the chain's head verified; `through`: the last entry a
   * verified seal covers; `keys`: their keys' fingerprints; `uncheckable`: seals made before the
   * public chain existed (they sign only the workstation's keyed chain).
   */
  seals: { verified: number; through: number | null; keys: string[]; uncheckable: number };
  /** With --signer/--token: the key required, and the last entry a seal by it covers. */
  signer: { fingerprint: string; sealedThrough: number | null } | null;
  /** Entries no verified seal (by the signer, when given) covers: chained, but vouched for by nobody an auditor can check. */
  unsealed: { from: number; through: number } | null;
  /** The partition the header names (with its audit key's fingerprint): as the file says, not a proof. */
  partition: { label: string; serial: string; key: string | null } | null;
}

/** What `tessera audit export` wrote (`--json`). */
export interface AuditExportReport {
  /** The file on the media (absolute path). */
  path: string;
  file: string;
  /** SHA-256 of the file's bytes (hex), as read back from the medium. */
  sha256: string;
  from: number;
  through: number;
  entries: number;
  /** The last entry a seal in the export covers; null when none. */
  sealedThrough: number | null;
  unsealed: { from: number; through: number } | null;
  /** The audit log entry that records the export. */
  recordedIn: number;
}

// ---- Ceremonies: guided multi-step work with officers' cards ----

export type PromptKind = 'enter-so-pin' | 'insert-card' | 'enter-pin' | 'choose-pin' | 'confirm' | 'choose-objects' | 'confirm-fingerprint' | 'remove-card' | 'working' | 'done' | 'failed' | 'cancelled';

export interface CeremonyPrompt {
  /** Increases with every new prompt: an answer names the prompt it answers. */
  seq: number;
  kind: PromptKind;
  /** What to do now, e.g. "Officer 2 of 3: insert your card". */
  text: string;
  holder?: string;
  reader?: string;
  /** The card's remaining PIN tries, when the card tells. */
  triesLeft?: number | null;
  /** For confirm: the button's words, naming what will change. */
  confirmLabel?: string;
  /** For confirm: the action destroys or replaces something (a credential, objects, a card's enrolment); only these look dangerous. */
  destroys?: boolean;
  /**
   * For insert-card: officers may also stop taking cards (answered with confirm), e.g. "Finish the
   * roll call with the cards read" or "Finish later"; the button's words.
   */
  finishLabel?: string;
  /** For confirm: a briefing before anything is asked or changed (who must be present, what stops working), not a change to confirm. */
  briefing?: true;
  /** For confirm-fingerprint: the set it is about, in words ("the backup set of “Other” that made this backup"). */
  about?: string;
  /** For choose-pin: whose PIN is chosen, when it is not a card's: the partition's crypto officer's. */
  pinOf?: 'crypto-officer';
  /** Why the last answer to this same question was refused; shown where it was typed, to answer again. */
  refusal?: string;
}

export interface CeremonyStep {
  title: string;
  state: 'todo' | 'current' | 'done' | 'failed';
}

export interface CeremonyNotice {
  level: 'info' | 'warning' | 'error';
  text: string;
  /** The PKCS#11 or PC/SC code behind it, for the technical details only. */
  detail?: string;
}

/** How a ceremony ended, in words an officer can print and file: what changed, who took part, when. */
export interface CeremonySummary {
  title: string;
  outcome: 'done' | 'failed' | 'cancelled';
  /** One line each: what changed (or, failed or cancelled, what stayed as it was and what stays written). */
  changes: string[];
  /** The cards read or written, with their holders. */
  participants: { holder: string; card: string }[];
  partition: { label: string; serial: string };
  /** ISO 8601 times; the GUI shows them in local time. */
  started: string;
  ended: string;
}

export interface EnrolmentRecord {
  partition: { label: string; serial: string };
  set: string;
  generation: number;
  m: number;
  n: number;
  cards: { index: number; holder: string; card: string }[];
  date: string;
  /** A backup set's fingerprint (escrow and signing key), printed for the safe. */
  fingerprint?: string;
}

export interface CardReport {
  /** What the card is, in officers' words: "Alice's SO card", "a blank card". */
  name: string;
  card: string | null;
  reader: string;
  blank: boolean;
  holder: string | null;
  index: number | null;
  set: string | null;
  generation: number | null;
  m: number | null;
  n: number | null;
  partition: { label: string; serial: string } | null;
  /** A backup-set card: its set's fingerprint (escrow and signing key), to compare with the enrolment record. */
  setFingerprint: string | null;
  /** Whether the card belongs to the current card set of the chosen partition. */
  current: boolean;
  /** Why not, or what is wrong with it. */
  problem: string | null;
  pinCorrect: boolean | null;
  shareIntact: boolean | null;
  triesLeft: number | null;
  /** An enrolment that stopped half way on this card (it can be made blank again: reset-card). */
  interrupted: { holder: string; purpose: 'so' | 'backup'; partition: string } | null;
}

export type CeremonyResult =
  | { kind: 'adopt'; record: EnrolmentRecord }
  | { kind: 'so-login'; holders: string[]; cards: string[] }
  | { kind: 'check-card'; report: CardReport }
  | { kind: 'change-pin'; holder: string; card: string }
  | { kind: 'reset-card'; holder: string; card: string }
  | { kind: 'so-acknowledge'; failures: number; failure: string }
  | { kind: 'backup-set'; record: EnrolmentRecord }
  | { kind: 'backup'; report: BackupReport }
  | { kind: 'restore'; report: RestoreReport }
  | { kind: 'backup-list'; backup: BackupSummary; objects: RestoreLine[] }
  | { kind: 'co-pin-reset'; partition: { label: string; serial: string }; holders: string[]; cards: string[] }
  | { kind: 'so-rotate'; rotation: RotationReport }
  | { kind: 'so-replace-card'; rotation: RotationReport }
  | { kind: 'backup-set-rotate'; rotation: RotationReport }
  | { kind: 'backup-replace-card'; rotation: RotationReport }
  | { kind: 'roll-call'; report: RollCallReport }
  | { kind: 'key-reactivate'; report: KeyChangeReport }
  | { kind: 'key-destroy'; report: KeyChangeReport }
  | { kind: 'policy-set'; report: PolicyChangeReport };

/** One usage attribute of a key object: its PKCS#11 name (CKA_SIGN) and value. */
export type UsageAttributes = Record<string, boolean>;

/**
 * A key in the trash bin (invalidated: every usage attribute off), with what it was. A key pair
 * (private and public key of one CKA_ID) is one key.
 */
export interface InvalidatedKeyView {
  /** CKA_ID in hex. */
  id: string;
  label: string;
  /** Each object of the key, with its usage attributes exactly as before invalidation. */
  objects: { class: ObjectClassName; keyType: string | null; label: string; usage: UsageAttributes }[];
  invalidatedBy: string;
  /** ISO 8601 (UTC). */
  invalidatedAt: string;
  /** Where the record was found: the partition's trash bin, this terminal's database, or both. */
  recordedOn: ('partition' | 'terminal')[];
  /** Whether the key's objects were looked at (crypto officer logged in) and are still invalidated. */
  state: 'invalidated' | 'usable-again' | 'missing' | 'not-checked';
  /** Something an officer must know: records that disagree, a key gone, usage turned on outside the terminal. */
  problem: string | null;
}

/** How a reactivation or a (bulk) destroy ended, per key. */
export interface KeyChangeReport {
  partition: { label: string; serial: string };
  action: 'reactivate' | 'destroy';
  /** The digest the approvers saw. */
  digest: string;
  approvers: { holder: string; card: string }[];
  keys: { id: string; label: string; outcome: 'reactivated' | 'destroyed' | 'failed' | 'not-done'; detail: string | null }[];
}

/** A policy change as recorded. */
export interface PolicyChangeReport {
  partition: { label: string; serial: string };
  from: number;
  version: number;
  digest: string;
  changes: { name: string; from: string; to: string }[];
  approvers: { holder: string; card: string }[];
}

/** The partition policy in force, for the window and `tessera policy show`. */
export interface PolicyView {
  partition: { label: string; serial: string };
  policy: PartitionPolicy;
  /** 0: nothing recorded, the defaults apply. */
  version: number;
  source: 'default' | 'partition' | 'terminal';
  problems: string[];
  /** The SO card set's m of n, which bounds every approval count; null without a set. */
  set: { m: number; n: number } | null;
  signedBy: { set: string; generation: number; approvers: { holder: string; card: string }[]; at: string } | null;
  enforcement: { kind: 'terminal' | 'module'; words: string };
  /** Why the policy in force refuses a backup or a restore now (naming the setting); null when allowed. Screens disable the action and show this. */
  refuses: { backup: string | null; restore: string | null };
}

/**
 * A new generation of a card set (SO credential rotated, or backup escrow key re-split or rotated),
 * as the rotation ceremonies report it. See docs/card-profile.md (generations).
 */
export interface RotationReport {
  purpose: 'so' | 'backup';
  /** The generation that was in force before, and the new one. */
  from: number;
  record: EnrolmentRecord;
  /** Holders whose old card is no longer part of the set (replaced by a blank card), with its serial. */
  replaced: { holder: string; card: string | null }[];
  /** Holders of the old generation who are not in the new one. */
  removed: string[];
  /** Holders whose card still holds its old-generation share (it is removed when the card is next used). */
  unretired: string[];
  /** A backup set: whether the escrow key was kept (re-split) or replaced by a new one. */
  escrow: 'kept' | 'new' | null;
  /** A new escrow key: backups on the catalogue that were encrypted to the old one (they need the old generation's cards). */
  needOldCards: string[];
}

/** One holder in a roll call: proved (PIN right, share intact, current generation), or why not. */
export interface RollCallLine {
  index: number;
  holder: string;
  /** The card serial the terminal knows for this holder, or the one presented. */
  card: string | null;
  status: 'proved' | 'missing' | 'stale' | 'failed';
  /** Why not proved, in officers' words. */
  detail: string | null;
}

export interface RollCallReport {
  purpose: 'so' | 'backup';
  partition: { label: string; serial: string };
  set: string;
  generation: number;
  m: number;
  n: number;
  holders: RollCallLine[];
  missing: string[];
  stale: string[];
  /** Whether at least m proved cards were combined and matched the set's commitment. */
  quorumChecked: boolean;
}

// ---- Backups ----

/** A drive (or the training lab's stand-in folder) a backup can go to. */
export interface MediaView {
  path: string;
  label: string;
  device: string | null;
  size: number;
  free: number;
  source: 'removable' | 'lab';
}

export type BackupObjectClass = 'data' | 'certificate' | 'public-key' | 'private-key' | 'secret-key';

export interface BackupObjectLine {
  class: BackupObjectClass;
  label: string;
  id: string;
  /** Why it stays out of the backup. */
  reason?: string;
  /**
   * Attributes of an object in the backup that the token failed to read, each by PKCS#11 name with
   * the reason ("CKA_START_DATE (start date): … CKR_GENERAL_ERROR"): the backup, and so a restore, lacks them.
   */
  unreadable?: string[];
}

export interface BackupSummary {
  backupId: string;
  created: string;
  partition: { label: string; serial: string };
  objects: number;
  excluded: number;
  signer: string;
  escrow: string;
  /** The fingerprint of the backup set that made it (escrow and signing key), as its enrolment record prints it. */
  setFingerprint: string;
  keyWrap: string;
}

export interface BackupReport extends BackupSummary {
  file: string;
  manifest: string;
  sha256: string;
  size: number;
  left: BackupObjectLine[];
  /** Objects in the backup without some of their attributes, which the token failed to read (`unreadable`). */
  incomplete: BackupObjectLine[];
}

export interface BackupVerification {
  file: string;
  valid: boolean;
  problem: string | null;
  sha256: string | null;
  size: number;
  backup: BackupSummary | null;
  manifest: 'agrees' | 'missing' | 'disagrees';
  /** Set when --token named a partition: whether this backup's signing key is that partition's. */
  ofPartition?: boolean;
  /**
   * Whether the signer was checked against a partition's backup-signing key. When false, a valid
   * signature only says the file is whole: the file names its own key, so anyone could have made it.
   */
  signerChecked?: boolean;
}

export type RestoreState = 'new' | 'identical' | 'conflict' | 'excluded';

export interface RestoreLine extends BackupObjectLine {
  index: number;
  state: RestoreState;
  /** For conflicts: the object in the partition that has the same id or label. */
  conflictWith?: string;
}

export type RestoreOutcomeKind = 'restored' | 'replaced' | 'already-present' | 'skipped' | 'not-selected' | 'excluded' | 'failed';

export interface RestoreOutcome extends RestoreLine {
  outcome: RestoreOutcomeKind;
  /** "passed: …", "not checked: …" or "FAILED: …". */
  check: string | null;
  /** Recorded attributes the token did not keep as they were. */
  notPreserved: string[];
  message?: string;
}

export interface RestoreReport {
  backupId: string;
  file: string;
  source: { label: string; serial: string };
  target: { label: string; serial: string };
  counts: Record<RestoreOutcomeKind, number>;
  objects: RestoreOutcome[];
}

export interface BackupSetView {
  partition: { label: string; serial: string };
  set: string;
  m: number;
  n: number;
  holders: string[];
  created: string;
  signer: string;
  escrow: string;
  /** The set's fingerprint (escrow and signing key): compared with the enrolment record before a foreign restore. */
  fingerprint: string;
}

/** A backup file found on a medium, checked without cards; `catalogued`: this terminal wrote it. */
export interface BackupFileView {
  name: string;
  verification: BackupVerification;
  catalogued: boolean;
  /** Whether the backup was made with the chosen partition's backup set (null: the partition has none). */
  ownSet: boolean | null;
}

export type CeremonyDetail =
  | { kind: 'backup-preview'; media: MediaView; included: BackupObjectLine[]; excluded: BackupObjectLine[]; estimatedBytes: number }
  | { kind: 'restore-choice'; backup: BackupSummary; objects: RestoreLine[] }
  | { kind: 'policy-change'; lines: PolicyLine[]; digest: string }
  | { kind: 'key-change'; action: 'reactivate' | 'destroy'; keys: InvalidatedKeyView[]; digest: string };

export interface CeremonyView {
  id: string;
  kind: CeremonyKind;
  title: string;
  partition: { label: string; serial: string };
  steps: CeremonyStep[];
  prompt: CeremonyPrompt;
  /** For quorum work: "2 of 3 collected", and who. */
  collected: { holder: string; index: number; card: string }[];
  /** Where the quorum being collected starts in `collected` (earlier ones, e.g. SO approvers, are done). */
  quorumFrom: number;
  needed: number | null;
  notices: CeremonyNotice[];
  result: CeremonyResult | null;
  /** Long work: objects done of total. */
  progress: { done: number; total: number } | null;
  /** What officers look at before they confirm or choose (backup preview, restore listing). */
  detail: CeremonyDetail | null;
  /** Why the ceremony failed, when it did. */
  error: ErrorData | null;
  /** What stays written if the ceremony stops now (a cancel asks first when this is not empty). */
  written: string[];
  /** ISO time the ceremony started. */
  started: string;
  /** Set when it has ended: what to print and file. */
  summary: CeremonySummary | null;
}

export interface SoSessionView {
  active: boolean;
  partition: { label: string; serial: string } | null;
  holders: string[];
  /** ISO time at which the SO session ends unless used. */
  expiresAt: string | null;
  idleMinutes: number;
  /** How the last SO session ended (announced to the officers), null before any ended. */
  lastEnd: { reason: 'logout' | 'idle' | 'quit'; at: string; holders: string[] } | null;
}

export interface CardSetView {
  partition: { label: string; serial: string };
  set: string;
  generation: number;
  m: number;
  n: number;
  created: string;
  source: 'terminal' | 'partition';
  /** SO logins from this terminal that the HSM refused and no officer has acknowledged yet (SO login waits for it). */
  refusedLogins: number;
  cards: { index: number; holder: string; card: string | null; lastUsed: string | null }[];
}
