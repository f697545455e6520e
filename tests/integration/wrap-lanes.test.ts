// A backup's wrap loop runs on several HSM worker threads (lanes), each with its own session, and
// the wrapped keys are put back in order on the main thread. AES key wrap with padding (RFC 5649)
// is deterministic, so every key wrapped by the lanes must be byte for byte what the main thread's
// own session gives for that key: a key put in another key's place, or cut, would differ.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importWrapKey } from '../../src/core/backup/wrap';
import { CKA, CKK, CKO } from '../../src/core/hsm/constants';
import { KeyNotWrapped, WRAP_LANES } from '../../src/core/hsm/hsm-worker-client';
import type { Handle } from '../../src/core/hsm/pkcs11-adapter';
import type { Terminal } from '../../src/core/terminal';
import { LAB_USER_PIN } from '../lab/lab';
import { lab, openTerminal } from './support';

/** CKM_AES_KEY_WRAP_PAD (SoftHSM2's RFC 5649 wrap; the backup's first choice where KWP is missing). */
const KWP = 0x210a;
/**
 * 46 runs of 64 keys and part of a 47th: every lane is dealt many runs, the last one short, and
 * more than the 16 batches it may wrap ahead of what is taken from it (WRAP_BATCH.ahead).
 */
const KEYS = 2_950;
const hex = (b: Buffer): string => b.toString('hex');

let terminal: Terminal;
let keys: Handle[];
let wrapKey: Handle;
let expected: string[];

/** Every key `list` asks for, wrapped by the lanes, in the order given; and the error that stopped the loop, if one did. */
async function wrapAll(list: Handle[]): Promise<{ wrapped: string[]; error: unknown }> {
  const wrapped: string[] = [];
  try {
    for await (const batch of terminal.partition.wrapKeys(KWP, wrapKey, list.map((handle) => ({ handle, room: 4096 })))) wrapped.push(...batch.map(hex));
  } catch (error) {
    return { wrapped, error };
  }
  return { wrapped, error: null };
}

beforeAll(async () => {
  const state = lab.state();
  const created = await lab.newPartition(`Wrap lanes ${Date.now().toString(36)}`);
  terminal = await openTerminal();
  await terminal.partition.selectByLabel(state.modulePath, created.label);
  await terminal.partition.login(Buffer.from(LAB_USER_PIN));
  const session = terminal.partition.coSession();
  // Session objects (quick to make): every session of the application sees them, the lanes' too.
  // AES-128, -192 and -256 in turn, so the wrapped keys differ in length (24, 32, 40 bytes).
  keys = Array.from({ length: KEYS }, (_, i) =>
    session.createObject([
      { type: CKA.CLASS, value: CKO.SECRET_KEY },
      { type: CKA.KEY_TYPE, value: CKK.AES },
      { type: CKA.TOKEN, value: false },
      { type: CKA.SENSITIVE, value: true },
      { type: CKA.EXTRACTABLE, value: true },
      { type: CKA.LABEL, value: `lane key ${i}` },
      { type: CKA.VALUE, value: randomBytes(16 + 8 * (i % 3)) },
    ]),
  );
  wrapKey = importWrapKey(session, randomBytes(32));
  expected = keys.map((k) => hex(session.wrapKey(KWP, wrapKey, k, 4096)));
}, 120_000);

afterAll(() => terminal?.close());

describe('the wrap loop on several lanes', () => {
  it('gives every key wrapped exactly as one session wraps it, in the order asked, whatever lane wrapped it', async () => {
    expect(WRAP_LANES).toBeGreaterThanOrEqual(2);
    expect(new Set(expected).size).toBe(KEYS);
    const { wrapped, error } = await wrapAll(keys);
    expect(error).toBeNull();
    expect(wrapped).toEqual(expected);
    // In another order too: each key keeps its own place.
    const reversed = [...keys].reverse();
    expect((await wrapAll(reversed)).wrapped).toEqual([...expected].reverse());
  });

  it('names the key the HSM refused by its place in the loop, on either lane, after only the keys before it', async () => {
    const session = terminal.partition.coSession();
    const gone = importWrapKey(session, randomBytes(32));
    session.destroyObject(gone);
    // 10 is in the first lane's first run, 100 in the second lane's, 2,949 in the last (short) run.
    for (const at of [10, 100, KEYS - 1]) {
      const { wrapped, error } = await wrapAll(keys.map((k, i) => (i === at ? gone : k)));
      expect(error, `key ${at}`).toBeInstanceOf(KeyNotWrapped);
      expect((error as KeyNotWrapped).index).toBe(at);
      expect(wrapped.length).toBeLessThanOrEqual(at);
      expect(wrapped).toEqual(expected.slice(0, wrapped.length));
    }
    // Two keys refused, one on each lane (runs of 64 dealt in turn: 0-63 to the first lane, 64-127
    // to the second, 128-191 to the first…): the first in the loop's order is named, whichever lane
    // came to its key first (the second lane meets key 64 on its first call, the first lane key 10
    // on its eleventh), as one session would name it.
    for (const [first, second] of [[10, 64], [64, 130], [5, 64]] as const) {
      const { wrapped, error } = await wrapAll(keys.map((k, i) => (i === first || i === second ? gone : k)));
      expect((error as KeyNotWrapped).index, `keys ${first} and ${second}`).toBe(Math.min(first, second));
      expect(wrapped).toEqual(expected.slice(0, wrapped.length));
    }
    // The lanes stopped and are free: the next loop runs whole.
    expect((await wrapAll(keys)).wrapped).toEqual(expected);
  });

  it('ends, naming the refused key, when the other lane is far ahead of it and waiting for its batches to be taken', async () => {
    const session = terminal.partition.coSession();
    // Runs dealt to the first lane hold 2,000-byte generic secrets (slow to wrap), the second
    // lane's AES-128 keys (fast): the second lane runs ahead until it may send no more batches
    // (WRAP_BATCH.ahead), all of them after the key the first lane then refuses. It has nothing
    // left that will be taken, and must be stopped, not left waiting.
    const mixed = Array.from({ length: 60 * 64 }, (_, i) =>
      session.createObject([
        { type: CKA.CLASS, value: CKO.SECRET_KEY },
        { type: CKA.KEY_TYPE, value: Math.floor(i / 64) % 2 === 0 ? CKK.GENERIC_SECRET : CKK.AES },
        { type: CKA.TOKEN, value: false },
        { type: CKA.EXTRACTABLE, value: true },
        { type: CKA.VALUE, value: randomBytes(Math.floor(i / 64) % 2 === 0 ? 2000 : 16) },
      ]),
    );
    const gone = importWrapKey(session, randomBytes(32));
    session.destroyObject(gone);
    // The first lane's eleventh run.
    const at = 20 * 64 + 5;
    try {
      const { error } = await wrapAll(mixed.map((k, i) => (i === at ? gone : k)));
      expect(error).toBeInstanceOf(KeyNotWrapped);
      expect((error as KeyNotWrapped).index).toBe(at);
    } finally {
      for (const k of mixed) session.destroyObject(k);
    }
  }, 60_000);

  it('stops every lane when the caller leaves after the first batch, and waits for them; the batch taken is zeroed', async () => {
    let batches = 0;
    let taken: Buffer[] = [];
    for await (const batch of terminal.partition.wrapKeys(KWP, wrapKey, keys.map((handle) => ({ handle, room: 4096 })))) {
      expect(batch.map(hex)).toEqual(expected.slice(0, batch.length));
      taken = batch;
      batches++;
      break;
    }
    expect(batches).toBe(1);
    // Wrapped keys do not linger in the batches handed out.
    expect(taken.every((b) => b.length > 0 && b.every((x) => x === 0))).toBe(true);
    // A lane not told to stop would wait for ever for its batches to be taken (it has far more
    // than WRAP_BATCH.ahead to send), and the next loop, queued behind it on the same threads,
    // would never end.
    expect((await wrapAll(keys.slice(0, 70))).wrapped).toEqual(expected.slice(0, 70));
  });
});
