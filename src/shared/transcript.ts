// The ceremony transcript: what a scripted ceremony run leaves on the media, as a signed JSON file
// (the record) and a printable PDF beside it (its printout, signed by hand in the room). The JSON
// format is `tessera-transcript-v1`; src/core/record/transcript.ts writes and verifies it, and
// docs describe the signed bytes there. A change to these shapes gets a new format name.

/** The name of the format, of the signed statement, and the `format` of body and file. */
export const TRANSCRIPT_FORMAT = 'tessera-transcript-v1';

/** How a step of the script ended, as the transcript says it. */
export type TranscriptStepOutcome = 'done' | 'failed' | 'cancelled' | 'skipped' | 'confirmed' | 'not reached';

/** How the whole run ended. */
export type TranscriptOutcome = 'completed' | 'stopped' | 'failed' | 'cancelled';

/** What the partition signs (through its digest): the account of one run of a ceremony script. */
export interface TranscriptBody {
  format: typeof TRANSCRIPT_FORMAT;
  /** A PRACTICE run (the training lab, or a partition set aside for practice): every PDF page says so. */
  practice: boolean;
  /** The ceremony's title, from the script. */
  title: string;
  /** The YAML script: its file name and the SHA-256 (lowercase hex) of its bytes. */
  script: { file: string; sha256: string };
  /** Where it ran (label, serial), and the partition the script names (they may differ: both are recorded). */
  partition: { label: string; serial: string; script: { label: string; serial: string } };
  /** The terminal: its installation id and the workstation's user account. */
  terminal: { installation: string; workstationUser: string };
  /** Who was there: the administrator running the terminal, the witnesses, the officers with their roles. */
  roster: { administrator: string; witnesses: string[]; officers: { name: string; roles: string[] }[] };
  /** The script's preconditions, each checked before the first step. */
  preconditions: { what: string; met: boolean; detail: string }[];
  /** Every step of the script, reached or not, in order. */
  steps: TranscriptStep[];
  /** What departed from the script: `step` is the step's number, `then` whether the run went on. */
  exceptions: TranscriptException[];
  /** ISO 8601 UTC ("2026-11-30T17:00:00.000Z"). */
  started: string;
  /** ISO 8601 UTC; also the PDF's creation date. */
  ended: string;
  outcome: TranscriptOutcome;
  /** The audit log entries (seq, inclusive) the run wrote. */
  audit: { from: number; through: number };
}

/** One step of the script as it went. */
export interface TranscriptStep {
  /** The step's number, from 1. */
  n: number;
  title: string;
  /** What the script says to do. */
  do: string;
  /** Who does it (names from the roster). */
  by: string[];
  /** What the script expects to see, or null. */
  expected: string | null;
  outcome: TranscriptStepOutcome;
  /** ISO 8601 UTC, or null when the step was not reached. */
  started: string | null;
  ended: string | null;
  /** What happened, in officers' words (changes, files, card holders…). */
  details: string[];
  /** The officer cards read in this step. */
  cards: { holder: string; card: string }[];
}

/** A departure from the script, said by whoever saw it. */
export interface TranscriptException {
  /** The step it happened in. */
  step: number;
  /** ISO 8601 UTC. */
  time: string;
  by: string;
  text: string;
  then: 'continued' | 'stopped';
}

/** How the partition signed: ECDSA P-256 over SHA-256 of the statement (see transcriptStatement). */
export interface TranscriptSignature {
  statement: typeof TRANSCRIPT_FORMAT;
  /** SHA-256 of `publicKey`'s DER bytes (lowercase hex): the audit key's fingerprint. */
  key: string;
  /** The partition's audit key, DER SubjectPublicKeyInfo, base64. */
  publicKey: string;
  /** ECDSA r || s (lowercase hex). */
  signature: string;
  /** The serial of the partition whose audit key signed (not signed itself: the key is). */
  partition: string;
}

/** The `.transcript.json` file on the media. */
export interface TranscriptFile {
  format: typeof TRANSCRIPT_FORMAT;
  transcript: TranscriptBody;
  /** SHA-256 (lowercase hex) of canonicalJson(transcript). Signed. */
  digest: string;
  /** The PDF beside this file: a bare file name, and the SHA-256 (lowercase hex) of its bytes. The hash is signed, the name is not. */
  pdf: { file: string; sha256: string };
  signature: TranscriptSignature;
}

/** What `ceremony verify` found in a transcript file. Fields are null when the file could not be read that far. */
export interface TranscriptVerification {
  /** The file checked (as given). */
  file: string;
  /** The file is a whole transcript, signed by the key it carries (and by `signer` when one was given), and its PDF, if there, is the signed one. */
  valid: boolean;
  /** What is wrong, in officers' words; null when valid. */
  problem: string | null;
  practice: boolean | null;
  title: string | null;
  outcome: TranscriptOutcome | null;
  /** Where it ran, from the transcript. */
  partition: { label: string; serial: string } | null;
  /** The digest recomputed from the transcript. */
  digest: string | null;
  /** The fingerprint of the key that signed. */
  signer: string | null;
  /** Whether the signer was checked against a fingerprint given by the verifier. When false, a valid signature only says the file is whole: the file carries its own key. */
  signerChecked: boolean;
  /** The PDF beside the JSON: the signed one, altered (valid is then false), or not there (still valid: the JSON is the record). */
  pdf: 'matches' | 'altered' | 'missing' | null;
  /** The PDF's file name, from the transcript. */
  pdfFile: string | null;
}
