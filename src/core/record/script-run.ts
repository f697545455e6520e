// A ceremony run from a script (record/script.ts): its preconditions checked, then its steps in
// order, each a terminal operation (most of them the registry's ceremonies, answered by officers
// through the front end as usual) or a manual step a named person confirms; exceptions recorded
// by the administrator as they happen, the run going on or stopping as the script says; at the
// end the transcript (record/transcript.ts), signed by the partition's audit key and hashed into
// the audit log. The front ends (the GUI's Ceremonies section, `tessera ceremony run`) only show
// the view and pass on the officers' answers: the order, the logins a step needs and what is
// recorded are decided here. See docs/ceremonies.md "Ceremony scripts".
import { randomUUID } from 'node:crypto';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import type { AuditLog } from '../audit/audit-log';
import { listMedia } from '../backup/media';
import type { CeremonyHost } from '../ceremony/host';
import { crashPoint } from '../ceremony/steps/crash-points';
import type { RunOptions } from '../ceremony/context';
import { findLabProfile } from '../config/lab-profile';
import { TesseraError, toErrorData } from '../errors';
import type { PartitionService } from '../partition/partition-service';
import type { SoSession } from '../quorum/so-session';
import type { Intent, IntentLog } from '../store/intents';
import { type CeremonyKind, type CeremonyStart, ceremonyKinds } from '../../shared/ceremonies';
import type { CeremonyScript, ScriptCardSet, ScriptStep } from '../../shared/ceremony-script';
import { SCRIPT_OPERATIONS } from '../../shared/ceremony-script';
import { type ScriptRunView, type ScriptStepView, type ScriptWaiting, transcriptOutcome } from '../../shared/script-run';
import type { TranscriptBody } from '../../shared/transcript';
import { TRANSCRIPT_FORMAT } from '../../shared/transcript';
import type { AuditExportReport, BackupSetView, CardSetView, CeremonyView, InvalidatedKeyView } from '../../shared/types';
import type { ExportRequest } from './audit-export';
import { parseScript, scriptDigest } from './script';
import { writeTranscript } from './transcript';

/** The terminal's services a run uses. */
export interface ScriptRunDeps {
  partition: PartitionService;
  so: SoSession;
  ceremonies: CeremonyHost;
  audit: AuditLog;
  invalidateKey(id: string): Promise<InvalidatedKeyView>;
  exportAudit(request: ExportRequest): Promise<AuditExportReport>;
  soSet(): CardSetView | null;
  backupSet(): BackupSetView | null;
  /**
   * For the window's runs: a backup, restore or export may use only the media the terminal offers
   * (and backup files directly on them), as when officers choose them on screen; the command line
   * may name any folder. @throws TesseraError INVALID_REQUEST otherwise.
   */
  requireOffered?: (path: string, kind: 'media' | 'file') => Promise<void>;
  /** Where a run begun and not yet ended is noted, so that the next start says it was interrupted. */
  intents: IntentLog;
  mediaStandIns: string[];
  actor: string;
  workstationUser: string;
}

/** What the intent log keeps of a run under way (public facts only). */
interface RunIntent {
  title: string;
  script: string;
  sha256: string;
  practice: boolean;
  partition: { label: string; serial: string };
  started: string;
  auditFrom: number;
}

export const SCRIPT_INTENT = 'ceremony-script';
export const SCRIPT_INTERRUPTED_ACTION = 'ceremony.interrupted';

/**
 * At start: a scripted ceremony the terminal was running when it stopped (a crash, the window
 * closed) has no transcript. Each is recorded (`ceremony.interrupted`, with the step it had
 * reached) and said to the officers; the entries it wrote are in the audit log.
 */
export async function recoverScriptRuns(intents: IntentLog, audit: AuditLog, actor: string): Promise<string[]> {
  const said: string[] = [];
  for (const intent of intents.unfinished<RunIntent>(SCRIPT_INTENT)) {
    const d = intent.data;
    await audit.append({ actor, action: SCRIPT_INTERRUPTED_ACTION, target: `${d.partition.label} (serial ${d.partition.serial})`, outcome: 'failed', details: { title: d.title, script: d.script, sha256: d.sha256, reached: intent.step, auditFrom: d.auditFrom, practice: d.practice } });
    intents.finish(intent, 'interrupted');
    const ended = intent.step === 'stopped' || intent.step === 'cancelled';
    said.push(
      ended
        ? `${d.practice ? 'PRACTICE: ' : ''}The ceremony “${d.title}” (${d.script}), begun ${d.started}, was ${intent.step}, and the terminal stopped before its transcript was signed: no transcript was written. What it did is in the audit log from entry ${d.auditFrom}.`
        : `${d.practice ? 'PRACTICE: ' : ''}The ceremony “${d.title}” (${d.script}), begun ${d.started}, was interrupted at ${intent.step.replace('-', ' ')}: no transcript was written. What it did is in the audit log from entry ${d.auditFrom}; run the remaining steps in a new ceremony and record the interruption as an exception.`,
    );
  }
  return said;
}

/** Where the script came from: its text and the file name (path) it was read from. */
export interface ScriptSource {
  text: string;
  path: string;
}

export const SCRIPT_START_ACTION = 'ceremony.script.start';
export const SCRIPT_STEP_ACTION = 'ceremony.step';
export const SCRIPT_EXCEPTION_ACTION = 'ceremony.exception';
export const TRANSCRIPT_ACTION = 'ceremony.transcript';
export const SCRIPT_CANCEL_ACTION = 'ceremony.cancelled';

/**
 * Whether the chosen partition may take a practice run: one of the training lab's (its module) or
 * one whose label begins with "PRACTICE" (marked by whoever initialised it).
 */
export function isPracticePartition(label: string, modulePath: string): boolean {
  if (/^PRACTICE\b/i.test(label)) return true;
  const lab = findLabProfile();
  return lab !== null && resolve(lab.modulePath) === resolve(modulePath);
}

export class ScriptRun {
  readonly id = randomUUID();
  readonly script: CeremonyScript;
  private readonly sha256: string;
  private readonly steps: ScriptStepView[];
  private readonly preconditions: ScriptRunView['preconditions'];
  private current: number | null = null;
  private waiting: ScriptWaiting = 'begin';
  private instruction = '';
  private outcome: ScriptRunView['outcome'] = 'running';
  private started: string | null = null;
  private ended: string | null = null;
  private exceptions: ScriptRunView['exceptions'] = [];
  private transcript: ScriptRunView['transcript'] = null;
  private problem: string | null = null;
  private auditFrom = 0;
  private lastMedia: string | null = null;
  private ceremonyId: string | null = null;
  private stopCeremonyWatch: (() => void) | null = null;
  private readonly listeners = new Set<(view: ScriptRunView) => void>();
  private busy = false;
  private intent: Intent<RunIntent> | null = null;

  private constructor(
    private readonly deps: ScriptRunDeps,
    private readonly source: ScriptSource,
    readonly practice: boolean,
    private readonly where: { label: string; serial: string },
    preconditions: ScriptRunView['preconditions'],
    script: CeremonyScript,
  ) {
    this.script = script;
    this.sha256 = scriptDigest(source.text);
    this.steps = this.script.steps.map((s) => ({ n: s.n, title: s.title, do: s.do, by: s.by, expected: s.expect, state: 'todo', started: null, ended: null, details: [], cards: [] }));
    this.preconditions = preconditions;
    this.instruction = this.allMet() ? `${this.script.roster.administrator}: check the preconditions with everyone present, then begin.` : 'The preconditions are not met: the ceremony cannot begin.';
  }

  /**
   * Reads and checks a script for the chosen partition: parsed (SCRIPT_INVALID with the lines),
   * then the preconditions checked and shown. Nothing is recorded yet.
   * @throws TesseraError SCRIPT_INVALID; TOKEN_NOT_SELECTED; INVALID_REQUEST when practice is asked
   *   on a partition not marked for practice.
   */
  static async open(deps: ScriptRunDeps, source: ScriptSource, practice: boolean): Promise<ScriptRun> {
    const script = parseScript(source.text, baseName(source.path));
    const view = deps.partition.view();
    const token = view.token;
    const where = { label: token.label, serial: token.serial };
    if (practice && !isPracticePartition(token.label, token.module.path)) {
      throw new TesseraError('INVALID_REQUEST', `Practice runs only on the training lab's partitions or on a partition whose label begins with PRACTICE; “${token.label}” (serial ${token.serial}) is neither. Nothing was done.`);
    }
    return new ScriptRun(deps, source, practice, where, await checkPreconditions(deps, script, where, practice, dirname(source.path)), script);
  }

  view(): ScriptRunView {
    return {
      id: this.id,
      title: this.script.title,
      practice: this.practice,
      script: { file: baseName(this.source.path), sha256: this.sha256 },
      parsed: this.script,
      partition: this.where,
      preconditions: this.preconditions,
      steps: this.steps.map((s) => ({ ...s, by: [...s.by], details: [...s.details], cards: [...s.cards] })),
      current: this.current,
      waiting: this.waiting,
      instruction: this.instruction,
      exceptions: [...this.exceptions],
      outcome: this.outcome,
      started: this.started,
      ended: this.ended,
      transcript: this.transcript,
      problem: this.problem,
    };
  }

  onChange(listener: (view: ScriptRunView) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * The administrator begins: recorded (`ceremony.script.start`), every entry from now on carries
   * the script's hash (and `practice: true` in practice), and the first step is next.
   * @throws TesseraError INVALID_REQUEST when it has begun already or a precondition is not met; AUDIT_ALARM.
   */
  async begin(): Promise<ScriptRunView> {
    if (this.waiting !== 'begin') throw new TesseraError('INVALID_REQUEST', 'This ceremony has begun already.');
    if (!this.allMet()) throw new TesseraError('INVALID_REQUEST', `The preconditions are not met: ${this.preconditions.filter((p) => !p.met).map((p) => p.detail).join(' ')} The ceremony cannot begin.`);
    await this.deps.audit.ready();
    this.auditFrom = (this.deps.audit.head()?.seq ?? 0) + 1;
    this.deps.audit.mark({ ceremonyScript: this.sha256.slice(0, 16), ...(this.practice ? { practice: true } : {}) });
    this.started = new Date().toISOString();
    this.intent = this.deps.intents.begin<RunIntent>(SCRIPT_INTENT, 'step-1', { title: this.script.title, script: baseName(this.source.path), sha256: this.sha256, practice: this.practice, partition: this.where, started: this.started, auditFrom: this.auditFrom });
    await this.record(SCRIPT_START_ACTION, { title: this.script.title, script: baseName(this.source.path), sha256: this.sha256, steps: this.steps.length });
    this.moveTo(1);
    return this.changed();
  }

  /**
   * Runs the current step: the logins it needs first (an SO session ended before a crypto-officer
   * step, the crypto officer logged out before an SO one), then the operation. A ceremony step
   * starts the ceremony and waits for the officers (`ceremony`); a step that needs the crypto
   * officer, who is not logged in, waits for that login (`co-login`); a manual step waits for its
   * confirmation. Failures do not throw: the step is marked failed and the run waits for the
   * administrator's exception. `options`: how the front end answers card PINs (the CLI with
   * --pins-from stops at a wrong one; the GUI lets it be typed again).
   * @throws TesseraError INVALID_REQUEST when the run is not waiting for a step.
   */
  async runStep(options: RunOptions = { retryWrongPin: true }): Promise<ScriptRunView> {
    if (this.waiting !== 'step' && this.waiting !== 'co-login') throw new TesseraError('INVALID_REQUEST', `The ceremony is not waiting to run a step (it waits for: ${this.waiting}).`);
    if (this.busy) throw new TesseraError('INVALID_REQUEST', 'The step is running.');
    const step = this.step();
    const view = this.viewOf(step.n);
    this.busy = true;
    try {
      view.state = 'current';
      view.started ??= new Date().toISOString();
      if (step.do === 'manual') {
        this.wait('manual', `${step.by[0] ?? this.script.roster.administrator}: ${step.text} Confirm when it is done.`);
        return this.changed();
      }
      const need = SCRIPT_OPERATIONS[step.do].login;
      if (step.do === 'logout') {
        await this.endSessions(view, 'both');
        return await this.endStep(step, 'done', ['Nobody is logged in to the partition.']);
      }
      if (step.do === 'co-login' || need === 'crypto-officer') {
        await this.endSessions(view, 'so');
        if (!this.deps.partition.loggedIn) {
          this.wait('co-login', `${coName(this.script, step)}: log in to the partition as crypto officer${step.do === 'co-login' ? '' : ` for “${step.title}”`}.`);
          return this.changed();
        }
        if (step.do === 'co-login') return await this.endStep(step, 'done', ['The crypto officer is logged in.']);
      } else if (need === 'nobody') {
        await this.endSessions(view, 'both');
      }
      await this.checkPaths(step);
      const kind = ceremonyOf(step);
      if (kind) {
        this.startCeremony(step, kind, options);
        return this.changed();
      }
      return await this.endStep(step, 'done', await this.direct(step));
    } catch (error) {
      return await this.endStep(step, 'failed', [toErrorData(error).message]);
    } finally {
      this.busy = false;
    }
  }

  /**
   * The manual step is done, confirmed by the person it names (or the administrator for them).
   * @throws TesseraError INVALID_REQUEST when no manual step waits, or `by` may not confirm it.
   */
  async confirmManual(by: string): Promise<ScriptRunView> {
    if (this.waiting !== 'manual') throw new TesseraError('INVALID_REQUEST', 'No manual step is waiting for a confirmation.');
    const step = this.step() as Extract<ScriptStep, { do: 'manual' }>;
    const allowed = [...step.by, this.script.roster.administrator];
    if (!allowed.includes(by)) throw new TesseraError('INVALID_REQUEST', `${by} cannot confirm this step: ${allowed.join(' or ')} must.`);
    return this.endStep(step, 'confirmed', [`Confirmed by ${by}${by === this.script.roster.administrator && !step.by.includes(by) ? ` (the administrator, for ${step.by.join(', ')})` : ''}: ${step.text}`]);
  }

  /**
   * The administrator records an exception at the current step (free text, who, when). When the
   * step failed, the script decides: on-exception `continue` goes on to the next step, `stop`
   * ends the ceremony. An exception at a step that did not fail goes on unless the step says stop.
   * @throws TesseraError INVALID_REQUEST for empty text, a name not on the roster, or no step.
   */
  async recordException(text: string, by: string): Promise<ScriptRunView> {
    const words = text.trim();
    if (words.length === 0 || words.length > 2000) throw new TesseraError('INVALID_REQUEST', 'Write what happened (1 to 2000 characters).');
    if (!rosterNames(this.script).includes(by)) throw new TesseraError('INVALID_REQUEST', `“${by}” is not on the roster: ${rosterNames(this.script).join(', ')}.`);
    if (this.current === null || this.outcome !== 'running' || this.busy) throw new TesseraError('INVALID_REQUEST', 'There is no step to record an exception at.');
    const step = this.step();
    const failed = this.waiting === 'exception';
    const stop = step.onException === 'stop';
    const then = stop ? 'stopped' : 'continued';
    const time = new Date().toISOString();
    this.exceptions.push({ step: step.n, time, by, text: words, then });
    await this.record(SCRIPT_EXCEPTION_ACTION, { step: step.n, by, text: words, then });
    if (stop) {
      if (this.waiting === 'ceremony') this.deps.ceremonies.running()?.cancel();
      await this.stop('stopped', `Stopped at step ${step.n} after the exception ${by} recorded.`);
    } else if (failed) {
      this.moveTo(step.n + 1);
    }
    return this.changed();
  }

  /** The administrator ends the run early (recorded, `ceremony.cancelled`); the transcript says so. */
  async cancel(): Promise<ScriptRunView> {
    if (this.outcome !== 'running') return this.view();
    if (this.waiting === 'begin') throw new TesseraError('INVALID_REQUEST', 'The ceremony has not begun: close the script instead.');
    const at = this.current;
    if (this.waiting === 'ceremony') this.deps.ceremonies.running()?.cancel();
    await this.stop('cancelled', `Cancelled by the administrator${at === null ? '' : ` at step ${at}`}.`);
    await this.record(SCRIPT_CANCEL_ACTION, { step: at });
    return this.changed();
  }

  /**
   * After the last step (or a stop): the transcript, signed by the partition's audit key (the
   * crypto officer must be logged in), written to the media with its PDF, read back, and its
   * hashes recorded in the audit log (`ceremony.transcript`). Then the crypto officer is logged
   * out, so the partition seals the log's head over that record.
   * @throws TesseraError INVALID_REQUEST when the run is not at its end; NOT_LOGGED_IN; MEDIA_ERROR.
   */
  async finish(): Promise<ScriptRunView> {
    if (this.waiting !== 'sign') throw new TesseraError('INVALID_REQUEST', 'The ceremony is not at its end.');
    if (!this.deps.partition.loggedIn) throw new TesseraError('NOT_LOGGED_IN', 'The crypto officer must log in so the partition signs the transcript.');
    this.ended ??= new Date().toISOString();
    const folder = await this.transcriptFolder();
    const body = this.body();
    const written = await writeTranscript(folder, transcriptBase(this.script.title, this.started ?? this.ended, this.practice), body, (statement) => this.deps.partition.signWithAuditKey(statement));
    this.transcript = { json: written.json, pdf: written.pdf, digest: written.digest };
    if (this.intent) this.deps.intents.finish(this.intent, 'transcript');
    this.intent = null;
    await this.record(TRANSCRIPT_ACTION, { json: written.json, pdf: written.pdf, digest: written.digest, jsonSha256: written.sha256.json, pdfSha256: written.sha256.pdf, outcome: this.outcome === 'running' ? 'completed' : this.outcome });
    this.deps.audit.unmark();
    await this.deps.partition.logout();
    this.wait('ended', `The transcript is written: ${written.json} and ${written.pdf}. Print the PDF; everyone on the roster signs it.`);
    return this.changed();
  }

  /** Stops listening to the ceremony host and clears the audit marks (the terminal is closing, or the run is put aside). */
  close(): void {
    this.stopCeremonyWatch?.();
    this.deps.audit.unmark();
  }

  // ---- the steps ----

  private step(): ScriptStep {
    const step = this.script.steps[(this.current ?? 1) - 1];
    if (!step) throw new TesseraError('INTERNAL', 'No such step.');
    return step;
  }

  private viewOf(n: number): ScriptStepView {
    return this.steps[n - 1] as ScriptStepView;
  }

  private moveTo(n: number): void {
    if (n > this.steps.length) {
      this.current = null;
      this.outcome = this.outcome === 'running' ? 'completed' : this.outcome;
      this.ended = new Date().toISOString();
      this.wait('sign', `Every step is done. ${this.signer()}: log in as crypto officer so the partition signs the transcript.`);
      return;
    }
    this.current = n;
    if (this.intent) {
      this.intent = this.deps.intents.step(this.intent, `step-${n}`);
      crashPoint(`ceremony-script:step-${n}`);
    }
    const step = this.step();
    const who = step.by.length > 0 ? step.by.join(', ') : step.do === 'manual' ? this.script.roster.administrator : 'the officers';
    this.wait('step', `Step ${n} of ${this.steps.length}: ${step.title}. Who acts: ${who}.${step.expect ? ` Expected: ${step.expect}.` : ''} ${this.script.roster.administrator}: start it when everyone is ready.`);
  }

  private async endStep(step: ScriptStep, outcome: 'done' | 'failed' | 'cancelled' | 'confirmed', details: string[], cards: { holder: string; card: string }[] = []): Promise<ScriptRunView> {
    const view = this.viewOf(step.n);
    view.state = outcome;
    view.ended = new Date().toISOString();
    view.details.push(...details);
    view.cards.push(...cards);
    await this.record(SCRIPT_STEP_ACTION, { step: step.n, do: step.do, title: step.title, outcome, holders: cards.map((c) => c.holder).join(', ') || null }).catch((error: unknown) => {
      view.details.push(`Not recorded in the audit log: ${toErrorData(error).message}`);
    });
    if (outcome === 'failed' || outcome === 'cancelled') {
      this.wait('exception', `Step ${step.n} ${outcome === 'failed' ? 'failed' : 'was cancelled'}: ${details.join(' ')} ${this.script.roster.administrator}: record the exception (what happened, who saw it); the script then ${step.onException === 'continue' ? 'goes on with the next step' : 'stops the ceremony'}.`);
    } else {
      this.moveTo(step.n + 1);
    }
    return this.changed();
  }

  private async stop(outcome: 'stopped' | 'cancelled' | 'failed', why: string): Promise<void> {
    this.outcome = outcome;
    if (this.intent) this.intent = this.deps.intents.step(this.intent, outcome);
    this.ended = new Date().toISOString();
    this.current = null;
    for (const s of this.steps) if (s.state === 'current') s.state = 'cancelled';
    this.problem = why;
    this.wait('sign', `${why} ${this.signer()}: log in as crypto officer so the partition signs the transcript of what happened.`);
  }

  /** Operations that are not ceremonies. */
  private async direct(step: ScriptStep): Promise<string[]> {
    switch (step.do) {
      case 'key-invalidate': {
        const key = await this.deps.invalidateKey(step.id);
        return [`The key “${key.label}” (id ${key.id}) was invalidated: in the trash bin, every usage attribute off.`];
      }
      case 'audit-export': {
        const media = this.media(step.media);
        const report = await this.deps.exportAudit({ media, since: step.since });
        this.lastMedia = media;
        return [`Audit log entries ${report.from} to ${report.through} exported to ${report.path} (SHA-256 ${report.sha256}; read back and verified).`, report.unsealed ? `Entries ${report.unsealed.from} to ${report.unsealed.through} are not sealed by the partition yet.` : 'Every entry is sealed by the partition.'];
      }
      default:
        throw new TesseraError('INTERNAL', `No operation ${step.do}.`);
    }
  }

  private startCeremony(step: ScriptStep, kind: CeremonyKind, options: RunOptions): void {
    const request = this.requestOf(step, kind);
    this.stopCeremonyWatch?.();
    const view = this.deps.ceremonies.start(request, options);
    this.ceremonyId = view.id;
    this.wait('ceremony', `Step ${step.n}: ${step.title}. ${view.prompt.text}`);
    this.stopCeremonyWatch = this.deps.ceremonies.onCeremony((v) => {
      // A failure here (the database gone) must not go unseen nor take the terminal down: the run says it.
      this.ceremonyChanged(step, v).catch((error: unknown) => {
        this.problem = `The step's end could not be recorded: ${toErrorData(error).message}`;
        this.changed();
      });
    });
  }

  private async ceremonyChanged(step: ScriptStep, v: CeremonyView): Promise<void> {
    if (v.id !== this.ceremonyId || this.waiting !== 'ceremony') return;
    if (!['done', 'failed', 'cancelled'].includes(v.prompt.kind)) {
      this.instruction = `Step ${step.n}: ${step.title}. ${v.prompt.text}`;
      this.changed();
      return;
    }
    this.stopCeremonyWatch?.();
    this.stopCeremonyWatch = null;
    this.ceremonyId = null;
    const cards = (v.summary?.participants ?? []).map((p) => ({ holder: p.holder, card: p.card }));
    const details = [...(v.summary?.changes ?? [v.prompt.text])];
    // What the transcript must not pass over: cards of others than the script names, an empty backup.
    const others = step.by.length > 0 ? [...new Set(cards.map((c) => c.holder).filter((h) => !step.by.includes(h)))] : [];
    if (others.length > 0) details.push(`Not as the script says: the cards of ${others.join(', ')} were read; the script names ${step.by.join(', ')}.`);
    if (v.result?.kind === 'backup' && v.result.report.objects === 0) details.push('Warning: the backup holds no object: nothing in the partition could be backed up.');
    if (step.do === 'backup' && v.result?.kind === 'backup') this.lastMedia = this.media(step.media);
    await this.endStep(step, v.prompt.kind === 'done' ? 'done' : v.prompt.kind === 'failed' ? 'failed' : 'cancelled', details, cards);
  }

  private requestOf(step: ScriptStep, kind: CeremonyKind): CeremonyStart {
    switch (step.do) {
      case 'backup':
        return { kind: 'backup', media: this.media(step.media) };
      case 'restore':
        return { kind: 'restore', file: this.beside(step.file), onConflict: step.onConflict, ...(step.only ? { only: step.only } : {}) };
      case 'so-rotate':
      case 'backup-set-rotate':
        return { kind: step.do, ...(step.holders ? { holders: step.holders } : {}), ...(step.threshold ? { threshold: step.threshold } : {}), ...(step.do === 'backup-set-rotate' && step.newEscrowKey ? { newEscrowKey: true } : {}) } as CeremonyStart;
      case 'so-replace-card':
      case 'backup-replace-card':
        return { kind: step.do, holder: step.holder };
      case 'roll-call':
        return { kind: 'roll-call', set: step.set };
      case 'policy-set':
        return { kind: 'policy-set', changes: step.changes };
      case 'key-reactivate':
        return { kind: 'key-reactivate', id: step.id };
      case 'key-destroy':
        return { kind: 'key-destroy', ids: step.ids };
      default:
        return { kind } as CeremonyStart;
    }
  }

  /** The media and files a step names, for the window's runs: only what the terminal offers. */
  private async checkPaths(step: ScriptStep): Promise<void> {
    const offered = this.deps.requireOffered;
    if (!offered) return;
    const check = (path: string, kind: 'media' | 'file'): Promise<void> =>
      offered(path, kind).catch(() => {
        throw new TesseraError('MEDIA_ERROR', `The script names ${path}, which is not ${kind === 'media' ? 'a USB stick the terminal offers (or the lab\'s stand-in)' : 'a backup file on a USB stick the terminal offers'}. Nothing was done: insert the stick, or correct the script.`);
      });
    if (step.do === 'backup' || step.do === 'audit-export') await check(this.media(step.media), 'media');
    if (step.do === 'restore') await check(this.beside(step.file), 'file');
  }

  /** Ends the SO session (and with `both` the crypto officer's), saying so in the step. */
  private async endSessions(view: ScriptStepView, which: 'so' | 'both'): Promise<void> {
    if (this.deps.partition.soLoggedIn) {
      await this.deps.so.end('logout');
      view.details.push('The SO session was ended first: the partition allows one login at a time.');
    }
    if (which === 'both' && this.deps.partition.loggedIn) {
      await this.deps.partition.logout();
      view.details.push('The crypto officer was logged out first (the partition sealed the audit log).');
    }
  }

  /** `lab` is the training lab's stand-in for a USB stick; a relative path is beside the script. */
  private media(value: string): string {
    if (value === 'lab') {
      const lab = this.deps.mediaStandIns[0];
      if (!lab) throw new TesseraError('MEDIA_ERROR', 'The script names the lab\'s media, but this workstation has no lab.');
      return lab;
    }
    return this.beside(value);
  }

  /** A path as the script names it: absolute, or relative to the script's folder (the stick it came on). */
  private beside(path: string): string {
    return isAbsolute(path) ? path : resolve(dirname(this.source.path), path);
  }

  private async transcriptFolder(): Promise<string> {
    if (this.lastMedia) return this.lastMedia;
    const media = await listMedia(this.deps.mediaStandIns);
    const first = media[0];
    if (first) return first.path;
    return dirname(this.source.path);
  }

  private body(): TranscriptBody {
    const ended = this.ended ?? new Date().toISOString();
    return {
      format: TRANSCRIPT_FORMAT,
      practice: this.practice,
      title: this.script.title,
      script: { file: baseName(this.source.path), sha256: this.sha256 },
      partition: { label: this.where.label, serial: this.where.serial, script: { ...this.script.partition } },
      terminal: { installation: this.deps.audit.installationId, workstationUser: this.deps.workstationUser },
      roster: { administrator: this.script.roster.administrator, witnesses: [...this.script.roster.witnesses], officers: this.script.roster.officers.map((o) => ({ name: o.name, roles: [...o.roles] })) },
      preconditions: this.preconditions.map((p) => ({ ...p })),
      steps: this.steps.map((s) => ({ n: s.n, title: s.title, do: s.do, by: [...s.by], expected: s.expected, outcome: transcriptOutcome(s.state), started: s.started, ended: s.ended, details: [...s.details], cards: [...s.cards] })),
      exceptions: this.exceptions.map((e) => ({ ...e })),
      started: this.started ?? ended,
      ended,
      outcome: this.outcome === 'running' ? 'completed' : this.outcome,
      audit: { from: this.auditFrom, through: this.deps.audit.head()?.seq ?? 0 },
    };
  }

  private signer(): string {
    return this.script.roster.officers.find((o) => o.roles.includes('crypto-officer'))?.name ?? 'The crypto officer';
  }

  private allMet(): boolean {
    return this.preconditions.every((p) => p.met);
  }

  private wait(waiting: ScriptWaiting, instruction: string): void {
    this.waiting = waiting;
    this.instruction = instruction;
  }

  private async record(action: string, details: Record<string, string | number | boolean | null>): Promise<void> {
    await this.deps.audit.append({ actor: this.deps.actor, action, target: `${this.where.label} (serial ${this.where.serial})`, outcome: 'ok', details: { ...details, practice: this.practice } });
  }

  private changed(): ScriptRunView {
    const view = this.view();
    for (const listener of this.listeners) listener(view);
    return view;
  }
}

/** The ceremony kind a step runs, or null for the operations run directly. */
function ceremonyOf(step: ScriptStep): CeremonyKind | null {
  return step.do in ceremonyKinds ? (step.do as CeremonyKind) : null;
}

function coName(script: CeremonyScript, step: ScriptStep): string {
  return step.by.find((b) => script.roster.officers.some((o) => o.name === b && o.roles.includes('crypto-officer'))) ?? script.roster.officers.find((o) => o.roles.includes('crypto-officer'))?.name ?? 'The crypto officer';
}

function rosterNames(script: CeremonyScript): string[] {
  return [script.roster.administrator, ...script.roster.witnesses, ...script.roster.officers.map((o) => o.name)];
}

function baseName(path: string): string {
  return path.split('/').at(-1) ?? path;
}

/** "PRACTICE-quarterly-backup-20261130T140233Z" (no characters a file system could refuse). */
function transcriptBase(title: string, started: string, practice: boolean): string {
  const slug = title.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 60).replace(/-$/, '') || 'ceremony';
  return `${practice ? 'PRACTICE-' : ''}${slug}-${started.replace(/[-:]/g, '').replace(/\.\d+/, '').slice(0, 15)}Z`;
}

/**
 * The script's preconditions against the partition as the terminal finds it: the partition (label
 * and serial; in practice, one marked for practice), the SO and backup card sets (holders, m, and
 * the fingerprint when the script pins it), the media.
 */
async function checkPreconditions(deps: ScriptRunDeps, script: CeremonyScript, where: { label: string; serial: string }, practice: boolean, scriptFolder: string): Promise<ScriptRunView['preconditions']> {
  const out: ScriptRunView['preconditions'] = [];
  if (practice) {
    out.push({ what: 'partition', met: true, detail: `PRACTICE on “${where.label}” (serial ${where.serial}); the script is for “${script.partition.label}” (serial ${script.partition.serial}).` });
  } else {
    const met = where.label === script.partition.label && where.serial === script.partition.serial;
    out.push({ what: 'partition', met, detail: met ? `“${where.label}” (serial ${where.serial}), as the script names.` : `The script is for “${script.partition.label}” (serial ${script.partition.serial}), but the chosen partition is “${where.label}” (serial ${where.serial}).` });
  }
  const so = script.preconditions.cardSet;
  if (so) {
    const set = safe(() => deps.soSet());
    out.push(setCheck('SO card set', so, set ? { holders: set.cards.map((c) => c.holder), m: set.m, fingerprint: set.set } : null));
  }
  const backup = script.preconditions.backupSet;
  if (backup) {
    const set = safe(() => deps.backupSet());
    out.push(setCheck('backup key set', backup, set ? { holders: set.holders, m: set.m, fingerprint: set.fingerprint } : null));
  }
  if (script.preconditions.media) {
    const media = await listMedia(deps.mediaStandIns).catch(() => []);
    const named = script.steps.flatMap((s) => ('media' in s && s.media !== 'lab' ? [isAbsolute(s.media) ? s.media : join(scriptFolder, s.media)] : []));
    const usesLab = script.steps.some((s) => 'media' in s && s.media === 'lab');
    const missing = [...(usesLab && deps.mediaStandIns.length === 0 ? ["the lab's media"] : []), ...named.filter((p) => !media.some((m) => m.path === p))];
    const met = media.length > 0 && missing.length === 0;
    out.push({ what: 'media', met, detail: met ? `Media present: ${media.map((m) => `${m.label} (${m.path})`).join(', ')}.` : media.length === 0 ? 'No USB stick is inserted.' : `Not found: ${missing.join(', ')}.` });
  }
  return out;
}

function setCheck(what: string, want: ScriptCardSet, have: { holders: string[]; m: number; fingerprint: string } | null): ScriptRunView['preconditions'][number] {
  if (!have) return { what, met: false, detail: `The partition has no ${what}; the script expects ${want.threshold} of ${want.holders.join(', ')}.` };
  const sameHolders = [...have.holders].sort().join('\n') === [...want.holders].sort().join('\n');
  const norm = (f: string): string => f.replace(/[\s:-]/g, '').toLowerCase();
  const fp = want.fingerprint === null || norm(want.fingerprint) === norm(have.fingerprint);
  const met = sameHolders && have.m === want.threshold && fp;
  const found = `${have.m} of ${have.holders.join(', ')}`;
  return { what, met, detail: met ? `The ${what}: ${found}${want.fingerprint ? `, fingerprint ${have.fingerprint}` : ''}, as the script expects.` : `The ${what} is ${found}${fp ? '' : ` with fingerprint ${have.fingerprint}`}; the script expects ${want.threshold} of ${want.holders.join(', ')}${want.fingerprint ? ` with fingerprint ${want.fingerprint}` : ''}.` };
}

function safe<T>(read: () => T): T | null {
  try {
    return read();
  } catch {
    return null;
  }
}
