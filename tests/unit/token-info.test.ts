import { describe, expect, it } from 'vitest';
import { MECHANISM_FLAGS, TOKEN_FLAG, TOKEN_FLAGS } from '../../src/core/hsm/constants';
import { available, flagWords, pinStatus, tokenClock, unpad } from '../../src/core/hsm/token-info';

describe('token information in plain words', () => {
  it('reads flags above 2^31 (32-bit bitwise operators would lose them)', () => {
    const flags = TOKEN_FLAG.TOKEN_INITIALIZED + TOKEN_FLAG.SO_PIN_LOCKED + 0x1000000;
    expect(flagWords(flags, TOKEN_FLAGS)).toEqual(['Initialised', 'SO PIN: locked', 'Error state']);
    expect(flagWords(0x800 + 0x8000, MECHANISM_FLAGS)).toEqual(['sign', 'generate']);
  });

  it('says what state each PIN is in, the most serious first', () => {
    const init = TOKEN_FLAG.USER_PIN_INITIALIZED;
    expect(pinStatus(init, 'user').condition).toBe('ok');
    expect(pinStatus(init + TOKEN_FLAG.USER_PIN_COUNT_LOW, 'user').condition).toBe('count-low');
    expect(pinStatus(init + TOKEN_FLAG.USER_PIN_COUNT_LOW + TOKEN_FLAG.USER_PIN_FINAL_TRY, 'user').condition).toBe('final-try');
    expect(pinStatus(init + TOKEN_FLAG.USER_PIN_FINAL_TRY + TOKEN_FLAG.USER_PIN_LOCKED, 'user').condition).toBe('locked');
    expect(pinStatus(init + TOKEN_FLAG.USER_PIN_TO_BE_CHANGED, 'user').condition).toBe('to-be-changed');
    expect(pinStatus(0, 'user').condition).toBe('not-initialised');
    expect(pinStatus(TOKEN_FLAG.SO_PIN_COUNT_LOW, 'so').condition).toBe('count-low');
    expect(pinStatus(TOKEN_FLAG.SO_PIN_COUNT_LOW, 'user').condition).toBe('not-initialised');
    expect(pinStatus(init + TOKEN_FLAG.SO_PIN_LOCKED, 'user').condition).toBe('ok');
    expect(pinStatus(TOKEN_FLAG.SO_PIN_LOCKED, 'so').words).toMatch(/Locked/);
  });

  it('treats CK_UNAVAILABLE_INFORMATION as unknown, whatever width it arrives in', () => {
    expect(available(18446744073709551615n)).toBeNull();
    expect(available(4294967295)).toBeNull();
    expect(available(undefined)).toBeNull();
    expect(available(0)).toBe(0);
    expect(available(1024n)).toBe(1024);
  });

  it('trims blank padding and reads the token clock only when the token has one', () => {
    expect(unpad('Tessera Lab                     ')).toBe('Tessera Lab');
    expect(tokenClock('2026112314361100', 0x40)).toBe('2026-11-23T14:36:11Z');
    expect(tokenClock('2026112314361100', 0)).toBeNull();
  });
});
