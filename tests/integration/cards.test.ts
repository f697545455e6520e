// Readers and cards through pcsclite against the lab's pcscd, vpcd readers and emulated cards.
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SW } from '../../src/core/cards/apdu';
import type { CardSession } from '../../src/core/cards/card-session';
import { ReaderMonitor } from '../../src/core/cards/reader-monitor';
import { TesseraError } from '../../src/core/errors';
import type { ReadersSnapshot } from '../../src/shared/types';
import { readers } from '../lab/lab';
import { lab, tempHome, tessera, until } from './support';

const CARD = 'transport-test';
const VICC_ATR = '3b951381018073ff01000b';
let monitor: ReaderMonitor;
let latest: ReadersSnapshot;
const snapshots: ReadersSnapshot[] = [];

async function ensureOnly(holders: string[]): Promise<void> {
  for (const card of lab.state().cards) {
    const inserted = (lab.status().cards as { holder: string; inserted: boolean }[]).find((c) => c.holder === card.holder)?.inserted;
    if (inserted && !holders.includes(card.holder)) await lab.remove(card.holder);
  }
}

function readerOf(holder: string): string {
  const reader = lab.state().cards.find((c) => c.holder === holder)?.reader;
  if (!reader) throw new Error(`${holder}'s card is not in a reader`);
  return reader;
}

const conditionOf = (reader: string): string | undefined => latest.readers.find((r) => r.name === reader)?.condition;

beforeAll(async () => {
  await lab.up();
  if (!lab.state().cards.some((c) => c.holder === CARD)) await lab.newCard(CARD);
  await ensureOnly([]);
  await lab.blankCard(CARD);
  monitor = new ReaderMonitor();
  monitor.onChange((s) => {
    latest = s;
    snapshots.push(s);
  });
  await monitor.start();
  latest = monitor.snapshot();
});

afterAll(async () => {
  monitor.stop();
  await ensureOnly([]);
});

describe('readers', () => {
  it('lists the lab\'s virtual readers, all empty', () => {
    expect(latest.service).toBe('running');
    expect(latest.readers.map((r) => r.name).sort()).toEqual(readers().map((r) => r.name).sort());
    expect(latest.readers.every((r) => r.condition === 'empty' && r.atr === null)).toBe(true);
  });

  it('reports a card inserted and removed, as events, with its ATR', async () => {
    snapshots.length = 0;
    await lab.insert('alice');
    const reader = readerOf('alice');
    await until(() => conditionOf(reader) === 'card-present', 'the insertion event');
    expect(latest.readers.find((r) => r.name === reader)?.atr).toBe(VICC_ATR);
    await lab.remove('alice');
    await until(() => conditionOf(reader) === 'empty', 'the removal event');
    expect(snapshots.length).toBeGreaterThanOrEqual(2);
    expect(latest.readers.find((r) => r.name === reader)?.atr).toBeNull();
  });
});

describe('card sessions', () => {
  let session: CardSession | null = null;

  it('exchanges APDUs with a card: select, create, write and read a file, verify a PIN', async () => {
    await lab.insert(CARD);
    const reader = readerOf(CARD);
    await until(() => conditionOf(reader) === 'card-present', 'the card');
    session = await monitor.connect(reader);
    expect((await session.transmit({ cla: 0, ins: 0xa4, p1: 0, p2: 0x0c, data: Buffer.from('3f00', 'hex') })).sw).toBe(SW.OK);
    // CREATE FILE: FCP with size 32, a transparent EF, file id A101.
    const fcp = Buffer.from('620b800200208201018302a101', 'hex');
    expect((await session.transmit({ cla: 0, ins: 0xe0, p1: 0, p2: 0, data: fcp })).sw).toBe(SW.OK);
    expect((await session.transmit({ cla: 0, ins: 0xa4, p1: 0, p2: 0x0c, data: Buffer.from('a101', 'hex') })).sw).toBe(SW.OK);
    expect((await session.transmit({ cla: 0, ins: 0xd6, p1: 0, p2: 0, data: Buffer.from('tessera!') })).sw).toBe(SW.OK);
    const read = await session.transmit({ cla: 0, ins: 0xb0, p1: 0, p2: 0, le: 8 });
    expect(read).toEqual({ data: Buffer.from('tessera!'), sw: SW.OK });
    expect((await session.transmit({ cla: 0, ins: 0x20, p1: 0, p2: 1, data: Buffer.from('0000') })).sw >> 8).toBe(0x63);
  });

  it('holds the card exclusively: no other program and no second step can use it meanwhile', async () => {
    const reader = readerOf(CARD);
    const other = spawnSync('opensc-tool', ['--reader', reader, '--send-apdu', '00A4000C023F00'], { encoding: 'utf8', timeout: 20_000 });
    expect(`${other.stdout}${other.stderr}`).not.toMatch(/SW1=0x90, SW2=0x00/);
    const second = await monitor.connect(reader).then(
      () => null,
      (e: unknown) => e,
    );
    expect(second).toBeInstanceOf(TesseraError);
    expect((second as TesseraError).message).toMatch(/already in use/);
    await session?.close();
    const after = spawnSync('opensc-tool', ['--reader', reader, '--send-apdu', '00A4000C023F00'], { encoding: 'utf8', timeout: 20_000 });
    expect(after.stdout).toMatch(/SW1=0x90, SW2=0x00/);
  });

  it('keeps what was written when the card is removed and inserted again', async () => {
    await lab.remove(CARD);
    await lab.insert(CARD);
    const reader = readerOf(CARD);
    await until(() => conditionOf(reader) === 'card-present', 'the card again');
    const again = await monitor.connect(reader);
    try {
      expect((await again.transmit({ cla: 0, ins: 0xa4, p1: 0, p2: 0x0c, data: Buffer.from('a101', 'hex') })).sw).toBe(SW.OK);
      expect((await again.transmit({ cla: 0, ins: 0xb0, p1: 0, p2: 0, le: 8 })).data.toString()).toBe('tessera!');
    } finally {
      await again.close();
    }
  });

  it('stops within seconds when the card is pulled mid-session, and never reuses the dead session', async () => {
    const reader = readerOf(CARD);
    const pulled = await monitor.connect(reader);
    lab.killCard(CARD);
    const started = Date.now();
    const error = await pulled.transmit({ cla: 0, ins: 0xa4, p1: 0, p2: 0x0c, data: Buffer.from('3f00', 'hex') }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(Date.now() - started).toBeLessThan(6000);
    expect(error).toBeInstanceOf(TesseraError);
    expect(['CARD_REMOVED', 'CARD_ERROR', 'CARD_TIMEOUT']).toContain((error as TesseraError).code);
    expect((error as TesseraError).message).not.toMatch(/SCARD|0x8010/);
    const reuse = await pulled.transmit({ cla: 0, ins: 0xa4, p1: 0, p2: 0x0c, data: Buffer.from('3f00', 'hex') }).then(
      () => null,
      (e: unknown) => e,
    );
    expect((reuse as TesseraError).message).toMatch(/session has ended/);
    await pulled.close();
    await until(() => conditionOf(reader) === 'empty', 'the reader to show the card gone');
    const absent = await monitor.connect(reader).then(
      () => null,
      (e: unknown) => e,
    );
    expect((absent as TesseraError).code).toBe('CARD_ABSENT');
  });
});

describe('the card service', () => {
  it('says plainly when pcscd stops, keeps working, and notices when it is back', async () => {
    await lab.stopPcscd();
    await until(() => latest.service === 'unavailable', 'the monitor to notice pcscd stopped', 10_000);
    expect(latest.message).toMatch(/pcscd\) is not running/);
    expect(latest.readers).toEqual([]);
    const refused = await monitor.connect('Tessera Lab Reader 0 00 00').then(
      () => null,
      (e: unknown) => e,
    );
    expect((refused as TesseraError).code).toBe('CARD_SERVICE_UNAVAILABLE');

    const fresh = new ReaderMonitor();
    await fresh.start();
    expect(fresh.snapshot().service).toBe('unavailable');
    fresh.stop();

    // The CLI: readers fails with one clear line; everything else keeps working.
    const home = tempHome();
    const cli = tessera(['readers'], { home });
    expect(cli.status).toBe(1);
    expect(cli.stderr).toMatch(/^tessera: The smart-card service \(pcscd\) is not running/);
    expect(tessera(['status'], { home }).status).toBe(0);

    await lab.up();
    await until(() => latest.service === 'running' && latest.readers.length === readers().length, 'the readers to come back', 15_000);
  });
});
