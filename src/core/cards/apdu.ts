// ISO 7816-4 command and response APDUs (short form), and the two transport rules every reader
// client must follow: 61xx means "fetch xx more bytes with GET RESPONSE", 6Cxx means "send the same
// command again with Le = xx".

export interface CommandApdu {
  cla: number;
  ins: number;
  p1: number;
  p2: number;
  data?: Buffer;
  /** Expected response length: 1..256 (256 is sent as 00); undefined for no Le byte. */
  le?: number;
}

export interface ResponseApdu {
  data: Buffer;
  sw: number;
}

export function encodeCommand(c: CommandApdu): Buffer {
  const parts: Buffer[] = [Buffer.from([c.cla, c.ins, c.p1, c.p2])];
  if (c.data && c.data.length > 0) {
    if (c.data.length > 255) throw new RangeError('command data longer than 255 bytes needs extended APDUs');
    parts.push(Buffer.from([c.data.length]), c.data);
  }
  if (c.le !== undefined) {
    if (c.le < 1 || c.le > 256) throw new RangeError('Le must be 1..256');
    parts.push(Buffer.from([c.le === 256 ? 0 : c.le]));
  }
  return Buffer.concat(parts);
}

export function decodeResponse(raw: Buffer): ResponseApdu {
  if (raw.length < 2) throw new RangeError(`response of ${raw.length} bytes has no status word`);
  return { data: raw.subarray(0, raw.length - 2), sw: raw.readUInt16BE(raw.length - 2) };
}

export const SW = {
  OK: 0x9000,
} as const;

export function swHex(sw: number): string {
  return sw.toString(16).toUpperCase().padStart(4, '0');
}

const MAX_CHAINED_RESPONSES = 64;

/**
 * Sends a command and follows 61xx / 6Cxx until the card gives a final status.
 * `send` moves one raw APDU to the card and back.
 */
export async function exchange(send: (apdu: Buffer) => Promise<Buffer>, command: CommandApdu): Promise<ResponseApdu> {
  let response = decodeResponse(await send(encodeCommand(command)));
  if (response.sw >> 8 === 0x6c) {
    response = decodeResponse(await send(encodeCommand({ ...command, le: (response.sw & 0xff) || 256 })));
  }
  const chunks = [response.data];
  for (let i = 0; response.sw >> 8 === 0x61; i++) {
    if (i === MAX_CHAINED_RESPONSES) throw new RangeError('card keeps announcing more response data');
    response = decodeResponse(await send(encodeCommand({ cla: command.cla & 0x03, ins: 0xc0, p1: 0, p2: 0, le: (response.sw & 0xff) || 256 })));
    chunks.push(response.data);
  }
  return { data: Buffer.concat(chunks), sw: response.sw };
}
