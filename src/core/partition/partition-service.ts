// The partition the officers work on: which module and token, its status, the crypto-officer
// login, and its objects. The choice is remembered (by module path and token serial) for the next
// start. Every login attempt, successful or not, is written to the audit log.
import type { AuditEntryView, ObjectDetails, ObjectSummary, PartitionChoice, PartitionView, PinStatus } from '../../shared/types';
import type { AuditLog } from '../audit/audit-log';
import type { AuditDetails } from '../audit/chain';
import { SEAL_ACTION, type TrustedSealKey, sealDetails, sealStatement } from '../audit/seal';
import { TesseraError, toErrorData } from '../errors';
import { signData } from '../hsm/ec-signing';
import { CKU } from '../hsm/constants';
import { HsmWorker } from '../hsm/hsm-worker-client';
import type { SearchTemplate } from '../hsm/hsm-worker';
import { objectDetails } from '../hsm/inventory';
import type { Pkcs11Module, TokenSlot } from '../hsm/module';
import type { SelectorNames, TokenCriteria } from '../hsm/token-choice';
import type { ApprovedModules } from '../hsm/module-list';
import { type ModuleUser, acquireModule, isLoaded, releaseModule, rescanModule } from '../hsm/module-registry';
import type { Session } from '../hsm/session';
import type { Handle } from '../hsm/pkcs11-adapter';
import { ANCHOR_APPLICATION, type Anchor, type AnchorProtection, type Purpose, readAnchors, writeAnchor } from './anchor';
import { auditKey, auditPublicKey } from './audit-key';
import { wipe } from '../secrets';
import type { Settings } from '../store/settings';

export type FrontEnd = 'gui' | 'cli';

/**
 * How a crypto-officer login treats a partition that says one try is left
 * (CKF_USER_PIN_FINAL_TRY in CK_TOKEN_INFO.flags, PKCS#11 v2.40 §3.2): the PIN is not tried
 * unless the officer acknowledged that a wrong one locks the crypto officer out.
 */
export interface CoLoginOptions {
  /** The officer acknowledged the final try: the PIN is tried anyway. */
  finalTry?: boolean;
  /** How the front end names that acknowledgement in the refusal (the CLI: "--final-try"). */
  finalTryOption?: string;
}

interface Selection {
  module: Pkcs11Module;
  token: TokenSlot;
  session: Session | null;
  /** Crypto officer (user) logged in by this terminal. */
  loggedIn: boolean;
  /** Security officer logged in by this terminal (after a quorum of cards). */
  soLoggedIn: boolean;
}

interface Remembered {
  modulePath: string;
  serial: string;
}

const SETTING = 'partition.selected';

export class PartitionService implements ModuleUser {
  private readonly modules = new Set<Pkcs11Module>();
  private selection: Selection | null = null;
  private readonly listeners = new Set<(view: PartitionView | null) => void>();
  private readonly worker = new HsmWorker();

  constructor(
    private readonly settings: Settings,
    private readonly audit: AuditLog,
    private readonly actor: string,
    /** Which modules may be loaded; `listedOnly`: the GUI may choose only from the list. */
    private readonly approved: { modules: ApprovedModules; listedOnly: boolean },
    private readonly defaults: { modulePath?: string; tokenLabel?: string } = {},
  ) {}

  onChange(listener: (view: PartitionView | null) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The module at `path`, admitted (list, where it lies, a probe in a child process) before it is loaded here. */
  private async module(path: string): Promise<Pkcs11Module> {
    try {
      await this.approved.modules.admit(path, { listedOnly: this.approved.listedOnly, probe: !isLoaded(path) });
    } catch (error) {
      if (error instanceof TesseraError && (error.code === 'MODULE_NOT_ALLOWED' || error.code === 'MODULE_INVALID')) {
        // A refused module is a security event; the refusal stands even if it cannot be recorded.
        await this.audit
          .append({ actor: this.actor, action: 'module.refused', target: path, outcome: 'refused', details: { error: error.code, reason: error.message } })
          .catch(() => undefined);
      }
      throw error;
    }
    const module = acquireModule(path, this);
    if (this.modules.has(module)) releaseModule(module, this);
    else this.modules.add(module);
    return module;
  }

  /**
   * Opens a module (admitted first: see module()) and lists its partitions.
   * @throws TesseraError MODULE_* when the module is refused or unusable, as ApprovedModules.admit says
   */
  async openModule(modulePath: string): Promise<PartitionChoice> {
    const module = await this.module(modulePath);
    const notRescanned = this.rescan(module) ? null : this.rescanHold(module);
    const { tokens, uninitialised } = module.tokens();
    return { module: module.info(), tokens: tokens.map(({ slot: _slot, ...summary }) => summary), uninitialisedSlots: uninitialised, notRescanned };
  }

  /** Why the module's partitions cannot be read afresh now, in officers' words (see canRescan). */
  private rescanHold(module: Pkcs11Module): string {
    const selection = this.selection?.module === module ? this.selection : null;
    const who = selection?.soLoggedIn ? 'the security officers log out' : selection?.loggedIn ? 'the crypto officer logs out' : 'the work under way on the partition ends';
    return `A partition created since this module was opened shows here after ${who}: the module reads its partitions again only when no session is open, because reading them again ends every login.`;
  }

  async select(modulePath: string, serial: string): Promise<PartitionView> {
    const module = await this.module(modulePath);
    return this.choose(module, this.findAfterRescan(module, () => module.findToken(serial)));
  }

  async selectByLabel(modulePath: string, label: string): Promise<PartitionView> {
    const module = await this.module(modulePath);
    return this.choose(module, this.findAfterRescan(module, () => module.findTokenByLabel(label)));
  }

  /**
   * Selects the partition named by label and/or serial (both given: they must name the same
   * one), or the module's only partition when neither is given.
   * @param names how the front end names its selectors in refusals (the CLI: --token, --serial)
   * @throws TesseraError TOKEN_NOT_FOUND listing the module's partitions by label and serial (an
   *   empty module: how many slots await initialisation); MODULE_* as openModule
   */
  async selectBy(modulePath: string, criteria: TokenCriteria, names?: SelectorNames): Promise<PartitionView> {
    const module = await this.module(modulePath);
    return this.choose(module, this.findAfterRescan(module, () => module.chooseToken(criteria, names)));
  }

  /** A partition created after the module was loaded is found after a rescan. */
  private findAfterRescan(module: Pkcs11Module, find: () => TokenSlot): TokenSlot {
    try {
      return find();
    } catch (error) {
      if (!(error instanceof TesseraError) || error.code !== 'TOKEN_NOT_FOUND' || !this.rescan(module)) throw error;
      return find();
    }
  }

  /** Rescans the module's partitions, unless that would end a login or a listing (ours or another user's). */
  private rescan(module: Pkcs11Module): boolean {
    if (!rescanModule(module)) return false;
    const selection = this.selection?.module === module ? this.selection : null;
    if (selection) {
      try {
        selection.token = module.findToken(selection.token.serial);
      } catch {
        // The chosen partition is gone: nothing is selected any more.
        this.selection = null;
        for (const listener of this.listeners) listener(null);
      }
    }
    return true;
  }

  canRescan(module: Pkcs11Module): boolean {
    const selection = this.selection?.module === module ? this.selection : null;
    return !selection?.loggedIn && !selection?.soLoggedIn && !this.worker.busy;
  }

  rescanned(module: Pkcs11Module): void {
    const selection = this.selection?.module === module ? this.selection : null;
    if (!selection) return;
    try {
      selection.session?.close();
    } catch {
      // the session ends with the rescan anyway
    }
    selection.session = null;
  }

  private choose(module: Pkcs11Module, token: TokenSlot): PartitionView {
    this.release();
    this.selection = { module, token, session: null, loggedIn: false, soLoggedIn: false };
    this.settings.set(SETTING, { modulePath: module.path, serial: token.serial } satisfies Remembered);
    return this.changed();
  }

  /**
   * The partition chosen last time (or the lab's), or null when there is none to open. A module
   * remembered in the database passes the same checks as a new choice.
   * @throws TesseraError MODULE_NOT_ALLOWED / MODULE_INVALID naming the remembered module, not used
   */
  async current(): Promise<PartitionView | null> {
    if (this.selection) return this.view();
    const remembered = this.settings.get<Remembered>(SETTING);
    if (remembered) {
      try {
        return await this.select(remembered.modulePath, remembered.serial);
      } catch (error) {
        if (!(error instanceof TesseraError) || !['MODULE_NOT_ALLOWED', 'MODULE_INVALID', 'MODULE_NOT_FOUND'].includes(error.code)) throw error;
        throw new TesseraError(error.code, `The module chosen last time is not used. ${error.message}`, error.detail);
      }
    }
    if (this.defaults.modulePath && this.defaults.tokenLabel) return this.selectByLabel(this.defaults.modulePath, this.defaults.tokenLabel);
    return null;
  }

  /**
   * Crypto-officer login. The PIN buffer is wiped whatever happens. Every attempt is audited,
   * and so is a refusal to try.
   * @throws TesseraError PIN_FINAL_TRY (the PIN not tried) when the partition says one try is left
   *   and `options.finalTry` is not set; PIN_LOCKED; PIN_INCORRECT with what the partition says
   *   about the tries left; what the HSM answers
   */
  async login(pin: Buffer, options: CoLoginOptions = {}): Promise<PartitionView> {
    try {
      const selection = this.required();
      await this.audit.ready();
      const target = `${selection.token.label} (serial ${selection.token.serial})`;
      try {
        if (selection.soLoggedIn) throw new TesseraError('INVALID_REQUEST', 'A security officer is logged in. End the SO session before a crypto officer logs in.');
        const before = selection.module.status(selection.token.slot, false).userPin;
        if (before.condition === 'locked' || before.condition === 'not-initialised') {
          throw new TesseraError('PIN_LOCKED', `The crypto-officer PIN cannot be used: ${before.words} A security officer must reset it.`);
        }
        this.refuseFinalTry(before.condition, options);
        this.session(selection).login(CKU.USER, pin);
      } catch (error) {
        const reported = error instanceof TesseraError && error.code === 'PIN_INCORRECT' ? this.wrongPin(selection, error) : error;
        await this.audit.append({
          actor: this.actor,
          action: 'partition.login',
          target,
          outcome: reported instanceof TesseraError && reported.code === 'PIN_FINAL_TRY' ? 'refused' : 'failed',
          details: { role: 'crypto officer', error: reported instanceof TesseraError ? reported.code : 'INTERNAL' },
        });
        throw reported;
      }
      selection.loggedIn = true;
      try {
        await this.audit.append({ actor: this.actor, action: 'partition.login', target, outcome: 'ok', details: { role: 'crypto officer' } });
      } catch (error) {
        // A login that cannot be recorded does not stand.
        this.logoutQuietly(selection);
        throw error;
      }
      return this.changed();
    } finally {
      wipe(pin);
    }
  }

  // ---- the security officer: used by the quorum ceremonies, never with a typed-in credential of ours ----

  /**
   * Label, serial, PIN length limits (C_GetTokenInfo's ulMinPinLen and ulMaxPinLen, for both roles'
   * PINs) and the state of the SO and crypto-officer PINs of the chosen partition.
   */
  partition(): { label: string; serial: string; minPinLength: number; maxPinLength: number; soPin: PinStatus; userPin: PinStatus } {
    const selection = this.required();
    const status = selection.module.status(selection.token.slot, selection.loggedIn);
    return { label: status.label, serial: status.serial, minPinLength: status.pinLength.min, maxPinLength: status.pinLength.max, soPin: status.soPin, userPin: status.userPin };
  }

  get soLoggedIn(): boolean {
    return this.selection?.soLoggedIn ?? false;
  }

  /** C_Login as SO. The credential buffer is wiped whatever happens. */
  loginSo(credential: Buffer): void {
    try {
      const selection = this.required();
      if (selection.loggedIn) throw new TesseraError('INVALID_REQUEST', 'A crypto officer is logged in. Log out first: the partition allows one role at a time.');
      this.session(selection).login(CKU.SO, credential);
      selection.soLoggedIn = true;
    } finally {
      wipe(credential);
    }
  }

  logoutSo(): void {
    const selection = this.selection;
    if (!selection?.soLoggedIn) return;
    try {
      selection.session?.logout();
    } finally {
      selection.soLoggedIn = false;
    }
  }

  /** C_SetPIN of the logged-in SO. The caller wipes both buffers. */
  changeSoPin(current: Buffer, next: Buffer): void {
    const selection = this.required();
    if (!selection.soLoggedIn) throw new TesseraError('NOT_LOGGED_IN', 'The security officer is not logged in.');
    this.session(selection).setPin(current, next);
  }

  /**
   * C_InitPIN in the logged-in SO's session: the crypto officer's PIN becomes `pin` (PKCS#11 v2.40
   * section 5.6); the old one stops working at once, and on tokens that count wrong tries the count
   * starts again. The caller wipes the buffer.
   * @throws TesseraError NOT_LOGGED_IN without an SO session of this terminal; PIN_INVALID when the
   *   token refuses the PIN (length or characters); what else the token answers.
   */
  initCoPin(pin: Buffer): void {
    const selection = this.required();
    if (!selection.soLoggedIn) throw new TesseraError('NOT_LOGGED_IN', 'The security officer is not logged in.');
    this.session(selection).initPin(pin);
    // The crypto officer's PIN status changed (set, its wrong-try count cleared): the window shows it.
    this.changed();
  }

  random(length: number): Buffer {
    const selection = this.required();
    return this.session(selection).generateRandom(length);
  }

  get loggedIn(): boolean {
    return this.selection?.loggedIn ?? false;
  }

  /** The crypto officer's session, for work that needs the partition's private objects (backup, restore). */
  coSession(): Session {
    const selection = this.required();
    if (!selection.loggedIn) throw new TesseraError('NOT_LOGGED_IN', 'Log in to the partition as crypto officer first.');
    return this.session(selection);
  }

  /** Label, serial, manufacturer and model of the chosen partition. */
  token(): { label: string; serial: string; manufacturer: string; model: string } {
    const { token } = this.view();
    return { label: token.label, serial: token.serial, manufacturer: token.manufacturer, model: token.model };
  }

  /** Whether the partition offers the mechanism for all of these uses ('wrap', 'unwrap', 'sign', ...). */
  supports(mechanism: number, uses: string[]): boolean {
    const selection = this.required();
    const found = selection.module.mechanisms(selection.token.slot).find((m) => m.type === mechanism);
    return !!found && uses.every((use) => found.flags.includes(use));
  }

  anchors(purpose: Purpose): Anchor[] {
    const selection = this.required();
    return readAnchors(this.session(selection), purpose);
  }

  /** Writes the partition's anchor of `purpose`; returns the protection the token gave it. */
  writeAnchor(purpose: Purpose, anchor: Anchor): AnchorProtection {
    const selection = this.required();
    return writeAnchor(this.session(selection), purpose, anchor);
  }

  /**
   * The terminal's data objects labelled `label` in the current session (public ones; with
   * `private` the crypto officer's, which need its login), modifiable look-alikes included.
   */
  dataObjects(label: string, options: { private?: boolean } = {}): { handle: Handle; value: Buffer; modifiable: boolean }[] {
    const selection = this.required();
    return this.session(selection).listPublicData(ANCHOR_APPLICATION, label, options);
  }

  /** Writes one of the terminal's records as an unmodifiable data object; returns the protection it got. */
  writeDataObject(label: string, value: Buffer, options: { destroyable?: boolean; private?: boolean } = {}): AnchorProtection {
    const selection = this.required();
    return this.session(selection).createPublicData(ANCHOR_APPLICATION, label, value, options);
  }

  /** Destroys one of the terminal's records found by `dataObjects`. */
  destroyDataObject(handle: Handle): void {
    const selection = this.required();
    this.session(selection).destroyObject(handle);
  }

  /** Refuses to try the crypto-officer PIN on the partition's final try unless the officer acknowledged it. */
  private refuseFinalTry(condition: PinStatus['condition'], options: CoLoginOptions): void {
    if (condition !== 'final-try' || options.finalTry === true) return;
    const onward = options.finalTryOption
      ? `If you are sure of the PIN, give ${options.finalTryOption} to use the last try`
      : 'If you are sure of the PIN, confirm that you use the last try';
    throw new TesseraError(
      'PIN_FINAL_TRY',
      `One try is left: the partition says the next wrong crypto-officer PIN locks the crypto officer out. The PIN was not tried. ${onward}; otherwise have a security officer reset the crypto-officer PIN first.`,
      'C_GetTokenInfo: CKF_USER_PIN_FINAL_TRY',
    );
  }

  /** "PIN wrong", with what the token says about the tries left. */
  private wrongPin(selection: Selection, error: TesseraError): TesseraError {
    const after = selection.module.status(selection.token.slot, false).userPin;
    const hint =
      after.condition === 'final-try' || after.condition === 'locked'
        ? after.words
        : 'Check it and try again: the partition may lock the PIN after a few more wrong tries.';
    return new TesseraError('PIN_INCORRECT', `The PIN is wrong. ${hint}`, error.detail);
  }

  /** Ends the crypto-officer session: the log's head is sealed by the partition first (see `sealHead`), then the logout is recorded. */
  async logout(): Promise<PartitionView> {
    const selection = this.required();
    if (selection.loggedIn) await this.endCoSession(selection);
    return this.changed();
  }

  private async endCoSession(selection: Selection): Promise<void> {
    const target = `${selection.token.label} (serial ${selection.token.serial})`;
    try {
      await this.sealHead(selection, target);
    } finally {
      // A seal that could not even be recorded (the keychain gone) never keeps the officer logged in.
      this.logoutQuietly(selection);
    }
    await this.audit.append({ actor: this.actor, action: 'partition.logout', target, outcome: 'ok', details: { role: 'crypto officer' } });
  }

  /**
   * While the crypto officer is still logged in: the partition's audit key (made on first need)
   * signs the log's head, and the seal becomes an entry. A seal that cannot be made is recorded as
   * failed (with the error code) and does not keep the officer logged in.
   */
  private async sealHead(selection: Selection, target: string): Promise<void> {
    const head = this.audit.head();
    if (!head || this.audit.alarm) return;
    let details: AuditDetails;
    try {
      const session = this.session(selection);
      const key = auditKey(session);
      const hash = head.hash ?? undefined;
      const signature = signData(session, key.handle, sealStatement(this.audit.installationId, head.seq, head.mac, hash));
      details = sealDetails(head.seq, head.mac, key.spki, signature, selection.token.serial, hash);
    } catch (error) {
      await this.audit.append({ actor: this.actor, action: SEAL_ACTION, target, outcome: 'failed', details: { headSeq: head.seq, error: toErrorData(error).code } });
      return;
    }
    await this.audit.append({ actor: this.actor, action: SEAL_ACTION, target, outcome: 'ok', details });
  }

  /**
   * Signs `statement` with the partition's audit key (made on first need): ECDSA P-256 over
   * SHA-256, r || s. For records the partition vouches for besides the log's heads (ceremony
   * transcripts, record/transcript.ts).
   * @throws TesseraError NOT_LOGGED_IN without the crypto officer's login (only that session can use the key), HSM_ERROR.
   */
  signWithAuditKey(statement: Buffer): { spki: Buffer; signature: Buffer; partition: string } {
    const selection = this.required();
    if (!selection.loggedIn) throw new TesseraError('NOT_LOGGED_IN', 'The crypto officer must be logged in: only that session can use the partition\'s audit key.');
    const session = this.session(selection);
    const key = auditKey(session);
    return { spki: key.spki, signature: signData(session, key.handle, statement), partition: selection.token.serial };
  }

  /**
   * While the crypto officer is logged in: seals the log's head now (an audit export ends sealed,
   * so an auditor can check all of it). Does nothing without that login; a seal that cannot be
   * made is recorded as failed, as at logout.
   * @throws TesseraError from the audit log (the entry could not be written).
   */
  async sealNow(): Promise<boolean> {
    const selection = this.selection;
    if (!selection?.loggedIn) return false;
    const before = this.audit.head()?.seq;
    await this.sealHead(selection, `${selection.token.label} (serial ${selection.token.serial})`);
    return this.audit.head()?.seq !== before;
  }

  /**
   * The chosen partition's audit public key, to check the log's seals against (no login needed).
   * @throws TesseraError TOKEN_NOT_SELECTED, or what the partition answers.
   */
  auditSealKey(): TrustedSealKey {
    const selection = this.required();
    return { partition: { label: selection.token.label, serial: selection.token.serial }, spki: auditPublicKey(this.session(selection)) };
  }

  /**
   * An officer's acknowledgement of the audit log's alarm (a replaced, cut or unreadable record):
   * the crypto-officer PIN proves who it is (C_Login, then logout; the login itself cannot be
   * recorded while the alarm stands), then the acknowledgement is the log's next entry and the
   * new head is sealed by the partition. The PIN buffer is wiped whatever happens.
   * @throws TesseraError PIN_INCORRECT (not recorded: the log takes no entry before the acknowledgement), PIN_FINAL_TRY (not tried, as login), INVALID_REQUEST without an alarm.
   */
  async acknowledgeAuditAlarm(pin: Buffer, options: CoLoginOptions = {}): Promise<AuditEntryView> {
    try {
      const selection = this.required();
      if (!this.audit.alarm) throw new TesseraError('INVALID_REQUEST', 'The audit log has no alarm to acknowledge.');
      if (selection.loggedIn || selection.soLoggedIn) throw new TesseraError('INVALID_REQUEST', 'Log out first: the acknowledgement needs its own crypto-officer login.');
      const target = `${selection.token.label} (serial ${selection.token.serial})`;
      try {
        this.refuseFinalTry(selection.module.status(selection.token.slot, false).userPin.condition, options);
        this.session(selection).login(CKU.USER, pin);
      } catch (error) {
        throw error instanceof TesseraError && error.code === 'PIN_INCORRECT' ? this.wrongPin(selection, error) : error;
      }
      selection.loggedIn = true;
      let entry: AuditEntryView;
      try {
        entry = await this.audit.acknowledge(this.actor, target, { role: 'crypto officer' });
        await this.audit.append({ actor: this.actor, action: 'partition.login', target, outcome: 'ok', details: { role: 'crypto officer', for: 'acknowledging the audit alarm' } });
        await this.endCoSession(selection);
      } finally {
        if (selection.loggedIn) this.logoutQuietly(selection);
      }
      this.changed();
      return entry;
    } finally {
      wipe(pin);
    }
  }

  async objects(): Promise<ObjectSummary[]> {
    const selection = this.required();
    // The listing runs in the HSM worker: a large partition must not freeze the window.
    return this.guard(selection, () => this.worker.listObjects(selection.module.path, selection.token.slot, selection.token));
  }

  /**
   * Handles of the chosen partition's objects matching `template`, as the crypto officer's session
   * sees them, searched on the HSM worker so the main thread never waits on a long search.
   * @throws TesseraError as Session.findAll, TOKEN_REMOVED, INTERNAL when the worker stopped
   */
  find(template: SearchTemplate): Promise<Handle[]> {
    const selection = this.required();
    return this.guard(selection, () => this.worker.findObjects(selection.module.path, selection.token.slot, template));
  }

  /** Starts the HSM worker's wrap lanes ahead of a wrapKeys loop (e.g. while the officers read a backup's preview). */
  readyWrapLanes(): void {
    this.worker.readyWrapLanes();
  }

  /**
   * C_WrapKey of each of `keys` (handle, output room in bytes) in order, under `wrappingKey` (a
   * session object, e.g. the backup's wrap key) with `mechanism`, on the HSM worker's lanes: the
   * wrapped keys come in ordered batches while the caller works on the previous one. See HsmWorker.wrapKeys.
   * @throws KeyNotWrapped (with the key's index), TOKEN_REMOVED, INTERNAL when the worker stopped
   */
  async *wrapKeys(mechanism: number, wrappingKey: Handle, keys: { handle: Handle; room: number }[]): AsyncGenerator<Buffer[], void, undefined> {
    const selection = this.required();
    try {
      yield* this.worker.wrapKeys(selection.module.path, selection.token.slot, mechanism, wrappingKey, keys);
    } catch (error) {
      this.dropSession(selection, error);
      throw error;
    }
  }

  /** The one object `ref` (an ObjectSummary's `ref`) names; see objectDetails for the errors. */
  details(ref: string): Promise<ObjectDetails> {
    const selection = this.required();
    return this.guard(selection, async () => objectDetails(this.session(selection), selection.token, ref));
  }

  view(): PartitionView {
    const selection = this.required();
    try {
      return {
        token: selection.module.status(selection.token.slot, selection.loggedIn),
        mechanisms: selection.module.mechanisms(selection.token.slot),
      };
    } catch (error) {
      this.dropSession(selection, error);
      throw error;
    }
  }

  /** Ends the login (a crypto officer's is sealed and recorded, as at logout) and sessions, stops the worker, then lets go of the modules. */
  async close(): Promise<void> {
    if (this.selection?.loggedIn) {
      try {
        await this.endCoSession(this.selection);
      } catch {
        // shutting down goes on; release() below ends the login whatever happened
      }
    }
    this.release();
    await this.worker.stop();
    for (const module of this.modules) {
      try {
        releaseModule(module, this);
      } catch {
        // finalising a module that lost its device is not worth failing shutdown for
      }
    }
    this.modules.clear();
  }

  private required(): Selection {
    if (!this.selection) throw new TesseraError('TOKEN_NOT_SELECTED', 'Choose a partition first.');
    return this.selection;
  }

  private session(selection: Selection): Session {
    selection.session ??= selection.module.openSession(selection.token.slot);
    return selection.session;
  }

  private async guard<T>(selection: Selection, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      this.dropSession(selection, error);
      throw error;
    }
  }

  /** A removed token invalidates its session and login; the next call opens a fresh one. */
  private dropSession(selection: Selection, error: unknown): void {
    if (!(error instanceof TesseraError) || error.code !== 'TOKEN_REMOVED') return;
    try {
      selection.session?.close();
    } catch {
      // the session is gone with the token
    }
    selection.session = null;
    selection.loggedIn = false;
    selection.soLoggedIn = false;
    for (const listener of this.listeners) listener(null);
  }

  private logoutQuietly(selection: Selection): void {
    try {
      selection.session?.logout();
    } finally {
      selection.loggedIn = false;
    }
  }

  private release(): void {
    if (!this.selection) return;
    try {
      if (this.selection.loggedIn || this.selection.soLoggedIn) this.selection.session?.logout();
      this.selection.session?.close();
    } catch {
      // releasing a partition that went away is fine
    }
    this.selection = null;
  }

  private changed(): PartitionView {
    const view = this.view();
    for (const listener of this.listeners) listener(view);
    return view;
  }
}
