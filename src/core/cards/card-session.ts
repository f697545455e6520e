// An exclusive session with one card. PC/SC "exclusive" share mode keeps every other program off
// the card until we disconnect, which is what a transaction gives (the binding does not expose
// SCardBeginTransaction). Every exchange has a deadline; after any failure the session is dead and
// refuses further use, so a stale handle is never reused after a card is pulled.
import type { ErrorCode } from '../../shared/errors';
import { TesseraError } from '../errors';
import { type CommandApdu, type ResponseApdu, exchange } from './apdu';
import { type PcscReaderHandle, PcscFailure, asPcscFailure } from './pcsc-adapter';

const CONNECT_TIMEOUT_MS = 5000;
const APDU_TIMEOUT_MS = 5000;
const MAX_RESPONSE = 258;
const CONNECT_ATTEMPTS = 4;
const TRANSIENT_ON_CONNECT = new Set(['SCARD_E_PROTO_MISMATCH', 'SCARD_W_UNPOWERED_CARD', 'SCARD_W_UNRESPONSIVE_CARD', 'SCARD_W_RESET_CARD']);

const failures: Record<string, [ErrorCode, string]> = {
  SCARD_W_REMOVED_CARD: ['CARD_REMOVED', 'The card was removed before the terminal had finished with it.'],
  SCARD_E_NO_SMARTCARD: ['CARD_REMOVED', 'There is no card in the reader any more.'],
  SCARD_W_RESET_CARD: ['CARD_ERROR', 'The card was reset by another program. Try again.'],
  SCARD_E_SHARING_VIOLATION: ['CARD_ERROR', 'Another program is using this card. Close it and try again.'],
  SCARD_W_UNRESPONSIVE_CARD: ['CARD_ERROR', 'The card does not answer. Take it out, check it, and insert it again.'],
  SCARD_W_UNPOWERED_CARD: ['CARD_ERROR', 'The card does not answer. Take it out, check it, and insert it again.'],
  SCARD_E_NOT_TRANSACTED: ['CARD_ERROR', 'The card stopped answering in the middle of an exchange.'],
  SCARD_F_COMM_ERROR: ['CARD_ERROR', 'The connection to the card reader was lost.'],
  SCARD_E_READER_UNAVAILABLE: ['CARD_ERROR', 'The card reader is no longer available.'],
  SCARD_E_UNKNOWN_READER: ['READER_NOT_FOUND', 'The card reader is no longer connected.'],
  SCARD_E_NO_SERVICE: ['CARD_SERVICE_UNAVAILABLE', 'The smart-card service (pcscd) stopped.'],
  SCARD_E_SERVICE_STOPPED: ['CARD_SERVICE_UNAVAILABLE', 'The smart-card service (pcscd) stopped.'],
};

export function toCardError(error: unknown, fn: string): TesseraError {
  if (error instanceof TesseraError) return error;
  const failure = error instanceof PcscFailure ? error : asPcscFailure(error, fn);
  const [code, message] = failures[failure.codeName] ?? ['CARD_ERROR', 'The card reader reported an error.'];
  return new TesseraError(code, message, failure.message, { cause: failure });
}

function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TesseraError('CARD_TIMEOUT', 'The card did not answer in time. Take it out and insert it again.', `${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

export class CardSession {
  private dead = false;
  private closed = false;

  private constructor(
    private readonly reader: PcscReaderHandle,
    private readonly protocol: number,
    private readonly onClose: () => void,
  ) {}

  /**
   * Connects to the card. A card that was just inserted (or swapped) may answer the first connect
   * with a transient status while the reader powers it up; those are tried again, briefly.
   */
  static async open(reader: PcscReaderHandle, onClose: () => void = () => undefined): Promise<CardSession> {
    for (let attempt = 1; ; attempt++) {
      try {
        const { protocol } = await withDeadline(reader.connect(), CONNECT_TIMEOUT_MS, 'SCardConnect');
        return new CardSession(reader, protocol, onClose);
      } catch (error) {
        const name = error instanceof PcscFailure ? error.codeName : '';
        if (attempt >= CONNECT_ATTEMPTS || !TRANSIENT_ON_CONNECT.has(name)) throw toCardError(error, 'SCardConnect');
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    }
  }

  get readerName(): string {
    return this.reader.name;
  }

  /** Sends one command, following 61xx/6Cxx, and returns the card's final answer. */
  async transmit(command: CommandApdu): Promise<ResponseApdu> {
    if (this.dead) throw new TesseraError('CARD_ERROR', 'This card session has ended. Insert the card again.', 'session used after failure or close');
    try {
      return await exchange((apdu) => withDeadline(this.reader.transmit(apdu, MAX_RESPONSE, this.protocol), APDU_TIMEOUT_MS, 'SCardTransmit'), command);
    } catch (error) {
      this.dead = true;
      throw toCardError(error, 'SCardTransmit');
    }
  }

  /** Ends the session; `reset` also resets the card so no state (e.g. a verified PIN) outlives it. */
  async close(reset = true): Promise<void> {
    if (this.closed) return;
    // After a failure the card may be gone: resetting an absent card leaves pcscd's reader in an
    // error state where it misses the next card, so a failed session is only released.
    const failed = this.dead;
    this.closed = true;
    this.dead = true;
    try {
      await withDeadline(this.reader.disconnect(reset && !failed), CONNECT_TIMEOUT_MS, 'SCardDisconnect');
    } catch {
      // A card that is gone cannot be reset; the handle must still be released, or the reader
      // stays held by it and the next card is never seen.
      try {
        await withDeadline(this.reader.disconnect(false), CONNECT_TIMEOUT_MS, 'SCardDisconnect');
      } catch {
        // Closing a session whose card is gone is not an error for the caller.
      }
    } finally {
      this.onClose();
    }
  }
}
