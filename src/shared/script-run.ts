// A scripted ceremony as it runs (src/core/record/script-run.ts): what the Ceremonies section shows
// and the CLI prints. Never holds a secret.
import type { CeremonyScript } from './ceremony-script';
import type { TranscriptStepOutcome } from './transcript';

/** Where a step stands. */
export type ScriptStepState = 'todo' | 'current' | 'done' | 'failed' | 'cancelled' | 'confirmed' | 'skipped';

export interface ScriptStepView {
  n: number;
  title: string;
  do: string;
  by: string[];
  expected: string | null;
  state: ScriptStepState;
  started: string | null;
  ended: string | null;
  /** What happened, in officers' words (the transcript's details). */
  details: string[];
  cards: { holder: string; card: string }[];
}

/**
 * What the run waits for:
 * `begin`: the administrator starts the ceremony (preconditions shown);
 * `step`: the administrator starts the current step;
 * `co-login`: the crypto officer logs in (Partition, or the CLI's --pin-fd) before the step can run;
 * `ceremony`: officers answer the step's ceremony (cards, PINs, confirmations) as usual;
 * `manual`: the person named confirms the manual step;
 * `exception`: the step failed: the administrator records the exception, then the script says whether it goes on;
 * `sign`: the crypto officer logs in so the partition signs the transcript;
 * `ended`: the transcript is written (or the run could not start).
 */
export type ScriptWaiting = 'begin' | 'step' | 'co-login' | 'ceremony' | 'manual' | 'exception' | 'sign' | 'ended';

export interface ScriptRunView {
  id: string;
  title: string;
  /** PRACTICE: on the lab or a partition marked for practice; everything says so. */
  practice: boolean;
  script: { file: string; sha256: string };
  /** The parsed script (for the steps' parameters and the roster). */
  parsed: CeremonyScript;
  /** Where it runs, and what the script names. */
  partition: { label: string; serial: string };
  preconditions: { what: string; met: boolean; detail: string }[];
  steps: ScriptStepView[];
  /** The step being run or next (n), or null before the first and after the last. */
  current: number | null;
  waiting: ScriptWaiting;
  /** What to do now, in officers' words (who acts, what is expected). */
  instruction: string;
  exceptions: { step: number; time: string; by: string; text: string; then: 'continued' | 'stopped' }[];
  outcome: 'running' | 'completed' | 'stopped' | 'failed' | 'cancelled';
  started: string | null;
  ended: string | null;
  /** The transcript files once written. */
  transcript: { json: string; pdf: string; digest: string } | null;
  /** Why it cannot go on, when it cannot. */
  problem: string | null;
}

/** The outcome words a step's state becomes in the transcript. */
export function transcriptOutcome(state: ScriptStepState): TranscriptStepOutcome {
  return state === 'todo' || state === 'current' ? 'not reached' : state;
}

/** A script the window may open. */
export interface ScriptFileView {
  /** Absolute path: what `script:open` names. */
  path: string;
  name: string;
  /** On a USB stick (or the lab's stand-in), or an example shipped with Tessera. */
  source: 'media' | 'example';
  /** The medium's label, or "Examples". */
  where: string;
}
