// The security-officer session a quorum of cards opened: who opened it, when it ends unless used
// (idle minutes, a setting), and how the last one ended, so the officers are told when it ends by
// itself. The login itself is the SO-login ceremony's; this keeps the session it leaves behind.
import type { SoSessionView } from '../../shared/types';
import type { AuditLog } from '../audit/audit-log';
import { TesseraError } from '../errors';
import type { PartitionService } from '../partition/partition-service';
import type { Settings } from '../store/settings';

const IDLE_SETTING = 'so.idleMinutes';
const DEFAULT_IDLE_MINUTES = 5;

export type SoEndReason = NonNullable<SoSessionView['lastEnd']>['reason'];

export class SoSession {
  private so: { partition: { label: string; serial: string }; holders: string[]; expiresAt: number; timer: NodeJS.Timeout | null } | null = null;
  private lastEnd: SoSessionView['lastEnd'] = null;
  private readonly listeners = new Set<(view: SoSessionView) => void>();

  constructor(
    private readonly partition: PartitionService,
    private readonly audit: AuditLog,
    private readonly settings: Settings,
    private readonly actor: string,
  ) {}

  /** Idle minutes before the session ends by itself (1 to 60; default 5). */
  get idleMinutes(): number {
    return this.settings.get<number>(IDLE_SETTING) ?? DEFAULT_IDLE_MINUTES;
  }

  /** @throws TesseraError INVALID_REQUEST outside 1 to 60 minutes. */
  setIdleMinutes(minutes: number): void {
    if (!Number.isInteger(minutes) || minutes < 1 || minutes > 60) throw new TesseraError('INVALID_REQUEST', 'The SO session idle time is 1 to 60 minutes.');
    this.settings.set(IDLE_SETTING, minutes);
  }

  view(): SoSessionView {
    const active = this.so !== null && this.partition.soLoggedIn;
    return {
      active,
      partition: active ? (this.so?.partition ?? null) : null,
      holders: active ? (this.so?.holders ?? []) : [],
      expiresAt: active && this.so ? new Date(this.so.expiresAt).toISOString() : null,
      idleMinutes: this.idleMinutes,
      lastEnd: this.lastEnd,
    };
  }

  /** Called by the SO-login ceremony once the HSM accepted the quorum's credential. */
  started(partition: { label: string; serial: string }, holders: string[]): void {
    this.so = { partition, holders, expiresAt: 0, timer: null };
    this.touch();
  }

  /** Any SO work keeps the session alive for another idle period. */
  touch(): void {
    const so = this.so;
    if (!so) return;
    so.expiresAt = Date.now() + this.idleMinutes * 60_000;
    if (so.timer) clearTimeout(so.timer);
    so.timer = setTimeout(() => void this.end('idle'), Math.max(0, so.expiresAt - Date.now()));
    so.timer.unref();
    this.emit();
  }

  /** Logs the SO out (audited with the reason); nothing when no session is open. */
  async end(reason: SoEndReason): Promise<void> {
    const so = this.so;
    if (!so) return;
    if (so.timer) clearTimeout(so.timer);
    this.so = null;
    this.partition.logoutSo();
    this.lastEnd = { reason, at: new Date().toISOString(), holders: so.holders };
    await this.audit.append({ actor: this.actor, action: 'so.logout', target: `${so.partition.label} (serial ${so.partition.serial})`, outcome: 'ok', details: { reason, holders: so.holders.join(', ') } });
    this.emit();
  }

  onChange(listener: (view: SoSessionView) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(): void {
    const view = this.view();
    for (const listener of this.listeners) listener(view);
  }
}
