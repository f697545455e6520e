// Walks a core ceremony from the command line: prompts and refusals go to stderr, PINs come from
// the descriptors given (one card PIN per line, in the order the cards are taken) or are typed at
// the terminal. Cards already in readers are taken first, then cards as they are inserted, waiting
// up to --wait seconds for each.
import type { CeremonyInput } from '../core/ceremony/run';
import { TesseraError } from '../core/errors';
import { type CeremonyStart, ceremonyStart } from '../shared/ceremonies';
import { wipe } from '../core/secrets';
import type { Terminal } from '../core/terminal';
import type { CeremonyView } from '../shared/types';
import { type SecretLines, promptSecret } from './secret-input';

export interface RunnerOptions {
  /** Card PINs, one per line (--pins-from). Without it, PINs are typed at the terminal. */
  cardPins: SecretLines | null;
  /** The current SO PIN for adoption (--so-pin-fd). */
  soPin: SecretLines | null;
  /** New card PINs for change-pin (--new-pin-fd). */
  newPins?: SecretLines | null;
  waitSeconds: number;
}

export async function runCeremony(terminal: Terminal, start: CeremonyStart, options: RunnerOptions): Promise<CeremonyView> {
  // The same start schema the window's requests are checked against (the registry's).
  const checked = ceremonyStart.safeParse(start);
  if (!checked.success) throw new TesseraError('INVALID_REQUEST', 'The ceremony was asked for with values out of range.', checked.error.issues.map((i) => `${i.path.join('.')}: ${i.code}`).join('; '));
  await terminal.readers.start();
  const ceremonies = terminal.ceremonies;
  ceremonies.start(start, { retryWrongPin: options.cardPins === null });
  let handled = 0;
  let noticesShown = 0;
  let waitTimer: NodeJS.Timeout | null = null;
  let failure: unknown = null;

  const answer = async (view: CeremonyView): Promise<CeremonyInput | null> => {
    const p = view.prompt;
    if (p.refusal) say(`refused: ${p.refusal}`);
    switch (p.kind) {
      case 'insert-card':
        say(p.text);
        waitTimer = setTimeout(() => {
          failure = new TesseraError('CARD_ABSENT', `No card came within ${options.waitSeconds} seconds. The ceremony was cancelled; nothing was changed.`);
          ceremonies.running()?.cancel();
        }, options.waitSeconds * 1000);
        return null;
      case 'enter-so-pin':
        return { kind: 'pin', pin: options.soPin ? options.soPin.next() : await promptSecret(`${p.text}\nSO PIN: `) };
      case 'enter-pin':
        return { kind: 'pin', pin: options.cardPins ? options.cardPins.next() : await promptSecret(`${p.text} `) };
      case 'choose-pin': {
        const source = options.newPins ?? options.cardPins;
        if (source) {
          const pin = source.next();
          return { kind: 'pin', pin, repeat: Buffer.from(pin) };
        }
        const pin = await promptSecret(`${p.text}\nNew PIN: `);
        return { kind: 'pin', pin, repeat: await promptSecret('Again: ') };
      }
      case 'confirm':
        say(`${p.text}\n→ ${p.confirmLabel ?? 'confirmed'} (the command is the confirmation).`);
        return { kind: 'confirm' };
      case 'remove-card':
        say(p.text);
        return null;
      default:
        return null;
    }
  };

  // Set by every change of the ceremony, so one that lands while an answer is computed is not missed.
  let dirty: boolean;
  let wake: (() => void) | null = null;
  const stop = ceremonies.onCeremony(() => {
    dirty = true;
    wake?.();
  });
  try {
    for (;;) {
      dirty = false;
      const view = ceremonies.running()?.snapshot() as CeremonyView;
      for (const notice of view.notices.slice(noticesShown)) say(`${notice.level === 'info' ? '' : `${notice.level}: `}${notice.text}${notice.detail ? ` [${notice.detail}]` : ''}`);
      noticesShown = view.notices.length;
      if (['done', 'failed', 'cancelled'].includes(view.prompt.kind)) {
        if (failure) throw failure;
        return view;
      }
      if (view.prompt.seq > handled) {
        handled = view.prompt.seq;
        if (waitTimer) clearTimeout(waitTimer);
        waitTimer = null;
        let input: CeremonyInput | null = null;
        try {
          input = await answer(view);
          if (input) ceremonies.provide(view.id, input);
        } catch (error) {
          if (input?.kind === 'pin') wipe(input.pin, input.repeat);
          failure = error;
          ceremonies.running()?.cancel();
        }
        continue;
      }
      if (!dirty) await new Promise<void>((resolve) => (wake = resolve));
      wake = null;
    }
  } finally {
    stop();
    if (waitTimer) clearTimeout(waitTimer);
  }
}

function say(text: string): void {
  process.stderr.write(`${text}\n`);
}
