// The one ceremony running at a time: started from the registry (after the login it needs and its
// precheck, so nothing is asked of an officer for a ceremony that cannot work), given the officers'
// answers, and ended with a summary. A ceremony that fails or is cancelled is recorded in the audit
// log with what stays written, unless it recorded its own end. Recovery of every kind runs here too.
import { type CeremonyKind, type CeremonyStart, ceremonyKinds, loginProblem } from '../../shared/ceremonies';
import type { CeremonyResult, CeremonyView } from '../../shared/types';
import { TesseraError, toErrorData } from '../errors';
import { wipe } from '../secrets';
import type { CeremonyContext, RunOptions } from './context';
import { entryOf, registry } from './registry';
import { CeremonyCancelled, type CeremonyInput, CeremonyRun } from './run';

export class CeremonyHost {
  private ceremony: CeremonyRun | null = null;
  private finished: Promise<void> | null = null;
  private readonly refusals: Promise<void>[] = [];
  private readonly listeners = new Set<(view: CeremonyView) => void>();

  constructor(private readonly ctx: CeremonyContext) {}

  /**
   * Starts a ceremony and returns its first view.
   * @throws TesseraError, before anything is asked of the officers: another ceremony is under way,
   *   the audit log has an alarm (AUDIT_ALARM),
   *   the wrong role is logged in, or the kind's precheck refuses (in officers' words).
   */
  start(request: CeremonyStart, options: RunOptions = { retryWrongPin: true }): CeremonyView {
    if (this.ceremony && !this.ceremony.done) throw new TesseraError('INVALID_REQUEST', 'Another ceremony is under way. Finish or cancel it first.');
    this.ctx.audit.assertWritable();
    this.checkLogin(request.kind);
    const entry = entryOf(request.kind);
    try {
      entry.precheck?.(this.ctx, request as never);
    } catch (error) {
      this.auditRefusal(request.kind, error);
      throw error;
    }
    const partition = request.kind === 'backup-list' ? { label: '(no partition needed)', serial: '' } : this.ctx.partition.partition();
    const run = new CeremonyRun(this.ctx.readers, request.kind, { label: partition.label, serial: partition.serial });
    run.record = (entry) => this.ctx.audit.append({ actor: this.ctx.actor, ...entry, details: { ...entry.details, ceremony: request.kind } }).then(() => undefined);
    this.ceremony = run;
    run.onChange((view) => {
      for (const listener of this.listeners) listener(view);
    });
    const auditFrom = this.ctx.audit.list(1)[0]?.seq ?? 0;
    this.finished = entry.run(run, this.ctx, request as never, options).then(
      (result) => this.end(run, result),
      (error: unknown) => this.fail(run, request, error, auditFrom),
    );
    return run.snapshot();
  }

  /** The running (or last) ceremony, to wait for its end or cancel it (CLI, tests). */
  running(): CeremonyRun | null {
    return this.ceremony;
  }

  /** Resolves once the last ceremony has ended and let go of everything. */
  settled(): Promise<void> {
    return this.finished ?? Promise.resolve();
  }

  /** The ceremony under way, if any (a finished one is not offered again after its result was shown). */
  current(): CeremonyView | null {
    return this.ceremony && !this.ceremony.done ? this.ceremony.snapshot() : null;
  }

  /**
   * An officer's input to the running ceremony; `seq` names the prompt it answers.
   * @throws TesseraError INVALID_REQUEST when that ceremony is over, or has moved on to another question.
   */
  provide(id: string, input: CeremonyInput, seq?: number): CeremonyView {
    const ceremony = this.ceremony;
    const stale = !ceremony || ceremony.id !== id ? 'That ceremony is over.' : seq !== undefined && input.kind !== 'cancel' && seq !== ceremony.current().prompt.seq ? 'The ceremony has moved on; answer what it asks now.' : null;
    if (stale || !ceremony) {
      if (input.kind === 'pin') wipe(input.pin, input.repeat);
      throw new TesseraError('INVALID_REQUEST', stale ?? 'That ceremony is over.');
    }
    ceremony.provide(input);
    return ceremony.snapshot();
  }

  onCeremony(listener: (view: CeremonyView) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** At start: every kind's recovery of what a crash interrupted, in registry order. */
  async recover(): Promise<string[]> {
    const said: string[] = [];
    for (const kind of Object.keys(registry) as CeremonyKind[]) said.push(...((await registry[kind].recover?.(this.ctx)) ?? []));
    return said;
  }

  async close(): Promise<void> {
    this.ceremony?.cancel();
    await this.settled();
    await Promise.all(this.refusals);
  }

  /**
   * A ceremony the terminal refused to start for the partition's safety (an SO PIN at risk, a
   * refused SO login not yet acknowledged) is in the audit log too. Start answers at once, so the
   * entry is written in the background; close() waits for it.
   */
  private auditRefusal(kind: CeremonyKind, error: unknown): void {
    const data = toErrorData(error);
    const action = entryOf(kind).audit;
    if (data.code !== 'PIN_LOCKED' || !action) return;
    const token = this.ctx.partition.partition();
    const entry = this.ctx.audit
      .append({ actor: this.ctx.actor, action, target: `${token.label} (serial ${token.serial})`, outcome: 'refused', details: { error: data.code, reason: data.message, ceremony: kind } })
      .then(() => undefined)
      .catch(() => undefined);
    this.refusals.push(entry);
  }

  private checkLogin(kind: CeremonyKind): void {
    const { partition } = this.ctx;
    const problem = loginProblem(kind, { cryptoOfficer: partition.loggedIn, securityOfficer: partition.soLoggedIn });
    if (problem) throw new TesseraError(ceremonyKinds[kind].login === 'crypto-officer' ? 'NOT_LOGGED_IN' : 'INVALID_REQUEST', problem);
  }

  private end(run: CeremonyRun, result: CeremonyResult): void {
    const changes = (entryOf(result.kind).changes as (r: CeremonyResult) => string[])(result);
    run.finish({
      result,
      prompt: { kind: 'done', text: 'Done.' },
      steps: run.current().steps.map((s) => ({ ...s, state: 'done' })),
      written: [],
      summary: this.summary(run, 'done', changes),
    });
  }

  private async fail(run: CeremonyRun, request: CeremonyStart, error: unknown, auditFrom: number): Promise<void> {
    const cancelled = run.isCancelled || error instanceof CeremonyCancelled;
    const data = toErrorData(error);
    const written = run.current().written;
    const stays = written.length > 0 ? written : ['Nothing was changed.'];
    const action = entryOf(request.kind).audit;
    if (action && !this.ctx.audit.list(20).some((e) => e.seq > auditFrom && e.action === action)) {
      const refused = !cancelled && (data.code === 'BACKUP_INVALID' || data.code === 'CARD_ERROR' || data.code === 'PIN_LOCKED');
      const where: Record<string, string> = 'media' in request ? { media: request.media } : 'file' in request ? { file: request.file } : {};
      await this.ctx.audit
        .append({
          actor: this.ctx.actor,
          action,
          target: run.current().partition.serial ? `${run.current().partition.label} (serial ${run.current().partition.serial})` : 'file' in request ? request.file : '',
          outcome: refused ? 'refused' : 'failed',
          details: { ...where, error: cancelled ? 'cancelled' : data.code, reason: cancelled ? 'cancelled by the officers' : data.message, holders: run.current().collected.map((c) => c.holder).join(', '), stillWritten: written.join(' ') || null },
        })
        .catch(() => undefined);
    }
    if (cancelled) {
      run.finish({
        prompt: { kind: 'cancelled', text: written.length > 0 ? `Cancelled. What stays written: ${written.join(' ')}` : 'Cancelled. Nothing was changed.' },
        steps: run.current().steps.map((s) => (s.state === 'current' ? { ...s, state: 'todo' } : s)),
        summary: this.summary(run, 'cancelled', stays),
      });
      return;
    }
    run.finish({
      prompt: { kind: 'failed', text: data.message },
      error: data,
      steps: run.current().steps.map((s) => (s.state === 'current' ? { ...s, state: 'failed' } : s)),
      notices: [...run.current().notices, { level: 'error', text: data.message, ...(data.detail ? { detail: data.detail } : {}) }],
      summary: this.summary(run, 'failed', [data.message, ...stays]),
    });
  }

  private summary(run: CeremonyRun, outcome: 'done' | 'failed' | 'cancelled', changes: string[]): CeremonyView['summary'] {
    const v = run.current();
    return { title: v.title, outcome, changes, participants: v.collected.map((c) => ({ holder: c.holder, card: c.card })), partition: v.partition, started: v.started, ended: new Date().toISOString() };
  }
}
