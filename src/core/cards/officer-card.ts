// The officer card profile (docs/card-profile.md) on an ISO 7816-4 file-system card: the card's
// own serial, and per card-set slot a framed record (set, holder, generation, index, descriptor and
// the sealed share). A frame carries its length and a hash, and is written header-last, so a
// half-written record reads as damaged or empty, never as a record.
import { createHash, randomBytes } from 'node:crypto';
import { TesseraError } from '../errors';
import { wipe } from '../secrets';
import { SW, swHex } from './apdu';
import type { CardSession } from './card-session';

export const FILES = {
  identity: 0x7e00,
  enrolling: 0x7e01,
  so: 0x7e10,
  backup: 0x7e11,
  soPending: 0x7e20,
  backupPending: 0x7e21,
} as const;

export type SlotFile = Exclude<keyof typeof FILES, 'identity' | 'enrolling'>;

const IDENTITY_SIZE = 128;
const MARK_SIZE = 512;
const SLOT_SIZE = 4096;
const MAGIC = Buffer.from('TSR\x01', 'latin1');
const HEADER = 6; // magic (4) + body length (2)
const DIGEST = 16;
const CHUNK = 255;

export type FrameRead = { state: 'empty' } | { state: 'damaged'; reason: string } | { state: 'ok'; body: Buffer };

/** [magic | length | body | sha256(body)[:16]] */
export function encodeFrame(body: Buffer): Buffer {
  const length = Buffer.alloc(2);
  length.writeUInt16BE(body.length);
  return Buffer.concat([MAGIC, length, body, digest(body)]);
}

export function decodeFrame(raw: Buffer): FrameRead {
  if (raw.subarray(0, HEADER).every((b) => b === 0)) return { state: 'empty' };
  if (!raw.subarray(0, 4).equals(MAGIC)) return { state: 'damaged', reason: 'unknown format' };
  const length = raw.readUInt16BE(4);
  if (HEADER + length + DIGEST > raw.length) return { state: 'damaged', reason: 'length out of range' };
  const body = raw.subarray(HEADER, HEADER + length);
  if (!digest(body).equals(raw.subarray(HEADER + length, HEADER + length + DIGEST))) return { state: 'damaged', reason: 'contents do not match their checksum (half-written?)' };
  return { state: 'ok', body: Buffer.from(body) };
}

function digest(body: Buffer): Buffer {
  return createHash('sha256').update(body).digest().subarray(0, DIGEST);
}

/** An enrolment writing this card: the set, slot purpose, holder and index, and how far it got. */
export interface EnrolmentMark {
  set: string;
  purpose: 'so' | 'backup';
  partition: string;
  holder: string;
  index: number;
  /** pin-changing: the card's PIN may or may not be the chosen one yet; pin-set: it is. */
  step: 'pin-changing' | 'pin-set';
}

function enrolmentMark(value: unknown): EnrolmentMark | null {
  const m = value as Partial<EnrolmentMark> | null | undefined;
  if (!m || typeof m !== 'object') return null;
  // A holder's name is shown on screens and terminals: no control or format characters in it.
  const ok = typeof m.set === 'string' && (m.purpose === 'so' || m.purpose === 'backup') && typeof m.partition === 'string' && typeof m.holder === 'string' && !/[\p{Cc}\p{Cf}]/u.test(m.holder) && m.holder.length <= 64 && Number.isInteger(m.index) && (m.step === 'pin-changing' || m.step === 'pin-set');
  return ok ? (m as EnrolmentMark) : null;
}

export type PinCheck = { ok: true } | { ok: false; triesLeft: number | null; blocked: boolean };

export class OfficerCard {
  private serialRead: string | null = null;

  constructor(private readonly session: CardSession) {}

  /** The serial this session last read or wrote (`serial`, `ensureSerial`), without a command to the card; null before. */
  get knownSerial(): string | null {
    return this.serialRead;
  }

  get readerName(): string {
    return this.session.readerName;
  }

  /** The card's serial as this profile wrote it, or null for a card Tessera never wrote. */
  async serial(): Promise<string | null> {
    const frame = await this.readFile(FILES.identity);
    if (frame.state !== 'ok') return null;
    const parsed = parseJson(frame.body) as { serial?: unknown } | null;
    const serial = typeof parsed?.serial === 'string' && /^[0-9a-f]{32}$/.test(parsed.serial) ? parsed.serial : null;
    this.serialRead = serial;
    return serial;
  }

  /** Gives a blank card its serial (random; the emulated cards all share one chip number). */
  async ensureSerial(): Promise<string> {
    const existing = await this.serial();
    if (existing) return existing;
    const serial = randomBytes(16).toString('hex');
    await this.writeFile(FILES.identity, IDENTITY_SIZE, Buffer.from(JSON.stringify({ v: 1, serial })));
    this.serialRead = serial;
    return serial;
  }

  /** The enrolment writing this card, while one is (so a card pulled half way is recognised). */
  async enrolment(): Promise<EnrolmentMark | null> {
    const frame = await this.readFile(FILES.enrolling);
    return frame.state === 'ok' ? enrolmentMark(parseJson(frame.body)) : null;
  }

  /** Records (or, with null, clears) the enrolment under way on this card. */
  async markEnrolment(mark: EnrolmentMark | null): Promise<void> {
    if (mark) await this.writeFile(FILES.enrolling, MARK_SIZE, Buffer.from(JSON.stringify(mark)));
    else await this.clearFile(FILES.enrolling);
  }

  /** Makes the card blank as far as Tessera is concerned: identity, every slot and pending copy cleared. */
  async clearAll(): Promise<void> {
    // Pending files first: a card pulled half way must not hold a pending record beside an empty
    // slot, which reads as a move into place to be finished (steps/cards.ts, identify).
    for (const slot of ['soPending', 'backupPending', 'so', 'backup'] as const) await this.clearSlot(slot);
    await this.clearFile(FILES.enrolling);
    await this.clearFile(FILES.identity);
    this.serialRead = null;
  }

  async readSlot(slot: SlotFile): Promise<FrameRead> {
    return this.readFile(FILES[slot]);
  }

  async writeSlot(slot: SlotFile, body: Buffer): Promise<void> {
    await this.writeFile(FILES[slot], SLOT_SIZE, body);
  }

  async clearSlot(slot: SlotFile): Promise<void> {
    await this.clearFile(FILES[slot]);
  }

  private async clearFile(fid: number): Promise<void> {
    await this.selectMf();
    if (await this.select(fid)) await this.update(0, Buffer.alloc(HEADER));
  }

  /** The card's remaining PIN tries, asked without spending one (VERIFY without data). */
  async pinTriesLeft(): Promise<number | null> {
    const { sw } = await this.session.transmit({ cla: 0, ins: 0x20, p1: 0, p2: 1 });
    if (sw === SW.OK) return null;
    if (sw === 0x6983) return 0;
    return sw >> 4 === 0x63c ? sw & 0x0f : null;
  }

  /** VERIFY with the holder's PIN. The PIN buffer is not wiped here: the caller still needs it. */
  async verifyPin(pin: Buffer): Promise<PinCheck> {
    const { sw } = await this.session.transmit({ cla: 0, ins: 0x20, p1: 0, p2: 1, data: pin });
    return pinResult(sw);
  }

  /** CHANGE REFERENCE DATA (P1=00: current PIN then new PIN). */
  async changePin(current: Buffer, next: Buffer): Promise<PinCheck> {
    const data = Buffer.concat([current, next]);
    try {
      const { sw } = await this.session.transmit({ cla: 0, ins: 0x24, p1: 0, p2: 1, data });
      return pinResult(sw);
    } finally {
      wipe(data);
    }
  }

  private async select(fid: number): Promise<boolean> {
    const { sw } = await this.session.transmit({ cla: 0, ins: 0xa4, p1: 0, p2: 0x0c, data: fidBytes(fid) });
    if (sw === SW.OK) return true;
    if (sw === 0x6a82) return false;
    throw cardStatus('SELECT', sw);
  }

  private async readFile(fid: number): Promise<FrameRead> {
    await this.selectMf();
    if (!(await this.select(fid))) return { state: 'empty' };
    const head = await this.read(0, HEADER);
    if (head.every((b) => b === 0)) return { state: 'empty' };
    if (!head.subarray(0, 4).equals(MAGIC)) return { state: 'damaged', reason: 'unknown format' };
    const total = HEADER + head.readUInt16BE(4) + DIGEST;
    const chunks = [head];
    for (let offset = HEADER; offset < total; offset += CHUNK) chunks.push(await this.read(offset, Math.min(CHUNK, total - offset)));
    return decodeFrame(Buffer.concat(chunks));
  }

  /** Writes body and checksum first, the header last: an interrupted write leaves no valid frame. */
  private async writeFile(fid: number, size: number, body: Buffer): Promise<void> {
    const frame = encodeFrame(body);
    if (frame.length > size) throw new TesseraError('CARD_ERROR', 'The record is too large for this card.', `${frame.length} > ${size} bytes`);
    await this.selectMf();
    if (!(await this.select(fid))) {
      await this.create(fid, size);
      if (!(await this.select(fid))) throw new TesseraError('CARD_ERROR', 'The card did not keep a file the terminal created.', `FID ${fid.toString(16)}`);
    }
    await this.update(0, Buffer.alloc(HEADER));
    for (let offset = HEADER; offset < frame.length; offset += CHUNK) await this.update(offset, frame.subarray(offset, Math.min(frame.length, offset + CHUNK)));
    await this.update(0, frame.subarray(0, HEADER));
  }

  private async selectMf(): Promise<void> {
    const { sw } = await this.session.transmit({ cla: 0, ins: 0xa4, p1: 0, p2: 0x0c, data: Buffer.from([0x3f, 0x00]) });
    if (sw !== SW.OK) throw cardStatus('SELECT MF', sw);
  }

  private async create(fid: number, size: number): Promise<void> {
    // FCP: file size, transparent working EF, file identifier.
    const fcp = Buffer.from([0x62, 0x0b, 0x80, 0x02, size >> 8, size & 0xff, 0x82, 0x01, 0x01, 0x83, 0x02, fid >> 8, fid & 0xff]);
    const { sw } = await this.session.transmit({ cla: 0, ins: 0xe0, p1: 0, p2: 0, data: fcp });
    if (sw !== SW.OK) throw cardStatus('CREATE FILE', sw);
  }

  private async read(offset: number, length: number): Promise<Buffer> {
    const { data, sw } = await this.session.transmit({ cla: 0, ins: 0xb0, p1: offset >> 8, p2: offset & 0xff, le: length });
    if (sw !== SW.OK && sw !== 0x6282) throw cardStatus('READ BINARY', sw);
    if (data.length < length) throw new TesseraError('CARD_ERROR', 'The card returned less data than it holds.', `READ BINARY at ${offset}: ${data.length} of ${length} bytes`);
    return data.subarray(0, length);
  }

  private async update(offset: number, data: Buffer): Promise<void> {
    const { sw } = await this.session.transmit({ cla: 0, ins: 0xd6, p1: offset >> 8, p2: offset & 0xff, data });
    if (sw !== SW.OK) throw cardStatus('UPDATE BINARY', sw);
  }
}

function pinResult(sw: number): PinCheck {
  if (sw === SW.OK) return { ok: true };
  if (sw === 0x6983) return { ok: false, triesLeft: 0, blocked: true };
  if (sw >> 4 === 0x63c) return { ok: false, triesLeft: sw & 0x0f, blocked: (sw & 0x0f) === 0 };
  if (sw >> 8 === 0x63) return { ok: false, triesLeft: null, blocked: false };
  throw cardStatus('VERIFY', sw);
}

function fidBytes(fid: number): Buffer {
  return Buffer.from([fid >> 8, fid & 0xff]);
}

function cardStatus(command: string, sw: number): TesseraError {
  return new TesseraError('CARD_ERROR', 'The card refused a command. It may not be a card this terminal can use.', `${command}: SW ${swHex(sw)}`);
}

export function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch {
    return null;
  }
}
