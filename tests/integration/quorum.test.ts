// Officer card sets and m-of-n SO login against the lab: SoftHSM2 partitions made for each test,
// emulated cards in pcscd's readers, the real database and keychain.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Terminal } from '../../src/core/terminal';
import type { CeremonyView } from '../../src/shared/types';
import { adoptAnswers, blankCards, pin, present, removeAll, runCeremony } from './ceremony-driver';
import { lab, openTerminal, pkcs11Tool } from './support';

const cardPin = (i: number): string => `card-pin-${i}${i}${i}`;

async function freshPartition(name: string): Promise<{ label: string; serial: string; soPin: string }> {
  const created = await lab.newPartition(`${name} ${Date.now().toString(36)}`.slice(0, 32));
  return { label: created.label, serial: created.serial, soPin: created.soPin };
}

async function adopted(terminal: Terminal, prefix: string, m: number, n: number): Promise<{ cards: string[]; partition: { label: string; serial: string; soPin: string }; view: CeremonyView }> {
  const partition = await freshPartition(prefix);
  terminal.partition.select(lab.state().modulePath, partition.serial);
  const cards = await blankCards(prefix, n);
  const view = await runCeremony(terminal, { kind: 'adopt', holders: cards.map((c) => `holder ${c}`), threshold: m }, adoptAnswers(cards, partition.soPin, cardPin));
  return { cards, partition, view };
}

function loginAnswers(cards: string[]): (view: CeremonyView) => Promise<ReturnType<typeof pin> | null> {
  let next = 0;
  return async (view) => {
    if (view.prompt.kind === 'insert-card') {
      await present(cards[next++] as string);
      return null;
    }
    if (view.prompt.kind === 'enter-pin') {
      const index = Number(/-(\d+)$/.exec(view.prompt.holder ?? '')?.[1]);
      return pin(cardPin(index));
    }
    return null;
  };
}

let terminal: Terminal;

beforeAll(async () => {
  await lab.up();
  await removeAll();
  terminal = await openTerminal();
  await terminal.readers.start();
});

afterAll(async () => {
  await terminal.close();
  await removeAll();
});

describe('enrolment and SO login', () => {
  it('adopts a partition with a 3-of-5 card set and logs in as SO with three cards', async () => {
    const { cards, partition, view } = await adopted(terminal, 'q35', 3, 5);
    expect(view.prompt.kind, JSON.stringify(view.notices)).toBe('done');
    expect(view.result).toMatchObject({ kind: 'adopt', record: { m: 3, n: 5, partition: { serial: partition.serial } } });
    const login = await runCeremony(terminal, { kind: 'so-login' }, loginAnswers([cards[4] as string, cards[1] as string, cards[2] as string]));
    expect(login.prompt.kind, JSON.stringify(login.notices)).toBe('done');
    expect(login.result).toMatchObject({ kind: 'so-login', holders: ['holder q35-2', 'holder q35-3', 'holder q35-5'] });
    expect(terminal.quorum.soSession()).toMatchObject({ active: true, holders: ['holder q35-2', 'holder q35-3', 'holder q35-5'] });
    expect(pkcs11Tool(['--list-token-slots'])).toBeTruthy();
    await terminal.quorum.endSo('logout');
  });
});
