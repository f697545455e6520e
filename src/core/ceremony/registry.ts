// The ceremony registry's core half: for each kind declared in src/shared/ceremonies.ts (start
// schema, login needed, title, steps, section), how it runs (a short composition of steps), what is
// checked before it may start, how the next start recovers it after a crash, what its summary says,
// and the audit action that records it when it fails or is cancelled. See docs/ceremonies.md.
import type { CeremonyKind, CeremonyStartOf } from '../../shared/ceremonies';
import type { CeremonyResult } from '../../shared/types';
import { adopt, precheckAdopt } from './adopt';
import { backup, precheckBackup } from './backup';
import { recoverBackups, recoverRestores } from './backup-recovery';
import { createBackupSet, precheckBackupSet } from './backup-set';
import { changePin } from './change-pin';
import { checkCard } from './check-card';
import { resetCoPin } from './co-pin-reset';
import type { CeremonyContext, RunOptions } from './context';
import { recoverEnrolments } from './enrol-recovery';
import { resetCard } from './reset-card';
import { listBackup, restore } from './restore';
import { precheckRollCall, rollCall } from './roll-call';
import { type RotationKind, planRotation, rotate, rotationChanges } from './rotate';
import { recoverRotations } from './rotate-recovery';
import type { CeremonyRun } from './run';
import { acknowledgeRefusedLogin, precheckSoLogin, soLogin } from './so-login';

export type ResultOf<K extends CeremonyKind> = Extract<CeremonyResult, { kind: K }>;

export interface CeremonyEntry<K extends CeremonyKind> {
  /** Runs the ceremony: a composition of steps (steps/). */
  run(run: CeremonyRun, ctx: CeremonyContext, start: CeremonyStartOf<K>, options: RunOptions): Promise<ResultOf<K>>;
  /** Checked before the ceremony starts (after the login the shared half names): throws in officers' words. */
  precheck?(ctx: CeremonyContext, start: CeremonyStartOf<K>): void;
  /** At start: finishes or rolls back what a crash interrupted; returns what officers are told. */
  recover?(ctx: CeremonyContext): Promise<string[]>;
  /** What changed, one line each, for the summary officers print and file. */
  changes(result: ResultOf<K>): string[];
  /** The audit action that records the ceremony when it fails or is cancelled (unless it recorded that itself). */
  audit?: string;
}

type Registry = { [K in CeremonyKind]: CeremonyEntry<K> };

export const registry: Registry = {
  adopt: {
    run: (run, ctx, start, options) => adopt(run, ctx, start, options),
    precheck: precheckAdopt,
    recover: (ctx) => recoverEnrolments(ctx, 'so'),
    changes: ({ record }) => [
      `The SO PIN of “${record.partition.label}” was replaced by a credential that nobody knows: ${record.n === 1 ? 'this card logs' : record.m === record.n ? `all ${record.n} cards together log` : `any ${record.m} of these ${record.n} cards log`} in as security officer.`,
      `Card set ${record.set}, generation ${record.generation}, enrolled.`,
    ],
    audit: 'cardset.enrol',
  },
  'so-login': {
    run: (run, ctx, _start, options) => soLogin(run, ctx, options),
    precheck: precheckSoLogin,
    changes: (r) => [`An SO session was opened with the cards of ${r.holders.join(', ')}.`],
    audit: 'so.login',
  },
  'so-acknowledge': {
    run: (run, ctx) => acknowledgeRefusedLogin(run, ctx),
    changes: (r) => [`The refused SO login (${r.failure}) was acknowledged; SO logins may be tried again.`],
    audit: 'so.login.acknowledged',
  },
  'check-card': {
    run: (run, ctx, _start, options) => checkCard(run, ctx, options),
    changes: ({ report }) => [`${report.name} was checked: ${(report.problem ?? 'it belongs to the current set, its PIN is right and its share intact').replace(/\.$/, '')}. Nothing was changed on it.`],
  },
  'change-pin': {
    run: (run, ctx, _start, options) => changePin(run, ctx, options),
    changes: (r) => [`${r.holder}'s card PIN was changed; every share on the card is sealed under the new PIN.`],
    audit: 'card.change-pin',
  },
  'reset-card': {
    run: (run, ctx, _start, options) => resetCard(run, ctx, options),
    changes: (r) => [`${r.holder}'s card is blank again (its unfinished enrolment was removed; its PIN is the blank-card PIN).`],
    audit: 'card.reset',
  },
  'backup-set': {
    run: (run, ctx, start, options) => createBackupSet(run, ctx, start, options),
    precheck: precheckBackupSet,
    recover: (ctx) => recoverEnrolments(ctx, 'backup'),
    changes: ({ record }) => [`A backup-signing key was generated in “${record.partition.label}”; any ${record.m} of these ${record.n} cards read and restore its backups.`],
    audit: 'backupset.create',
  },
  backup: {
    run: (run, ctx, start) => backup(run, ctx, start),
    precheck: precheckBackup,
    recover: recoverBackups,
    changes: ({ report }) => [`The backup file ${report.file} holds ${report.objects} objects (${report.excluded} could not be backed up; see the list); it was read back and verified.`],
    audit: 'backup.create',
  },
  restore: {
    run: (run, ctx, start, options) => restore(run, ctx, start, options),
    recover: recoverRestores,
    changes: ({ report }) => [`Restored ${report.counts.restored}, replaced ${report.counts.replaced}, already present ${report.counts['already-present']}, skipped ${report.counts.skipped}, failed ${report.counts.failed} into “${report.target.label}”.`],
    audit: 'backup.restore',
  },
  'backup-list': {
    run: (run, ctx, start, options) => listBackup(run, ctx, start, options),
    changes: (r) => [`The contents of backup ${r.backup.backupId} were read (${r.objects.length} entries); nothing was changed.`],
    audit: 'backup.list',
  },
  'co-pin-reset': {
    run: (run, ctx, _start, options) => resetCoPin(run, ctx, options),
    precheck: precheckSoLogin,
    changes: (r) => [`The crypto officer's PIN of “${r.partition.label}” was reset by the SO (cards of ${r.holders.join(', ')}); the old PIN no longer works.`],
    audit: 'co-pin.reset',
  },
  'so-rotate': rotation('cardset.rotate', (ctx) => recoverRotations(ctx, 'so')),
  // Card replacements use their set's rotation intent: recovered once, with the rotations.
  'so-replace-card': rotation('cardset.rotate'),
  'backup-set-rotate': rotation('backupset.rotate', (ctx) => recoverRotations(ctx, 'backup')),
  'backup-replace-card': rotation('backupset.rotate'),
  'roll-call': {
    run: (run, ctx, start, options) => rollCall(run, ctx, start, options),
    precheck: precheckRollCall,
    changes: ({ report }) => [
      `Roll call of generation ${report.generation}: ${report.holders.filter((h) => h.status === 'proved').length} of ${report.n} holders proved their card${report.missing.length > 0 ? `; missing: ${report.missing.join(', ')}` : ''}${report.stale.length > 0 ? `; stale card: ${report.stale.join(', ')}` : ''}. Nothing was changed.`,
    ],
    audit: 'cardset.roll-call',
  },
};

/** The entry of a rotation kind: one composition (rotate.ts) for the four of them. */
function rotation<K extends RotationKind>(audit: string, recover?: (ctx: CeremonyContext) => Promise<string[]>): CeremonyEntry<K> {
  return {
    run: (run, ctx, start, options) => rotate(run, ctx, start, options),
    precheck: (ctx, start) => void planRotation(ctx, start),
    ...(recover ? { recover } : {}),
    changes: (result) => rotationChanges((result as Extract<CeremonyResult, { kind: RotationKind }>).rotation),
    audit,
  };
}

/** The entry of `kind`, typed by its kind. */
export function entryOf<K extends CeremonyKind>(kind: K): CeremonyEntry<K> {
  return registry[kind] as CeremonyEntry<K>;
}
