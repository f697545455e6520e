// A loaded PKCS#11 module and its slots and tokens. Tokens are found by serial, never by slot
// number: slot numbers change between runs (SoftHSM2 derives them from the token).
import { existsSync, statSync } from 'node:fs';
import type { MechanismView, ModuleInfo, TokenStatus, TokenSummary } from '../../shared/types';
import { TesseraError } from '../errors';
import { CKF, TOKEN_FLAG, TOKEN_FLAGS } from './constants';
import { withHsmErrors } from './hsm-errors';
import { type Handle, type Pkcs11, attachLibrary, loadLibrary, nameOf, reinitialiseLibrary, unloadLibrary } from './pkcs11-adapter';
import { startingModule } from './module-start';
import { Session } from './session';
import { type SelectorNames, type TokenCriteria, chooseToken } from './token-choice';
import { available, flagWords, hasFlag, mechanismView, pinStatus, tokenClock, tokenSummary, unpad, version } from './token-info';

export interface TokenSlot extends TokenSummary {
  slot: Handle;
}

export class Pkcs11Module {
  private constructor(
    readonly path: string,
    private readonly lib: Pkcs11,
    /** False for a worker's binding to a module the main thread owns: it never finalises. */
    private readonly owner = true,
  ) {}

  /** A second binding, in a worker thread, to a module this process has open already. */
  static attach(path: string): Pkcs11Module {
    return new Pkcs11Module(path, startingModule(path, () => attachLibrary(path)), false);
  }

  static open(path: string): Pkcs11Module {
    if (!existsSync(path)) {
      throw new TesseraError('MODULE_NOT_FOUND', `There is no PKCS#11 module at ${path}. Check the path and try again.`);
    }
    if (!statSync(path).isFile()) {
      throw new TesseraError('MODULE_INVALID', `${path} is not a file. Choose the PKCS#11 library file (.so) itself.`);
    }
    return new Pkcs11Module(path, startingModule(path, () => loadLibrary(path)));
  }

  info(): ModuleInfo {
    const info = withHsmErrors('C_GetInfo', () => this.lib.C_GetInfo());
    return {
      path: this.path,
      manufacturer: unpad(info.manufacturerID),
      description: unpad(info.libraryDescription),
      libraryVersion: version(info.libraryVersion),
      cryptokiVersion: version(info.cryptokiVersion),
    };
  }

  /** Initialised tokens in present slots, and how many present tokens are not initialised. */
  tokens(): { tokens: TokenSlot[]; uninitialised: number } {
    const slots = withHsmErrors('C_GetSlotList', () => this.lib.C_GetSlotList(true));
    const tokens: TokenSlot[] = [];
    let uninitialised = 0;
    for (const slot of slots) {
      const info = withHsmErrors('C_GetTokenInfo', () => this.lib.C_GetTokenInfo(slot));
      if (!hasFlag(info.flags, TOKEN_FLAG.TOKEN_INITIALIZED)) {
        uninitialised++;
        continue;
      }
      tokens.push({ ...tokenSummary(info), slot });
    }
    return { tokens, uninitialised };
  }

  /** The partition with this serial (see chooseToken for the refusals). */
  findToken(serial: string): TokenSlot {
    return this.chooseToken({ serial });
  }

  /** The one partition labelled `label` (see chooseToken for the refusals). */
  findTokenByLabel(label: string): TokenSlot {
    return this.chooseToken({ label });
  }

  /**
   * The partition named by label and/or serial, or the only one when neither is given.
   * @throws TesseraError TOKEN_NOT_FOUND listing the module's partitions by label and serial
   */
  chooseToken(criteria: TokenCriteria, names?: SelectorNames): TokenSlot {
    const { tokens, uninitialised } = this.tokens();
    return chooseToken(tokens, uninitialised, criteria, names);
  }

  status(slot: Handle, loggedIn: boolean): TokenStatus {
    const info = withHsmErrors('C_GetTokenInfo', () => this.lib.C_GetTokenInfo(slot));
    const memory = info as unknown as Record<string, number | bigint>;
    return {
      ...tokenSummary(info),
      module: this.info(),
      hardwareVersion: version(info.hardwareVersion),
      firmwareVersion: version(info.firmwareVersion),
      flags: flagWords(info.flags, TOKEN_FLAGS),
      userPin: pinStatus(info.flags, 'user'),
      soPin: pinStatus(info.flags, 'so'),
      pinLength: { min: info.minPinLen, max: info.maxPinLen },
      memory: {
        publicTotal: available(memory.totalPublicMemory),
        publicFree: available(memory.freePublicMemory),
        privateTotal: available(memory.totalPrivateMemory),
        privateFree: available(memory.freePrivateMemory),
      },
      sessions: {
        open: available(info.sessionCount),
        max: available(info.maxSessionCount),
        readWriteOpen: available(info.rwSessionCount),
        readWriteMax: available(info.maxRwSessionCount),
      },
      clock: tokenClock(info.utcTime, info.flags),
      loggedIn,
    };
  }

  mechanisms(slot: Handle): MechanismView[] {
    const types = withHsmErrors('C_GetMechanismList', () => this.lib.C_GetMechanismList(slot));
    return types
      .map((type) => mechanismView(type, nameOf('CKM', type), withHsmErrors('C_GetMechanismInfo', () => this.lib.C_GetMechanismInfo(slot, type))))
      // Names are ASCII constants (CKM_…): compared by code unit, not localeCompare, whose first call
      // loads ICU's collator (~13 ms of every `tessera status`).
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /**
   * Opens a read/write session: an SO login fails while any read-only session of this process is
   * open (CKR_SESSION_READ_ONLY_EXISTS), so the terminal opens none, unless the token is
   * write-protected, which allows read-only sessions only.
   */
  openSession(slot: Handle): Session {
    const open = (flags: number): Handle => withHsmErrors('C_OpenSession', () => this.lib.C_OpenSession(slot, flags));
    try {
      return new Session(this.lib, open(CKF.SERIAL_SESSION | CKF.RW_SESSION));
    } catch (error) {
      if (!(error instanceof TesseraError) || !error.detail?.includes('CKR_TOKEN_WRITE_PROTECTED')) throw error;
      return new Session(this.lib, open(CKF.SERIAL_SESSION));
    }
  }

  /**
   * Re-initialises the module so it sees partitions created since it was loaded (SoftHSM2 reads
   * its token directory only in C_Initialize). Every session of the module ends.
   */
  rescan(): void {
    startingModule(this.path, () => reinitialiseLibrary(this.lib));
  }

  close(): void {
    if (this.owner) unloadLibrary(this.lib);
  }
}
