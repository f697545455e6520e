// The terminal's services, wired once. The Electron main process, the Chromium test host and the
// CLI each open one Terminal; none of them builds services by hand.
import { userInfo } from 'node:os';
import { AuditLog } from './audit/audit-log';
import { TesseraError } from './errors';
import { recordAccount } from './audit/terminal-record';
import { ReaderMonitor } from './cards/reader-monitor';
import { databaseFile } from './config/paths';
import type { Keychain } from './keychain/keychain';
import { KeytarKeychain } from './keychain/keytar-keychain';
import { type FrontEnd, PartitionService } from './partition/partition-service';
import { type Sql, openDatabase } from './store/database';
import { IntentLog } from './store/intents';
import { Settings } from './store/settings';
import { CardSetStore } from './quorum/card-set-store';
import { CardSets } from './quorum/card-sets';
import { SoSession } from './quorum/so-session';
import { BackupService } from './backup/backup-service';
import { BackupCatalogue } from './backup/catalogue';
import { CeremonyHost } from './ceremony/host';
import type { CeremonyContext } from './ceremony/context';
import { invalidateKey, listInvalidated } from './ceremony/key-lifecycle';
import { TrashBinStore } from './keys/trash-bin';
import { PolicyStore } from './policy/policy-record';
import { PolicyService } from './policy/policy-service';
import type { AuditExportReport, InvalidatedKeyView, PolicyView } from '../shared/types';
import { type ExportRequest, exportAudit } from './record/audit-export';
import { ScriptRun, type ScriptSource, recoverScriptRuns } from './record/script-run';
import { ScriptDesk } from './record/script-desk';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { mediaStandIns } from './config/lab-profile';
import { type ApprovedModules, moduleGate } from './hsm/module-list';

export interface TerminalOptions {
  home: string;
  frontEnd: FrontEnd;
  keychain?: Keychain;
  /** Folders offered as backup media besides removable drives (default: the training lab's stand-in). */
  mediaStandIns?: string[];
  /** Used when nothing was chosen before, e.g. the training lab's partition. */
  defaults?: { modulePath?: string; tokenLabel?: string };
  /**
   * The administrator's list of modules (default: TESSERA_MODULES_FILE or /etc/tessera/modules.json),
   * the lab's module offered besides it (default: the training lab's, where there is one), and how
   * long a module's probe may take.
   */
  modules?: { file?: string; labModule?: string | null; probeTimeoutMs?: number };
  /**
   * The module gate, when the front end built it before opening the terminal (moduleGate in
   * hsm/module-list.ts) to start a module's probe early (the CLI); `modules` is then not used.
   */
  moduleGate?: ApprovedModules;
  /** The folder of the ceremony scripts shipped with Tessera (default: resources/ceremonies of the working folder, when there). */
  scriptExamples?: string | null;
}

export class Terminal {
  readonly settings: Settings;
  readonly audit: AuditLog;
  readonly partition: PartitionService;
  readonly readers = new ReaderMonitor();
  readonly cardSets: CardSets;
  readonly so: SoSession;
  readonly ceremonies: CeremonyHost;
  readonly backups: BackupCatalogue;
  readonly backup: BackupService;
  readonly policy: PolicyService;
  /** The trash bin: invalidate a key (crypto officer), list the bin. Reactivate and destroy are ceremonies. */
  readonly keys: { invalidate(id: string): Promise<InvalidatedKeyView>; invalidated(): Promise<InvalidatedKeyView[]>; policy(): PolicyView };
  readonly mediaStandIns: string[];
  /** Audit exports to USB media (record/audit-export.ts). */
  readonly record: {
    exportAudit(request: ExportRequest): Promise<AuditExportReport>;
    /** A ceremony script opened for the chosen partition (record/script-run.ts); practice on a practice partition only. */
    openScript(source: ScriptSource, practice: boolean, options?: { offeredOnly?: boolean }): Promise<ScriptRun>;
  };
  /** The window's scripted ceremony (one at a time): the scripts it may open and the run in progress. */
  readonly scripts: ScriptDesk;
  /** The modules officers may choose from, and the gate every module passes before it is loaded. */
  readonly modules: ApprovedModules;
  private readonly intents: IntentLog;
  private readonly actor: string;
  /** What recovery of interrupted operations found at start, in officers' words. */
  recovered: string[] = [];

  private constructor(
    readonly home: string,
    private readonly db: Sql,
    options: TerminalOptions,
  ) {
    this.settings = new Settings(db);
    this.audit = new AuditLog(db, options.keychain ?? new KeytarKeychain(), this.settings.installationId(), recordAccount(options.home));
    const actor = actorName(options.frontEnd);
    this.mediaStandIns = options.mediaStandIns ?? mediaStandIns();
    this.modules = options.moduleGate ?? moduleGate(options.modules ?? {}, this.mediaStandIns);
    // The window chooses only from the list; the command line names a module, which passes the same checks.
    this.partition = new PartitionService(this.settings, this.audit, actor, { modules: this.modules, listedOnly: options.frontEnd === 'gui' }, options.defaults);
    const store = new CardSetStore(db);
    const intents = new IntentLog(db);
    this.intents = intents;
    this.actor = actor;
    this.backups = new BackupCatalogue(db);
    this.cardSets = new CardSets(this.partition, store, intents, this.audit);
    this.so = new SoSession(this.partition, this.audit, this.settings, actor);
    const policies = new PolicyStore(db);
    this.policy = new PolicyService(this.partition, policies);
    const ctx: CeremonyContext = {
      partition: this.partition,
      readers: this.readers,
      store,
      intents,
      audit: this.audit,
      so: this.so,
      catalogue: this.backups,
      policy: this.policy,
      policies,
      trash: new TrashBinStore(db),
      mediaStandIns: this.mediaStandIns,
      actor,
      trust: (purpose) => this.cardSets.trust(purpose),
    };
    this.ceremonies = new CeremonyHost(ctx);
    this.keys = {
      invalidate: (id) => invalidateKey(ctx, id),
      invalidated: () => listInvalidated(ctx),
      policy: () => {
        const d = ctx.trust('so')?.descriptor ?? null;
        return this.policy.view(d ? { m: d.m, n: d.n } : null);
      },
    };
    const exportTo = (request: ExportRequest): Promise<AuditExportReport> => exportAudit({ audit: this.audit, partition: this.partition, mediaStandIns: this.mediaStandIns, actor }, request);
    this.record = {
      exportAudit: exportTo,
      openScript: (source, practice, options = {}) =>
        ScriptRun.open(
          {
            partition: this.partition,
            so: this.so,
            ceremonies: this.ceremonies,
            audit: this.audit,
            invalidateKey: (id) => invalidateKey(ctx, id),
            exportAudit: exportTo,
            intents,
            ...(options.offeredOnly ? { requireOffered: (path: string, kind: 'media' | 'file') => this.backup.requireOffered(path, kind) } : {}),
            soSet: () => this.cardSets.view(),
            backupSet: () => this.backup.backupSet(),
            mediaStandIns: this.mediaStandIns,
            actor,
            workstationUser: workstationUser(),
          },
          source,
          practice,
        ),
    };
    const examples = options.scriptExamples === undefined ? resolve('resources', 'ceremonies') : options.scriptExamples;
    this.scripts = new ScriptDesk((source, practice) => this.record.openScript(source, practice, { offeredOnly: true }), () => this.backup.media(), examples && existsSync(examples) ? examples : null);
    this.backup = new BackupService(this.partition, store, intents, this.backups, this.mediaStandIns);
  }

  /**
   * Opens the terminal's database, checks it against the keychain's record of the audit log, and
   * finishes or rolls back what a crash interrupted. With an audit alarm (a replaced or cut log)
   * the terminal opens so the alarm can be seen and verified, but recovery waits: it would have to
   * be recorded, and the log takes no entry until an officer acknowledges the alarm.
   * @throws TesseraError KEYCHAIN_UNAVAILABLE, STORE_ERROR, or what recovery throws.
   */
  static async open(options: TerminalOptions): Promise<Terminal> {
    const terminal = new Terminal(options.home, openDatabase(databaseFile(options.home)), options);
    try {
      const alarm = await terminal.audit.start().catch((error: unknown) => {
        // Without the keychain the terminal still shows the partition and readers; the log checks
        // its record before its next entry, and refuses that entry while the keychain is away.
        if (error instanceof TesseraError && error.code === 'KEYCHAIN_UNAVAILABLE') return null;
        throw error;
      });
      terminal.recovered = alarm
        ? [`AUDIT ALARM: ${alarm.message} Interrupted work is recovered only after an officer acknowledges this.`]
        : [...(await terminal.ceremonies.recover()), ...(await recoverScriptRuns(terminal.intents, terminal.audit, terminal.actor))];
    } catch (error) {
      await terminal.close();
      throw error;
    }
    return terminal;
  }

  async close(): Promise<void> {
    this.scripts.dispose();
    await this.ceremonies.close();
    await this.so.end('quit');
    this.readers.stop();
    await this.partition.close();
    this.db.close();
  }
}

function workstationUser(): string {
  try {
    return userInfo().username;
  } catch {
    return 'unknown'; // no passwd entry for this uid
  }
}

/** Who acts, as the audit log records it, until officers are identified by their cards. */
function actorName(frontEnd: FrontEnd): string {
  const osUser = workstationUser();
  return `${frontEnd === 'gui' ? 'terminal' : 'command line'} (workstation user ${osUser})`;
}
