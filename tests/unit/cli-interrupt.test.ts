// The CLI's Ctrl-C once a command's ceremony has ended: a real SIGINT sent to this process. The
// ceremony host is a stand-in that reports an ended ceremony at once: what is tested is the CLI's
// signal wiring after a ceremony, at a moment (between the ceremony's end and the command's exit)
// that a spawned CLI cannot be interrupted at on purpose. The ceremonies themselves, and Ctrl-C
// during them, are tested against the lab (integration, e2e).
import { isMainThread } from 'node:worker_threads';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { releaseAfterCeremony, runCeremony } from '../../src/cli/ceremony-runner';
import { runProgram } from '../../src/cli/program';
import { TesseraError } from '../../src/core/errors';
import type { Terminal } from '../../src/core/terminal';
import type { CeremonyView } from '../../src/shared/types';

const ended = {
  id: 'c',
  kind: 'so-acknowledge',
  prompt: { seq: 3, kind: 'done', text: 'Done.' },
  notices: [],
  error: null,
} as unknown as CeremonyView;

const terminal = {
  readers: { start: async () => undefined },
  ceremonies: {
    start: () => ended,
    running: () => ({ snapshot: () => ended, current: () => ended, isCancelled: false, cancel: () => undefined }),
    onCeremony: () => () => undefined,
  },
} as unknown as Terminal;

afterEach(() => {
  releaseAfterCeremony();
  vi.restoreAllMocks();
});

describe('Ctrl-C after a command\'s ceremony has ended', () => {
  it('is answered (what the ceremony did stands) instead of killing the command, once; the command\'s end lets go of it', async () => {
    // The signal goes to this process: it must be a test process of its own (vitest's forks pool), not a thread of vitest's.
    expect(isMainThread).toBe(true);
    const before = process.listenerCount('SIGINT');
    const said: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      said.push(String(chunk));
      return true;
    });
    const view = await runCeremony(terminal, { kind: 'so-acknowledge' }, { cardPins: null, soPin: null, waitSeconds: 1 });
    expect(view.prompt.kind).toBe('done');
    expect(process.listenerCount('SIGINT')).toBe(before + 1);
    process.kill(process.pid, 'SIGINT');
    await vi.waitFor(() => expect(said.join('')).toMatch(/The ceremony has ended already: what it did stands\. Finishing/), { timeout: 2000 });
    // Once only: a second Ctrl-C would stop the process at once.
    expect(process.listenerCount('SIGINT')).toBe(before);
    await runCeremony(terminal, { kind: 'so-acknowledge' }, { cardPins: null, soPin: null, waitSeconds: 1 });
    expect(process.listenerCount('SIGINT')).toBe(before + 1);
    // Any command's end (runProgram) lets go of it: here `--help`, which runs no ceremony.
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    expect(await runProgram(['--help'])).toBe(0);
    expect(process.listenerCount('SIGINT')).toBe(before);
  });
});

describe('an answer refused because Ctrl-C had cancelled the ceremony already', () => {
  it('ends the command as cancelled, not as failed with "not waiting for that now"', async () => {
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const confirm = { ...ended, prompt: { seq: 1, kind: 'confirm', text: 'Write this backup?' } } as unknown as CeremonyView;
    const cancelled = { ...ended, prompt: { seq: 2, kind: 'cancelled', text: 'Cancelled. Nothing was changed.' } } as unknown as CeremonyView;
    let view = confirm;
    let wake: (() => void) | null = null;
    const racing = {
      readers: { start: async () => undefined },
      ceremonies: {
        start: () => view,
        running: () => ({ snapshot: () => view, current: () => view, isCancelled: true, cancel: () => ((view = cancelled), wake?.()) }),
        onCeremony: (listener: () => void) => ((wake = listener), () => (wake = null)),
        // The Ctrl-C landed between the question and its answer: the run refuses the answer.
        provide: () => {
          throw new TesseraError('INVALID_REQUEST', 'The ceremony is not waiting for that now.', 'confirm while confirm');
        },
      },
    } as unknown as Terminal;
    const result = await runCeremony(racing, { kind: 'so-acknowledge' }, { cardPins: null, soPin: null, waitSeconds: 1 });
    expect(result.prompt.kind).toBe('cancelled');
  });
});
