// The IPC contract as the main process serves it (the same dispatcher Electron registers), against
// the real core and lab. The renderer is untrusted: any payload, any channel name, any frame.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Terminal } from '../../src/core/terminal';
import { type Dispatcher, createDispatcher } from '../../src/main/dispatch';
import { channelNames } from '../../src/shared/contract';
import type { PartitionView } from '../../src/shared/types';
import { LAB_USER_PIN } from '../lab/lab';
import { lab, openTerminal } from './support';

const ORIGIN = 'app://tessera';
const main = { url: `${ORIGIN}/index.html`, isMainFrame: true };
let terminal: Terminal;
let dispatcher: Dispatcher;

beforeAll(async () => {
  terminal = await openTerminal(undefined, 'gui');
  dispatcher = createDispatcher(terminal, { origin: ORIGIN, app: { version: 'test', lab: null } });
});

afterAll(() => terminal.close());

describe('IPC requests', () => {
  it('answer well-formed requests with data', async () => {
    const info = await dispatcher.invoke(main, 'app:info', {});
    expect(info).toMatchObject({ ok: true, value: { version: 'test', home: terminal.home } });
    const current = await dispatcher.invoke(main, 'hsm:current', {});
    expect(current.ok && (current.value as PartitionView).token.label).toBe(lab.state().tokenLabel);
    const objects = await dispatcher.invoke(main, 'keys:list', {});
    expect(objects.ok && (objects.value as unknown[]).length).toBeGreaterThan(5);
    expect((await dispatcher.invoke(main, 'audit:list', { limit: 5 })).ok).toBe(true);
  });

  it('refuse every payload that does not match the schema, naming fields but never echoing values', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...channelNames), fc.anything({ withObjectString: true, withNullPrototype: true, withBigInt: true, withDate: true, withTypedArray: true, withSparseArray: true }), async (channel, payload) => {
        const result = await dispatcher.invoke(main, channel, payload);
        expect(typeof result.ok).toBe('boolean');
        if (!result.ok) expect(['INVALID_REQUEST', 'MODULE_NOT_ALLOWED', 'TOKEN_NOT_SELECTED', 'PIN_INCORRECT', 'PIN_INVALID', 'OBJECT_NOT_FOUND', 'MEDIA_ERROR', 'NOT_LOGGED_IN'], `${channel}: ${JSON.stringify(result.error)}`).toContain(result.error.code);
      }),
      { numRuns: 300 },
    );
    const secret = 'SECRET-PIN-8472';
    for (const payload of [{ pin: 1234, note: secret }, { pin: secret, extra: secret }, [secret], secret, null, { modulePath: { toString: secret } }]) {
      const result = await dispatcher.invoke(main, 'hsm:login', payload);
      expect(result).toMatchObject({ ok: false, error: { code: 'INVALID_REQUEST' } });
      expect(JSON.stringify(result)).not.toContain(secret);
    }
  });

  it('refuse an impossible card set before any ceremony starts, with what to correct', async () => {
    const before = terminal.audit.list(1000).length;
    for (const [request, message] of [
      [{ kind: 'adopt', holders: ['Ann', ' '], threshold: 1 }, /Every holder needs a name/],
      [{ kind: 'adopt', holders: ['Ann', 'ann'], threshold: 1 }, /only once/],
      [{ kind: 'adopt', holders: ['Ann', 'Bob'], threshold: 3 }, /between 1 and 2/],
    ] as const) {
      expect(await dispatcher.invoke(main, 'ceremony:start', request)).toMatchObject({ ok: false, error: { code: 'INVALID_REQUEST', message: expect.stringMatching(message) } });
    }
    expect(await dispatcher.invoke(main, 'ceremony:current', {})).toEqual({ ok: true, value: null });
    expect(terminal.audit.list(1000)).toHaveLength(before);
  });

  it('refuse a ceremony that needs another login, before any card or PIN is asked for', async () => {
    expect(await dispatcher.invoke(main, 'hsm:login', { pin: LAB_USER_PIN })).toMatchObject({ ok: true });
    try {
      for (const request of [{ kind: 'adopt', holders: ['Ann', 'Bob'], threshold: 2 }, { kind: 'so-login' }]) {
        expect(await dispatcher.invoke(main, 'ceremony:start', request)).toMatchObject({ ok: false, error: { code: 'INVALID_REQUEST', message: expect.stringMatching(/^The crypto officer is logged in\. Log out first/) } });
      }
    } finally {
      expect(await dispatcher.invoke(main, 'hsm:logout', {})).toMatchObject({ ok: true });
    }
    const backup = await dispatcher.invoke(main, 'ceremony:start', { kind: 'backup', media: lab.state().mediaDir });
    expect(backup).toMatchObject({ ok: false, error: { code: 'NOT_LOGGED_IN', message: expect.stringMatching(/^Log in to the partition as crypto officer first/) } });
    expect(await dispatcher.invoke(main, 'ceremony:current', {})).toEqual({ ok: true, value: null });
  });

  it('refuse unknown channels, including names inherited by every object', async () => {
    for (const channel of ['hsm:format', '__proto__', 'constructor', 'toString', 'hasOwnProperty', 42, null, undefined, { a: 1 }]) {
      expect(await dispatcher.invoke(main, channel, {})).toMatchObject({ ok: false, error: { code: 'UNKNOWN_CHANNEL' } });
    }
  });

  it('refuse any frame but our window\'s main frame, before any handler runs', async () => {
    const before = terminal.audit.list(1000).length;
    for (const sender of [
      { url: `${ORIGIN}/index.html`, isMainFrame: false },
      { url: 'https://evil.example/', isMainFrame: true },
      { url: 'file:///etc/passwd', isMainFrame: true },
    ]) {
      expect(await dispatcher.invoke(sender, 'hsm:login', { pin: LAB_USER_PIN })).toMatchObject({ ok: false, error: { code: 'FORBIDDEN_SENDER' } });
    }
    expect(terminal.audit.list(1000)).toHaveLength(before);
    expect(terminal.partition.view().token.loggedIn).toBe(false);
  });

  it('carry a wrong PIN back as an officer-facing error, and push partition changes as events', async () => {
    const events: unknown[] = [];
    const unsubscribe = dispatcher.subscribe((event, payload) => events.push([event, payload]));
    const wrong = await dispatcher.invoke(main, 'hsm:login', { pin: 'wrong-pin-5521' });
    expect(wrong).toMatchObject({ ok: false, error: { code: 'PIN_INCORRECT', message: expect.stringMatching(/^The PIN is wrong/) } });
    expect(JSON.stringify(wrong)).not.toContain('wrong-pin-5521');
    const right = await dispatcher.invoke(main, 'hsm:login', { pin: LAB_USER_PIN });
    expect(right.ok && (right.value as PartitionView).token.loggedIn).toBe(true);
    expect(events).toContainEqual(['hsm:partitionChanged', expect.objectContaining({ token: expect.objectContaining({ loggedIn: true }) })]);
    await dispatcher.invoke(main, 'hsm:logout', {});
    unsubscribe();
    const count = events.length;
    await dispatcher.invoke(main, 'hsm:select', { modulePath: lab.state().modulePath, serial: terminal.partition.view().token.serial });
    expect(events).toHaveLength(count);
  });
});
