import { describe, expect, it } from 'vitest';
import { channelNames, channels, createApi, eventNames } from '../../src/shared/contract';
import { readerCondition } from '../../src/core/cards/reader-monitor';
import { loginProblem } from '../../src/shared/ceremonies';

describe('the IPC contract', () => {
  it('names every channel namespace:method and gives each a request schema', () => {
    for (const name of channelNames) {
      expect(name).toMatch(/^[a-z]+:[a-zA-Z]+$/);
      expect(typeof channels[name].request.safeParse).toBe('function');
    }
  });

  it('builds window.tessera with one function per channel and one subscription per event', async () => {
    const calls: [string, unknown][] = [];
    const subscribed: string[] = [];
    const api = createApi({
      invoke: async (channel, request) => {
        calls.push([channel, request]);
        return { ok: true, value: null };
      },
      subscribe: (event) => {
        subscribed.push(event);
        return () => undefined;
      },
    });
    await api.hsm.login({ pin: '1' });
    await api.app.info();
    api.on.cardsReadersChanged(() => undefined);
    expect(calls).toEqual([['hsm:login', { pin: '1' }], ['app:info', {}]]);
    expect(subscribed).toEqual(['cards:readersChanged']);
    const functions = Object.entries(api).filter(([k]) => k !== 'on').flatMap(([, v]) => Object.keys(v as object));
    expect(functions).toHaveLength(channelNames.length);
    expect(Object.keys(api.on)).toHaveLength(eventNames.length);
  });

  it('rejects extra fields and wrong types before any handler sees them', () => {
    expect(channels['hsm:login'].request.safeParse({ pin: '1234' }).success).toBe(true);
    expect(channels['hsm:login'].request.safeParse({ pin: '1234', extra: 1 }).success).toBe(false);
    expect(channels['hsm:login'].request.safeParse({ pin: '' }).success).toBe(false);
    expect(channels['audit:list'].request.safeParse({ limit: 1e9 }).success).toBe(false);
    expect(channels['app:info'].request.safeParse(null).success).toBe(false);
  });
});

describe('reader states', () => {
  it('reads PC/SC state bits, ignoring the event counter in the high word', () => {
    expect(readerCondition(0x10022)).toBe('card-present');
    expect(readerCondition(0x20012)).toBe('empty');
    expect(readerCondition(0x122)).toBe('card-in-use');
    expect(readerCondition(0x222)).toBe('card-mute');
    expect(readerCondition(0x8)).toBe('unavailable');
  });

  it('says, from the registry, which logins a ceremony cannot start with', () => {
    const none = { cryptoOfficer: false, securityOfficer: false };
    expect(loginProblem('adopt', none)).toBeNull();
    expect(loginProblem('adopt', { ...none, cryptoOfficer: true })).toMatch(/^The crypto officer is logged in\. Log out first/);
    expect(loginProblem('so-login', { ...none, securityOfficer: true })).toMatch(/^A security officer is logged in already/);
    expect(loginProblem('backup', none)).toMatch(/^Log in to the partition as crypto officer first/);
    expect(loginProblem('backup', { ...none, cryptoOfficer: true })).toBeNull();
    expect(loginProblem('check-card', { cryptoOfficer: true, securityOfficer: true })).toBeNull();
  });
});
