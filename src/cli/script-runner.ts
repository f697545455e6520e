// `tessera ceremony run`: the command line's half of a scripted ceremony (core's ScriptRun decides
// the order, the logins and what is recorded). Card PINs come from --pins-from (one line per card,
// in the order cards are taken over the whole run), the crypto officer's PIN from --pin-fd (read
// once, copied for each login, wiped at the end), confirmations and manual steps from --yes (the
// command acting for the administrator); without them, each is asked at the terminal.
import { createInterface } from 'node:readline/promises';
import type { ScriptRun } from '../core/record/script-run';
import { TesseraError } from '../core/errors';
import { wipe } from '../core/secrets';
import type { Terminal } from '../core/terminal';
import type { ScriptRunView } from '../shared/script-run';
import { type RunnerOptions, UsageError, driveCeremony, printable } from './ceremony-runner';
import { promptSecret } from './secret-input';

export interface ScriptRunnerOptions {
  /** Card PINs and new PINs, as for every ceremony command. */
  ceremony: Omit<RunnerOptions, 'confirm'>;
  /** The crypto officer's PIN (--pin-fd), or null to type it when needed. */
  coPin: Buffer | null;
  /** --final-try: the crypto officer's PIN is tried even when the partition says one try is left. */
  finalTry?: boolean;
  /** --yes: confirmations, manual steps and exceptions of failed steps answered by the command for the administrator. */
  yes: boolean;
}

/**
 * Runs the opened script to its end: begin, each step, the transcript. Returns the last view
 * (waiting `ended`, or the preconditions unmet). The CO PIN buffer is wiped whatever happens.
 * @throws TesseraError when the transcript cannot be signed or written; UsageError when an answer is needed and there is no terminal to ask.
 */
export async function runScript(terminal: Terminal, run: ScriptRun, options: ScriptRunnerOptions): Promise<ScriptRunView> {
  let interrupted = false;
  const interrupt = (): void => {
    interrupted = true;
    say('Cancelling the ceremony… (the transcript of what happened is still written)');
    terminal.ceremonies.running()?.cancel();
  };
  if (!options.yes && !process.stdin.isTTY) {
    if (options.coPin) wipe(options.coPin);
    run.close();
    throw new UsageError('Without a terminal to answer at, give --yes (the command answers for the administrator), --pins-from and --pin-fd. Nothing was done.');
  }
  process.on('SIGINT', interrupt);
  let shown = '';
  // PINs given in advance are not tried again on a card that refused one (as every ceremony command).
  const retry = { retryWrongPin: options.ceremony.cardPins === null };
  try {
    let view = run.view();
    showPreconditions(view);
    if (!view.preconditions.every((p) => p.met)) return view;
    if (!options.yes && !(await ask(`Begin “${view.title}”${view.practice ? ' (PRACTICE)' : ''}? [y/N] `))) {
      throw new TesseraError('INVALID_REQUEST', 'Not begun. Nothing was recorded.');
    }
    view = await run.begin();
    for (;;) {
      if (interrupted && view.outcome === 'running' && view.waiting !== 'ceremony') view = await run.cancel();
      if (view.instruction !== shown) {
        say(`${view.practice ? '[PRACTICE] ' : ''}${view.instruction}`);
        shown = view.instruction;
      }
      switch (view.waiting) {
        case 'step':
          if (!options.yes && !(await ask('Start it? [y/N] '))) {
            view = await run.cancel();
            break;
          }
          view = await run.runStep(retry);
          break;
        case 'co-login':
          await login(terminal, options.coPin, options.finalTry === true);
          view = await run.runStep(retry);
          break;
        case 'ceremony': {
          const ended = waitFor(run, (v) => v.waiting !== 'ceremony');
          await driveCeremony(terminal, { ...options.ceremony, ...(options.yes ? {} : { confirm: (text, label) => ask(`${text}\n${label}? [y/N] `) }) }).catch((error: unknown) => {
            // The ceremony's own failure is the step's: the run records it and waits for the exception.
            say(`${error instanceof Error ? error.message : String(error)}`);
          });
          view = await ended;
          break;
        }
        case 'manual': {
          const administrator = view.parsed.roster.administrator;
          const by = options.yes ? administrator : await line(`Who confirms it (${[...(view.parsed.steps[(view.current ?? 1) - 1]?.by ?? []), administrator].join(' or ')})? `);
          view = await run.confirmManual(by);
          break;
        }
        case 'exception': {
          const administrator = view.parsed.roster.administrator;
          const step = view.steps[(view.current ?? 1) - 1];
          const text = options.yes ? `Step ${step?.n ?? '?'} did not succeed: ${(step?.details ?? []).join(' ')} (recorded by the command line for ${administrator}, --yes).` : await line(`${administrator}, what happened (the exception, in your words)? `);
          view = await run.recordException(text, administrator);
          break;
        }
        case 'sign':
          if (!terminal.partition.loggedIn) await login(terminal, options.coPin, options.finalTry === true);
          view = await run.finish();
          break;
        case 'ended':
        case 'begin':
          return view;
      }
    }
  } finally {
    process.off('SIGINT', interrupt);
    run.close();
    if (options.coPin) wipe(options.coPin);
  }
}

function showPreconditions(view: ScriptRunView): void {
  say(`${view.practice ? 'PRACTICE — ' : ''}${view.title} (${view.script.file}, SHA-256 ${view.script.sha256})`);
  for (const p of view.preconditions) say(`  ${p.met ? 'met    ' : 'NOT MET'}  ${p.what}: ${p.detail}`);
}

async function login(terminal: Terminal, coPin: Buffer | null, finalTry: boolean): Promise<void> {
  // The partition's login wipes the buffer it is given: a copy each time, the original wiped at the end.
  await terminal.partition.login(coPin ? Buffer.from(coPin) : await promptSecret('Crypto-officer PIN: '), { finalTry, finalTryOption: '--final-try' });
}

/** Resolves with the run's view once `done` holds for it. */
function waitFor(run: ScriptRun, done: (v: ScriptRunView) => boolean): Promise<ScriptRunView> {
  return new Promise((resolve) => {
    const now = run.view();
    if (done(now)) return resolve(now);
    const stop = run.onChange((v) => {
      if (!done(v)) return;
      stop();
      resolve(v);
    });
  });
}

async function ask(question: string): Promise<boolean> {
  return /^y(es)?$/i.test((await line(question)).trim());
}

/** One line typed at the terminal (never a secret). */
async function line(question: string): Promise<string> {
  if (!process.stdin.isTTY) throw new UsageError('An answer is needed and there is no terminal to ask: give --yes (the command answers for the administrator), --pins-from and --pin-fd.');
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return await rl.question(question);
  } finally {
    rl.close();
  }
}

function say(text: string): void {
  process.stderr.write(`${printable(text)}\n`);
}
