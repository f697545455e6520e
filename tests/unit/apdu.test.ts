import { describe, expect, it } from 'vitest';
import { decodeResponse, encodeCommand, exchange } from '../../src/core/cards/apdu';

/** A card that answers from a script and records what it was sent. */
function scriptedCard(answers: string[]): { send: (apdu: Buffer) => Promise<Buffer>; sent: string[] } {
  const sent: string[] = [];
  return {
    sent,
    send: async (apdu) => {
      sent.push(apdu.toString('hex'));
      const next = answers.shift();
      if (next === undefined) throw new Error('card was sent more commands than scripted');
      return Buffer.from(next, 'hex');
    },
  };
}

describe('APDU encoding', () => {
  it('encodes the four ISO 7816 cases', () => {
    expect(encodeCommand({ cla: 0, ins: 0xa4, p1: 0, p2: 0x0c }).toString('hex')).toBe('00a4000c');
    expect(encodeCommand({ cla: 0, ins: 0xb0, p1: 0, p2: 0, le: 256 }).toString('hex')).toBe('00b0000000');
    expect(encodeCommand({ cla: 0, ins: 0xa4, p1: 0, p2: 0x0c, data: Buffer.from('3f00', 'hex') }).toString('hex')).toBe('00a4000c023f00');
    expect(encodeCommand({ cla: 0, ins: 0xa4, p1: 4, p2: 0, data: Buffer.from('a0', 'hex'), le: 16 }).toString('hex')).toBe('00a4040001a010');
  });

  it('refuses what short APDUs cannot carry', () => {
    expect(() => encodeCommand({ cla: 0, ins: 0xd6, p1: 0, p2: 0, data: Buffer.alloc(256) })).toThrow(RangeError);
    expect(() => encodeCommand({ cla: 0, ins: 0xb0, p1: 0, p2: 0, le: 0 })).toThrow(RangeError);
  });

  it('splits data and status word, and rejects a response without one', () => {
    expect(decodeResponse(Buffer.from('01029000', 'hex'))).toEqual({ data: Buffer.from('0102', 'hex'), sw: 0x9000 });
    expect(() => decodeResponse(Buffer.from('90', 'hex'))).toThrow(RangeError);
  });
});

describe('transport rules', () => {
  it('follows 61xx with GET RESPONSE until the card is done, concatenating the data', async () => {
    const card = scriptedCard(['aabb6104', 'ccddeeff6102', '11229000']);
    const response = await exchange(card.send, { cla: 0, ins: 0xca, p1: 0, p2: 0x6e, le: 256 });
    expect(response).toEqual({ data: Buffer.from('aabbccddeeff1122', 'hex'), sw: 0x9000 });
    expect(card.sent).toEqual(['00ca006e00', '00c0000004', '00c0000002']);
  });

  it('resends with the length the card asks for on 6Cxx', async () => {
    const card = scriptedCard(['6c05', '01020304059000']);
    const response = await exchange(card.send, { cla: 0, ins: 0xb0, p1: 0, p2: 0, le: 256 });
    expect(response.data.toString('hex')).toBe('0102030405');
    expect(card.sent).toEqual(['00b0000000', '00b0000005']);
  });

  it('keeps the logical channel of the command in GET RESPONSE', async () => {
    const card = scriptedCard(['6101', '019000']);
    await exchange(card.send, { cla: 0x81, ins: 0xca, p1: 0, p2: 0, le: 1 });
    expect(card.sent[1]).toBe('01c0000001');
  });

  it('gives up on a card that announces more data forever', async () => {
    const card = scriptedCard(Array.from({ length: 100 }, () => '00' + '6101'));
    await expect(exchange(card.send, { cla: 0, ins: 0xca, p1: 0, p2: 0, le: 1 })).rejects.toThrow(/keeps announcing/);
  });

  it('returns an error status unchanged', async () => {
    const card = scriptedCard(['6a82']);
    expect((await exchange(card.send, { cla: 0, ins: 0xa4, p1: 0, p2: 0x0c, data: Buffer.from('1234', 'hex') })).sw).toBe(0x6a82);
  });
});
