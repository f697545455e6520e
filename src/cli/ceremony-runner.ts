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
import { PromptCancelled, type SecretLines, promptSecret } from './secret-input';

export interface RunnerOptions {
  /** Card PINs, one per line (--pins-from). Without it, PINs are typed at the terminal. */
  cardPins: SecretLines | null;
  /** The current SO PIN for adoption (--so-pin-fd). */
  soPin: SecretLines | null;
  /** New PINs (--new-pin-fd): a card's for change-pin (else from cardPins), the crypto officer's for co-pin reset (else typed). */
  newPins?: SecretLines | null;
  waitSeconds: number;
  /**
   * Asks before a confirmation (a ceremony run from a script without --yes); without it the
   * command itself is the confirmation. False cancels the ceremony.
   */
  confirm?: (text: string, label: string) => Promise<boolean>;
}

export async function runCeremony(terminal: Terminal, start: CeremonyStart, options: RunnerOptions): Promise<CeremonyView> {
  // The same start schema the window's requests are checked against (the registry's).
  const checked = ceremonyStart().safeParse(start);
  if (!checked.success) throw new UsageError(`Check the options: ${checked.error.issues.map((i) => `--${String(i.path[0] ?? 'value')} ${i.code === 'invalid_type' ? 'is not a number' : 'is out of range'}`).join('; ')}.`);
  await terminal.readers.start();
  terminal.ceremonies.start(start, { retryWrongPin: options.cardPins === null });
  // Installed before driveCeremony lets go of Ctrl-C: with no SIGINT listener at all, even for a
  // moment, Node gives the signal back its default action (the process ends with 130).
  return driveCeremony(terminal, options, () => {
    process.removeListener('SIGINT', afterCeremony);
    process.once('SIGINT', afterCeremony);
  });
}

/**
 * Ctrl-C after the command's ceremony has ended, while the command prints its result and closes
 * the terminal: what the ceremony did stands (a backup written and verified, a PIN changed), so the
 * command finishes with its own exit code rather than dying with 130 as if it had been stopped. Once
 * only: a second Ctrl-C stops the process. Removed when the command ends (releaseAfterCeremony).
 */
const afterCeremony = (): void => say('The ceremony has ended already: what it did stands. Finishing… (Ctrl-C again stops at once)');

/** Ends afterCeremony's hold on Ctrl-C: the command is over (runProgram calls it). */
export function releaseAfterCeremony(): void {
  process.removeListener('SIGINT', afterCeremony);
}

/**
 * Answers the running ceremony's prompts from the options (or the terminal) until it ends: the
 * CLI's half of a ceremony that runCeremony or a ceremony script (record/script-run.ts) started.
 * `beforeRelease` runs as it ends, just before its Ctrl-C handler is removed (runCeremony installs
 * the next one there).
 * @returns the ended view; @throws the failure that made the command stop it (no card in time, a refused PIN given in advance).
 */
export async function driveCeremony(terminal: Terminal, options: RunnerOptions, beforeRelease?: () => void): Promise<CeremonyView> {
  await terminal.readers.start();
  const ceremonies = terminal.ceremonies;
  let handled = 0;
  let noticesShown = 0;
  let waitTimer: NodeJS.Timeout | null = null;
  let failure: unknown = null;

  let recent: string[] = [];
  // The crypto officer's new PIN comes from --new-pin-fd only: --pins-from holds the cards' PINs.
  const newPinSource = (p: CeremonyView['prompt']): SecretLines | null => (p.pinOf === 'crypto-officer' ? (options.newPins ?? null) : (options.newPins ?? options.cardPins));
  const answer = async (view: CeremonyView): Promise<CeremonyInput | null> => {
    const p = view.prompt;
    // A refusal already said as a notice is not said twice (nor one of a PIN given in advance: the failure says it).
    const inAdvance = p.kind === 'choose-pin' && newPinSource(p) !== null;
    if (p.refusal && !inAdvance && !recent.some((n) => n.includes(p.refusal as string))) say(`refused: ${p.refusal}`);
    switch (p.kind) {
      case 'insert-card':
        say(p.text);
        waitTimer = setTimeout(() => {
          // Where officers may stop taking cards (a roll call, retiring the old generation), no more cards means finish.
          if (p.finishLabel !== undefined) {
            say(`No further card within ${options.waitSeconds} seconds: ${p.finishLabel.toLowerCase()}.`);
            try {
              ceremonies.provide(view.id, { kind: 'confirm' });
              return;
            } catch {
              // the ceremony moved on meanwhile
            }
          }
          failure = new TesseraError('CARD_ABSENT', `No card came within ${options.waitSeconds} seconds. The ceremony was cancelled; nothing was changed.`);
          ceremonies.running()?.cancel();
        }, options.waitSeconds * 1000);
        return null;
      case 'enter-so-pin':
        return { kind: 'pin', pin: options.soPin ? options.soPin.next() : await typed(`${p.text}\nSO PIN: `, '--so-pin-fd N') };
      case 'enter-pin':
        return { kind: 'pin', pin: options.cardPins ? options.cardPins.next() : await typed(`${p.text} `) };
      case 'choose-pin': {
        const source = newPinSource(p);
        if (source) {
          // A new PIN given in advance that was refused is not replaced by the next line, meant for something else.
          if (p.refusal) throw new TesseraError('PIN_INVALID', `The new PIN given in advance is refused: ${p.refusal}`);
          const pin = source.next();
          return { kind: 'pin', pin, repeat: Buffer.from(pin) };
        }
        const option = p.pinOf === 'crypto-officer' ? '--new-pin-fd N' : undefined;
        const pin = await typed(`${p.text}\nNew PIN: `, option);
        return { kind: 'pin', pin, repeat: await typed('Again: ', option) };
      }
      case 'confirm':
        if (options.confirm) {
          if (await options.confirm(p.text, p.confirmLabel ?? 'Confirm')) return { kind: 'confirm' };
          throw new PromptCancelled();
        }
        say(`${p.text}\n→ ${p.confirmLabel ?? 'confirmed'} (the command is the confirmation).`);
        return { kind: 'confirm' };
      case 'confirm-fingerprint':
        // Only --trust-set answers it: a fingerprint is read from the enrolment record, not typed at a prompt.
        throw new TesseraError('INVALID_REQUEST', `The fingerprint of ${p.about ?? 'the backup set'} must be confirmed: give it from the set's enrolment record with --trust-set FINGERPRINT. Nothing was changed.`);
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
  // Ctrl-C while the terminal waits (for a card, or between prompts) cancels the ceremony the way
  // the GUI's Cancel does: it ends, says what stays written, and is audited.
  const interrupt = (): void => {
    say('Cancelling…');
    ceremonies.running()?.cancel();
  };
  process.on('SIGINT', interrupt);
  try {
    for (;;) {
      dirty = false;
      const view = ceremonies.running()?.snapshot() as CeremonyView;
      const ended = ['done', 'failed', 'cancelled'].includes(view.prompt.kind);
      recent = [];
      for (const notice of view.notices.slice(noticesShown)) {
        // The failure itself is said once, by the command (tessera: …).
        if (ended && notice.level === 'error' && notice.text === view.error?.message) continue;
        recent.push(notice.text);
        say(`${notice.level === 'info' ? '' : `${notice.level}: `}${notice.text}${notice.detail ? ` [${notice.detail}]` : ''}`);
      }
      noticesShown = view.notices.length;
      if (ended) {
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
          // Answered for this question only: a PIN typed while the card was taken out (the ceremony
          // asked another officer meanwhile) is never sent to the next officer's card.
          if (input) ceremonies.provide(view.id, input, view.prompt.seq);
        } catch (error) {
          if (input?.kind === 'pin') wipe(input.pin, input.repeat);
          const running = ceremonies.running()?.current();
          if (input && running && !['done', 'failed', 'cancelled'].includes(running.prompt.kind) && running.prompt.seq !== view.prompt.seq) {
            say('The question changed while you answered (a card was taken out or inserted): that answer was not used. Answer the new question.');
            continue;
          }
          // Ctrl-C at a prompt is a cancel like any other, and so is an answer the ceremony refused
          // because a Ctrl-C had cancelled it already; anything else is why the command fails.
          if (!(error instanceof PromptCancelled) && !ceremonies.running()?.isCancelled) failure = error;
          ceremonies.running()?.cancel();
        }
        continue;
      }
      if (!dirty) await new Promise<void>((resolve) => (wake = resolve));
      wake = null;
    }
  } finally {
    beforeRelease?.();
    process.off('SIGINT', interrupt);
    stop();
    if (waitTimer) clearTimeout(waitTimer);
  }
}

/** A PIN typed at the terminal; an empty one is asked for again (Ctrl-C cancels); `option` gives it without a terminal. */
async function typed(question: string, option?: string): Promise<Buffer> {
  for (;;) {
    try {
      return await promptSecret(question, option);
    } catch (error) {
      if (!(error instanceof TesseraError) || error.code !== 'PIN_INVALID') throw error;
      say('No PIN was typed. Type it, or press Ctrl-C to cancel.');
    }
  }
}

/** A command line the ceremony cannot start with: exit code 2 (bad usage). */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** One line to the officer; control characters (escape sequences in a name from a card) are shown, never obeyed. */
function say(text: string): void {
  process.stderr.write(`${printable(text)}\n`);
}

/** `text` with every control or format character but newline and tab written as \\u{…}. */
export function printable(text: string): string {
  return text.replace(/[^\P{Cc}\n\t]|\p{Cf}/gu, (c) => `\\u{${(c.codePointAt(0) ?? 0).toString(16)}}`);
}
