// The only file that imports pcsclite. It gives core a small, typed view of PC/SC: a context that
// reports readers and their states, and card connections. PC/SC error codes are parsed out of the
// binding's messages so callers can decide on them.
import { createRequire } from 'node:module';
import type pcscliteModule from 'pcsclite';

/** pcsclite, loaded when a PC/SC context is first opened (commands that read no card never load it). */
let loaded: typeof pcscliteModule | null = null;
function pcsclite(): typeof pcscliteModule {
  return (loaded ??= createRequire(import.meta.url)('pcsclite') as typeof pcscliteModule);
}

export const SCARD_STATE = {
  UNAVAILABLE: 0x8,
  EMPTY: 0x10,
  PRESENT: 0x20,
  EXCLUSIVE: 0x80,
  INUSE: 0x100,
  MUTE: 0x200,
} as const;

/** A PC/SC call failed, with its SCARD_* code when the binding reported one. */
export class PcscFailure extends Error {
  constructor(
    readonly fn: string,
    readonly code: number | null,
    readonly codeName: string,
  ) {
    super(`${fn}: ${codeName}${code === null ? '' : ` (0x${code.toString(16).toUpperCase()})`}`);
    this.name = 'PcscFailure';
  }
}

const codeNames: Record<number, string> = {
  0x80100002: 'SCARD_E_CANCELLED',
  0x80100003: 'SCARD_E_INVALID_HANDLE',
  0x80100009: 'SCARD_E_UNKNOWN_READER',
  0x8010000a: 'SCARD_E_TIMEOUT',
  0x8010000b: 'SCARD_E_SHARING_VIOLATION',
  0x8010000c: 'SCARD_E_NO_SMARTCARD',
  0x8010000f: 'SCARD_E_PROTO_MISMATCH',
  0x80100013: 'SCARD_F_COMM_ERROR',
  0x80100016: 'SCARD_E_NOT_TRANSACTED',
  0x80100017: 'SCARD_E_READER_UNAVAILABLE',
  0x8010001d: 'SCARD_E_NO_SERVICE',
  0x8010001e: 'SCARD_E_SERVICE_STOPPED',
  0x8010002e: 'SCARD_E_NO_READERS_AVAILABLE',
  0x80100066: 'SCARD_W_UNRESPONSIVE_CARD',
  0x80100067: 'SCARD_W_UNPOWERED_CARD',
  0x80100068: 'SCARD_W_RESET_CARD',
  0x80100069: 'SCARD_W_REMOVED_CARD',
};

export function asPcscFailure(error: unknown, fn: string): PcscFailure {
  if (error instanceof PcscFailure) return error;
  const message = error instanceof Error ? error.message : String(error);
  const match = /\(0x([0-9a-fA-F]{8})\)/.exec(message);
  const code = match ? parseInt(match[1] as string, 16) : null;
  const name = code !== null ? (codeNames[code] ?? `SCARD_0x${code.toString(16).toUpperCase()}`) : message;
  return new PcscFailure(/^(\w+) error/.exec(message)?.[1] ?? fn, code, name);
}

export interface PcscReaderHandle {
  readonly name: string;
  onStatus(listener: (state: number, atr: Buffer | null) => void): void;
  onEnd(listener: () => void): void;
  onError(listener: (error: PcscFailure) => void): void;
  /** Connects in exclusive mode: no other application can talk to the card meanwhile. */
  connect(): Promise<{ protocol: number }>;
  transmit(apdu: Buffer, maxResponse: number, protocol: number): Promise<Buffer>;
  disconnect(reset: boolean): Promise<void>;
  close(): void;
}

export interface PcscContext {
  onReader(listener: (reader: PcscReaderHandle) => void): void;
  onError(listener: (error: PcscFailure) => void): void;
  close(): void;
}

/** Opens a PC/SC context. Throws PcscFailure (SCARD_E_NO_SERVICE) when pcscd is not running. */
export function openPcsc(): PcscContext {
  let context: ReturnType<typeof pcscliteModule>;
  try {
    context = pcsclite()();
  } catch (error) {
    throw asPcscFailure(error, 'SCardEstablishContext');
  }
  return {
    onReader: (listener) => context.on('reader', (reader) => listener(wrapReader(reader))),
    onError: (listener) => context.on('error', (error: unknown) => listener(asPcscFailure(error, 'SCardGetStatusChange'))),
    close: () => {
      context.close();
      for (const reader of Object.values((context as unknown as { readers: Record<string, { close(): void }> }).readers)) reader.close();
    },
  };
}

/** The binding's CardReader, as far as this adapter uses it. */
interface RawReader {
  name: string;
  SCARD_SHARE_EXCLUSIVE: number;
  SCARD_PROTOCOL_T0: number;
  SCARD_PROTOCOL_T1: number;
  SCARD_LEAVE_CARD: number;
  SCARD_RESET_CARD: number;
  connect(options: { share_mode: number; protocol: number }, cb: (err: unknown, protocol: number) => void): void;
  transmit(data: Buffer, len: number, protocol: number, cb: (err: unknown, data: Buffer) => void): void;
  disconnect(disposition: number, cb: (err: unknown) => void): void;
  close(): void;
  on(event: string, listener: (...args: never[]) => void): void;
}

function wrapReader(raw: unknown): PcscReaderHandle {
  const r = raw as RawReader;
  return {
    name: r.name,
    onStatus: (listener) => r.on('status', ((status: { state: number; atr?: Buffer }) => listener(status.state, status.atr && status.atr.length > 0 ? status.atr : null)) as never),
    onEnd: (listener) => r.on('end', listener as never),
    onError: (listener) => r.on('error', ((error: unknown) => listener(asPcscFailure(error, 'SCardGetStatusChange'))) as never),
    connect: () =>
      new Promise((resolve, reject) =>
        r.connect({ share_mode: r.SCARD_SHARE_EXCLUSIVE, protocol: r.SCARD_PROTOCOL_T0 | r.SCARD_PROTOCOL_T1 }, (err, protocol) =>
          err ? reject(asPcscFailure(err, 'SCardConnect')) : resolve({ protocol }),
        ),
      ),
    transmit: (apdu, maxResponse, protocol) =>
      new Promise((resolve, reject) =>
        r.transmit(apdu, maxResponse, protocol, (err, data) => (err ? reject(asPcscFailure(err, 'SCardTransmit')) : resolve(data))),
      ),
    disconnect: (reset) =>
      new Promise((resolve, reject) =>
        r.disconnect(reset ? r.SCARD_RESET_CARD : r.SCARD_LEAVE_CARD, (err) => (err ? reject(asPcscFailure(err, 'SCardDisconnect')) : resolve())),
      ),
    close: () => r.close(),
  };
}
