// The terminal's services, wired once. The Electron main process, the Chromium test host and the
// CLI each open one Terminal; none of them builds services by hand.
import { userInfo } from 'node:os';
import { AuditLog } from './audit/audit-log';
import { ReaderMonitor } from './cards/reader-monitor';
import { databaseFile } from './config/paths';
import type { Keychain } from './keychain/keychain';
import { KeytarKeychain } from './keychain/keytar-keychain';
import { type FrontEnd, PartitionService } from './partition/partition-service';
import { type Sql, openDatabase } from './store/database';
import { Settings } from './store/settings';

export interface TerminalOptions {
  home: string;
  frontEnd: FrontEnd;
  keychain?: Keychain;
  /** Used when nothing was chosen before, e.g. the training lab's partition. */
  defaults?: { modulePath?: string; tokenLabel?: string };
}

export class Terminal {
  readonly settings: Settings;
  readonly audit: AuditLog;
  readonly partition: PartitionService;
  readonly readers = new ReaderMonitor();

  private constructor(
    readonly home: string,
    private readonly db: Sql,
    options: TerminalOptions,
  ) {
    this.settings = new Settings(db);
    this.audit = new AuditLog(db, options.keychain ?? new KeytarKeychain(), this.settings.installationId());
    this.partition = new PartitionService(this.settings, this.audit, actorName(options.frontEnd), options.defaults);
  }

  static open(options: TerminalOptions): Terminal {
    return new Terminal(options.home, openDatabase(databaseFile(options.home)), options);
  }

  async close(): Promise<void> {
    this.readers.stop();
    await this.partition.close();
    this.db.close();
  }
}

/** Who acts, as the audit log records it, until officers are identified by their cards. */
function actorName(frontEnd: FrontEnd): string {
  let osUser = 'unknown';
  try {
    osUser = userInfo().username;
  } catch {
    // no passwd entry for this uid
  }
  return `${frontEnd === 'gui' ? 'terminal' : 'command line'} (workstation user ${osUser})`;
}
