// Officers' card sets and the security-officer session: which card set the chosen partition has
// (from the terminal's records, or from the partition and its cards when the records are gone), the
// one ceremony running at a time, the SO session with its idle timeout, and recovery of an
// enrolment that a crash interrupted.
import type { CardSetView, CeremonyView, SoSessionView } from '../../shared/types';
import type { AuditLog } from '../audit/audit-log';
import type { ReaderMonitor } from '../cards/reader-monitor';
import type { BackupCatalogue } from '../backup/catalogue';
import { AdoptCeremony, type AdoptParams, checkAdoptParams } from '../ceremony/adopt';
import { BackupCeremony, type BackupContext } from '../ceremony/backup';
import { BackupSetCeremony } from '../ceremony/backup-set';
import { RestoreCeremony } from '../ceremony/restore';
import { CardCheckCeremony } from '../ceremony/card-check';
import { CardPinChangeCeremony } from '../ceremony/card-pin-change';
import type { Ceremony, CeremonyInput } from '../ceremony/ceremony';
import { SoLoginCeremony } from '../ceremony/so-login';
import { TesseraError } from '../errors';
import { wipe } from '../secrets';
import type { PartitionService } from '../partition/partition-service';
import type { IntentLog } from '../store/intents';
import type { Settings } from '../store/settings';
import { type CardSetDescriptor, descriptorHash } from './card-set';
import type { CardSetStore } from './card-set-store';
import type { AdoptIntent, Trust } from './quorum-context';

const IDLE_SETTING = 'so.idleMinutes';
const DEFAULT_IDLE_MINUTES = 5;

export type CeremonyStart =
  | { kind: 'adopt'; holders: string[]; threshold: number }
  | { kind: 'so-login' }
  | { kind: 'check-card' }
  | { kind: 'change-pin' }
  | { kind: 'backup-set'; holders: string[]; threshold: number }
  | { kind: 'backup'; media: string }
  | { kind: 'restore'; file: string; only?: string[]; onConflict?: 'skip' | 'replace' | 'ask' }
  | { kind: 'backup-list'; file: string };

export class QuorumService {
  private ceremony: Ceremony | null = null;
  private so: { partition: { label: string; serial: string }; holders: string[]; expiresAt: number; timer: NodeJS.Timeout } | null = null;
  private readonly ceremonyListeners = new Set<(view: CeremonyView) => void>();
  private readonly soListeners = new Set<(view: SoSessionView) => void>();
  private readonly ctx: BackupContext;

  constructor(
    private readonly partition: PartitionService,
    readers: ReaderMonitor,
    private readonly store: CardSetStore,
    private readonly intents: IntentLog,
    private readonly audit: AuditLog,
    private readonly settings: Settings,
    actor: string,
    catalogue: BackupCatalogue,
    mediaStandIns: string[],
  ) {
    this.ctx = {
      catalogue,
      mediaStandIns,
      partition,
      readers,
      store,
      intents,
      audit,
      actor,
      trust: () => this.trust(),
      soLoggedIn: (holders, descriptor, cards) => this.soStarted(holders, descriptor, cards),
      soLoginRefused: (descriptor) => this.rollBackInterruptedAdoption(descriptor),
    };
  }

  // ---- the card set of the chosen partition ----

  /** The set cards are checked against. An interrupted enrolment of this partition comes first. */
  trust(): Trust | null {
    const token = this.partition.partition();
    const interrupted = this.interruptedAdoption(token.serial);
    if (interrupted) return fromDescriptor(interrupted.data.descriptor, 'interrupted');
    const anchors = this.partition.anchors('so');
    if (anchors.length > 1) throw new TesseraError('CARD_ERROR', 'The partition holds more than one card-set record. This needs investigation before any SO login.', `${anchors.length} anchors`);
    const anchor = anchors[0];
    const known = this.store.active(token.serial, 'so');
    if (known) {
      if (anchor && (anchor.set !== known.set || anchor.descriptor !== descriptorHash(known))) {
        throw new TesseraError('CARD_ERROR', 'The partition\'s card-set record differs from this terminal\'s. Another terminal may have changed it; nothing is logged in until this is explained.');
      }
      return fromDescriptor(known, 'terminal');
    }
    if (!anchor) return null;
    return { trusted: { set: anchor.set, generation: anchor.generation, descriptorHash: anchor.descriptor }, descriptor: null, source: 'partition' };
  }

  cardSet(): CardSetView | null {
    const trust = this.trust();
    if (!trust) return null;
    const d = trust.descriptor;
    const cards = d ? this.store.cards(d.set, d.generation) : [];
    const token = this.partition.partition();
    return {
      partition: { label: token.label, serial: token.serial },
      set: trust.trusted.set,
      generation: trust.trusted.generation,
      m: d?.m ?? 0,
      n: d?.n ?? 0,
      created: d?.created ?? '',
      source: trust.source === 'partition' ? 'partition' : 'terminal',
      cards: d ? d.holders.map((h) => ({ index: h.index, holder: h.holder, card: cards.find((c) => c.index === h.index)?.cardSerial ?? null, lastUsed: cards.find((c) => c.index === h.index)?.lastUsed ?? null })) : [],
    };
  }

  // ---- ceremonies ----

  start(request: CeremonyStart, options: { retryWrongPin: boolean } = { retryWrongPin: true }): CeremonyView {
    if (this.ceremony && !this.ceremony.done) throw new TesseraError('INVALID_REQUEST', 'Another ceremony is under way. Finish or cancel it first.');
    // Refused before any ceremony starts, so the officers keep what they typed and correct it.
    if (request.kind === 'adopt' || request.kind === 'backup-set') checkAdoptParams(request);
    if ((request.kind === 'backup-set' || request.kind === 'backup' || request.kind === 'restore') && !this.partition.loggedIn) {
      throw new TesseraError('NOT_LOGGED_IN', 'Log in to the partition as crypto officer first: backups read, and restores write, its private objects.');
    }
    const ceremony = this.ceremonyFor(request, options);
    this.ceremony = ceremony;
    ceremony.onChange((view) => {
      for (const listener of this.ceremonyListeners) listener(view);
    });
    void ceremony.start();
    return ceremony.snapshot();
  }

  private ceremonyFor(request: CeremonyStart, options: { retryWrongPin: boolean }): Ceremony {
    switch (request.kind) {
      case 'adopt':
        return new AdoptCeremony(this.ctx, { holders: request.holders, threshold: request.threshold } satisfies AdoptParams);
      case 'so-login':
        return new SoLoginCeremony(this.ctx, options);
      case 'check-card':
        return new CardCheckCeremony(this.ctx);
      case 'change-pin':
        return new CardPinChangeCeremony(this.ctx);
      case 'backup-set':
        return new BackupSetCeremony(this.ctx, { holders: request.holders, threshold: request.threshold }, options);
      case 'backup':
        return new BackupCeremony(this.ctx, request.media);
      case 'backup-list':
        return new RestoreCeremony(this.ctx, { file: request.file, onConflict: 'skip', listOnly: true }, options);
      case 'restore':
        return new RestoreCeremony(this.ctx, { file: request.file, ...(request.only ? { only: request.only } : {}), onConflict: request.onConflict ?? 'ask' }, options);
    }
  }

  /** The ceremony, to wait for its end (CLI). */
  running(): Ceremony | null {
    return this.ceremony;
  }

  /** The ceremony under way, if any (a finished one is not offered again after its result was shown). */
  current(): CeremonyView | null {
    return this.ceremony && !this.ceremony.done ? this.ceremony.snapshot() : null;
  }

  /** An officer's input to the running ceremony; `seq` names the prompt it answers. */
  provide(id: string, input: CeremonyInput, seq?: number): CeremonyView {
    const ceremony = this.ceremony;
    const stale = !ceremony || ceremony.id !== id ? 'That ceremony is over.' : seq !== undefined && input.kind !== 'cancel' && seq !== ceremony.snapshot().prompt.seq ? 'The ceremony has moved on; answer what it asks now.' : null;
    if (stale || !ceremony) {
      if (input.kind === 'pin') wipe(input.pin, input.repeat);
      throw new TesseraError('INVALID_REQUEST', stale ?? 'That ceremony is over.');
    }
    ceremony.provide(input);
    return ceremony.snapshot();
  }

  onCeremony(listener: (view: CeremonyView) => void): () => void {
    this.ceremonyListeners.add(listener);
    return () => this.ceremonyListeners.delete(listener);
  }

  // ---- the SO session ----

  get idleMinutes(): number {
    return this.settings.get<number>(IDLE_SETTING) ?? DEFAULT_IDLE_MINUTES;
  }

  setIdleMinutes(minutes: number): void {
    if (!Number.isInteger(minutes) || minutes < 1 || minutes > 60) throw new TesseraError('INVALID_REQUEST', 'The SO session idle time is 1 to 60 minutes.');
    this.settings.set(IDLE_SETTING, minutes);
  }

  soSession(): SoSessionView {
    const active = this.so !== null && this.partition.soLoggedIn;
    return {
      active,
      partition: active ? (this.so?.partition ?? null) : null,
      holders: active ? (this.so?.holders ?? []) : [],
      expiresAt: active && this.so ? new Date(this.so.expiresAt).toISOString() : null,
      idleMinutes: this.idleMinutes,
    };
  }

  /** Any SO work keeps the session alive for another idle period. */
  touchSo(): void {
    if (!this.so) return;
    this.so.expiresAt = Date.now() + this.idleMinutes * 60_000;
    this.armTimer();
    this.emitSo();
  }

  async endSo(reason: 'logout' | 'idle' | 'quit'): Promise<void> {
    const so = this.so;
    if (!so) return;
    clearTimeout(so.timer);
    this.so = null;
    this.partition.logoutSo();
    await this.audit.append({ actor: this.ctx.actor, action: 'so.logout', target: `${so.partition.label} (serial ${so.partition.serial})`, outcome: 'ok', details: { reason, holders: so.holders.join(', ') } });
    this.emitSo();
  }

  onSoChange(listener: (view: SoSessionView) => void): () => void {
    this.soListeners.add(listener);
    return () => this.soListeners.delete(listener);
  }

  async close(): Promise<void> {
    this.ceremony?.cancel();
    await this.ceremony?.settled();
    await this.endSo('quit');
  }

  private async soStarted(holders: string[], descriptor: CardSetDescriptor, cards: Map<number, string>): Promise<void> {
    const now = new Date();
    await this.finishInterruptedAdoption(descriptor, cards);
    if (!this.store.active(descriptor.partition.serial, 'so')) this.store.save(descriptor, 'active', cards); // learned from the cards
    for (const [index, card] of cards) this.store.used(descriptor.set, descriptor.generation, index, card, now);
    this.so = { partition: descriptor.partition, holders, expiresAt: Date.now() + this.idleMinutes * 60_000, timer: setTimeout(() => undefined, 0) };
    this.armTimer();
    this.emitSo();
  }

  private armTimer(): void {
    const so = this.so;
    if (!so) return;
    clearTimeout(so.timer);
    so.timer = setTimeout(() => void this.endSo('idle'), Math.max(0, so.expiresAt - Date.now()));
    so.timer.unref();
  }

  private emitSo(): void {
    const view = this.soSession();
    for (const listener of this.soListeners) listener(view);
  }

  // ---- recovery of interrupted enrolments ----

  private interruptedAdoption(tokenSerial: string): { id: number; step: string; data: AdoptIntent } | null {
    return this.intents.unfinished<AdoptIntent>('adopt').find((i) => i.data.descriptor.partition.serial === tokenSerial && i.step !== 'cards-writing') ?? null;
  }

  /**
   * At start: an enrolment stopped before the SO PIN changed is rolled back (the partition is as it
   * was); one stopped after its anchor was written is finished. One stopped around C_SetPIN needs a
   * quorum of the new cards: it stays pending, and the next SO login finishes it.
   */
  async recover(): Promise<string[]> {
    const said: string[] = [];
    for (const intent of this.intents.unfinished<AdoptIntent>('adopt')) {
      const d = intent.data.descriptor;
      const target = `${d.partition.label} (serial ${d.partition.serial})`;
      if (intent.step === 'cards-writing') {
        this.intents.finish(intent, 'rolled-back');
        this.store.abandon(d);
        said.push(`An enrolment of "${d.partition.label}" was interrupted before the SO PIN was changed. It was rolled back: the partition is as it was.`);
        await this.audit.append({ actor: this.ctx.actor, action: 'cardset.enrol.recover', target, outcome: 'ok', details: { set: d.set, result: 'rolled back before the SO PIN was changed' } });
      } else if (intent.step === 'anchored') {
        this.store.save(d, 'active', cardsOf(intent.data));
        this.intents.finish(intent, 'done');
        said.push(`An enrolment of "${d.partition.label}" was interrupted after it was complete on the partition. It is finished.`);
        await this.audit.append({ actor: this.ctx.actor, action: 'cardset.enrol.recover', target, outcome: 'ok', details: { set: d.set, result: 'finished' } });
      } else {
        said.push(`An enrolment of "${d.partition.label}" was interrupted while the SO PIN was being changed. Log in as SO with the new cards to finish it.`);
      }
    }
    return said;
  }

  /**
   * The HSM refused the new credential of an enrolment interrupted around C_SetPIN: the PIN was
   * never changed. The enrolment is rolled back; the previous SO PIN still works.
   */
  private async rollBackInterruptedAdoption(descriptor: CardSetDescriptor): Promise<string | null> {
    const intent = this.interruptedAdoption(descriptor.partition.serial);
    if (!intent || intent.data.descriptor.set !== descriptor.set || intent.step !== 'so-pin-changing') return null;
    this.intents.finish({ ...intent, kind: 'adopt' }, 'rolled-back');
    this.store.abandon(descriptor);
    await this.audit.append({ actor: this.ctx.actor, action: 'cardset.enrol.recover', target: `${descriptor.partition.label} (serial ${descriptor.partition.serial})`, outcome: 'ok', details: { set: descriptor.set, result: 'rolled back: the SO PIN had not been changed' } });
    return 'The interrupted enrolment had not changed the SO PIN yet: it is rolled back, and the partition\'s previous SO PIN still works. Adopt the partition again.';
  }

  private async finishInterruptedAdoption(descriptor: CardSetDescriptor, cards: Map<number, string>): Promise<void> {
    const intent = this.interruptedAdoption(descriptor.partition.serial);
    if (!intent || intent.data.descriptor.set !== descriptor.set) return;
    if (this.partition.anchors('so').length === 0) this.partition.writeAnchor('so', { set: descriptor.set, generation: descriptor.generation, descriptor: descriptorHash(descriptor) });
    const known = cardsOf(intent.data);
    for (const [index, card] of cards) known.set(index, card);
    this.store.save(descriptor, 'active', known);
    this.intents.finish({ ...intent, kind: 'adopt' }, 'done');
    await this.audit.append({ actor: this.ctx.actor, action: 'cardset.enrol.recover', target: `${descriptor.partition.label} (serial ${descriptor.partition.serial})`, outcome: 'ok', details: { set: descriptor.set, result: 'finished with a quorum of the new cards' } });
  }
}

function fromDescriptor(d: CardSetDescriptor, source: Trust['source']): Trust {
  return { trusted: { set: d.set, generation: d.generation, descriptorHash: descriptorHash(d) }, descriptor: d, source };
}

function cardsOf(data: AdoptIntent): Map<number, string> {
  return new Map(Object.entries(data.cards).map(([index, card]) => [Number(index), card]));
}
