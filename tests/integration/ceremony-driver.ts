// Drives a ceremony the way officers would: answers each prompt with a card put into a lab reader
// or a PIN typed, and waits for the ceremony to end. Named waits, never sleeps.
import type { CeremonyInput } from '../../src/core/ceremony/run';
import type { CeremonyStart } from '../../src/shared/ceremonies';
import { OfficerCard } from '../../src/core/cards/officer-card';
import type { Terminal } from '../../src/core/terminal';
import type { CeremonyView, PromptKind } from '../../src/shared/types';
import { lab, until } from './support';

export type Answer = (view: CeremonyView) => Promise<CeremonyInput | null> | CeremonyInput | null;

/** Only `holder`'s card in the lab's readers (the others are taken out first). */
export async function present(holder: string): Promise<void> {
  for (const card of lab.status().cards as { holder: string; inserted: boolean }[]) {
    if (card.inserted && card.holder !== holder) await lab.remove(card.holder);
  }
  if (!(lab.status().cards as { holder: string; inserted: boolean }[]).find((c) => c.holder === holder)?.inserted) await lab.insert(holder);
}

export async function removeAll(terminal?: Terminal): Promise<void> {
  for (const card of lab.status().cards as { holder: string; inserted: boolean }[]) if (card.inserted) await lab.remove(card.holder);
  if (terminal) await until(() => terminal.readers.snapshot().readers.every((r) => r.condition === 'empty'), 'the terminal to see every reader empty');
}

/** Fresh blank cards named `${prefix}-1` … */
export async function blankCards(prefix: string, count: number): Promise<string[]> {
  const names = Array.from({ length: count }, (_, i) => `${prefix}-${i + 1}`);
  const existing = new Set(lab.state().cards.map((c) => c.holder));
  for (const name of names) {
    if (!existing.has(name)) await lab.newCard(name);
    else {
      if ((lab.status().cards as { holder: string; inserted: boolean }[]).find((c) => c.holder === name)?.inserted) await lab.remove(name);
      await lab.blankCard(name);
    }
  }
  return names;
}

/** Works with one card directly, as the terminal's card layer sees it (the card alone in a reader). */
export async function withCard<T>(terminal: Terminal, holder: string, work: (card: OfficerCard) => Promise<T>): Promise<T> {
  await present(holder);
  const reader = lab.state().cards.find((c) => c.holder === holder)?.reader as string;
  await until(() => terminal.readers.snapshot().readers.find((r) => r.name === reader)?.condition === 'card-present', `${holder}'s card`);
  const session = await terminal.readers.connect(reader);
  try {
    return await work(new OfficerCard(session));
  } finally {
    await session.close();
  }
}

export const pin = (text: string): CeremonyInput => ({ kind: 'pin', pin: Buffer.from(text) });
export const twice = (text: string): CeremonyInput => ({ kind: 'pin', pin: Buffer.from(text), repeat: Buffer.from(text) });
export const confirm: CeremonyInput = { kind: 'confirm' };

const WAITING: PromptKind[] = ['working', 'remove-card'];
const ENDED: PromptKind[] = ['done', 'failed', 'cancelled'];

/**
 * Starts a ceremony and answers its prompts until it ends. `answer` sees each new prompt once;
 * it may act (insert a card) and return an input, or return null to leave the prompt waiting.
 */
export async function runCeremony(terminal: Terminal, start: CeremonyStart, answer: Answer, options = { retryWrongPin: true }, timeoutMs = 120_000): Promise<CeremonyView> {
  // Officers take their cards out after use: a card left in a reader would be taken at once.
  await removeAll(terminal);
  terminal.ceremonies.start(start, options);
  try {
    return await drive(terminal, answer, timeoutMs);
  } catch (error) {
    // A test that fails half way must not leave its ceremony holding cards for the next test.
    terminal.ceremonies.running()?.cancel();
    await terminal.ceremonies.settled();
    throw error;
  }
}

async function drive(terminal: Terminal, answer: Answer, timeoutMs: number): Promise<CeremonyView> {
  let latest = terminal.ceremonies.running()?.snapshot() as CeremonyView;
  let handled = 0;
  const deadline = Date.now() + timeoutMs;
  const changed = (): Promise<void> =>
    new Promise((resolve) => {
      const stop = terminal.ceremonies.onCeremony((view) => {
        latest = view;
        stop();
        resolve();
      });
      setTimeout(() => {
        stop();
        resolve();
      }, 250);
    });
  for (;;) {
    if (Date.now() > deadline) throw new Error(`ceremony still at "${latest.prompt.text}" after ${timeoutMs} ms`);
    latest = terminal.ceremonies.running()?.snapshot() ?? latest;
    if (ENDED.includes(latest.prompt.kind)) return latest;
    if (!WAITING.includes(latest.prompt.kind) && latest.prompt.seq > handled) {
      handled = latest.prompt.seq;
      const input = await answer(latest);
      if (input) terminal.ceremonies.provide(latest.id, input);
      continue;
    }
    if (latest.prompt.kind === 'remove-card' && latest.prompt.reader) {
      const holder = lab.state().cards.find((c) => c.reader === latest.prompt.reader)?.holder;
      if (holder) await lab.remove(holder);
    }
    await changed();
  }
}

/** Answers for an adoption: cards in order, each holder's PIN, the current SO PIN, the confirmation. */
export function adoptAnswers(cards: string[], soPin: string, cardPin: (i: number) => string): Answer {
  let next = 0;
  return async (view) => {
    switch (view.prompt.kind) {
      case 'enter-so-pin':
        return pin(soPin);
      case 'insert-card': {
        const card = cards[next++];
        if (!card) throw new Error(`ran out of cards at ${view.prompt.text}: ${JSON.stringify(view.notices.map((n) => n.text))}`);
        await present(card);
        return null;
      }
      case 'choose-pin':
        return twice(cardPin(view.collected.length + 1));
      case 'confirm':
        return confirm;
      default:
        return null;
    }
  };
}
