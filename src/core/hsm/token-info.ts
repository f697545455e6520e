// CK_TOKEN_INFO / CK_MECHANISM_INFO decoded into plain words for officers.
import type { MechanismView, PinStatus, TokenSummary } from '../../shared/types';
import { escapeLabel, toHex } from '../../shared/label-text';
import { MECHANISM_FLAGS, TOKEN_FLAG } from './constants';

/** PKCS#11 strings are blank-padded fixed-width fields. */
export function unpad(text: string): string {
  return text.replace(/[\s\0]+$/u, '');
}

export function flagWords(flags: number, table: readonly (readonly [number, string])[]): string[] {
  // Token flags exceed 2^31: use arithmetic, not 32-bit bitwise operators.
  return table.filter(([bit]) => Math.floor(flags / bit) % 2 === 1).map(([, words]) => words);
}

export function hasFlag(flags: number, bit: number): boolean {
  return Math.floor(flags / bit) % 2 === 1;
}

export function pinStatus(flags: number, who: 'user' | 'so'): PinStatus {
  const f =
    who === 'user'
      ? { low: TOKEN_FLAG.USER_PIN_COUNT_LOW, final: TOKEN_FLAG.USER_PIN_FINAL_TRY, locked: TOKEN_FLAG.USER_PIN_LOCKED, change: TOKEN_FLAG.USER_PIN_TO_BE_CHANGED }
      : { low: TOKEN_FLAG.SO_PIN_COUNT_LOW, final: TOKEN_FLAG.SO_PIN_FINAL_TRY, locked: TOKEN_FLAG.SO_PIN_LOCKED, change: TOKEN_FLAG.SO_PIN_TO_BE_CHANGED };
  if (who === 'user' && !hasFlag(flags, TOKEN_FLAG.USER_PIN_INITIALIZED)) {
    return { condition: 'not-initialised', words: 'Not set yet: a security officer must set it.' };
  }
  if (hasFlag(flags, f.locked)) return { condition: 'locked', words: 'Locked after too many wrong PINs.' };
  if (hasFlag(flags, f.final)) return { condition: 'final-try', words: 'One try left: the next wrong PIN locks it.' };
  if (hasFlag(flags, f.change)) return { condition: 'to-be-changed', words: 'Must be changed before it can be used.' };
  if (hasFlag(flags, f.low)) return { condition: 'count-low', words: 'A wrong PIN was entered since the last login.' };
  return { condition: 'ok', words: 'OK' };
}

const UNAVAILABLE_32 = 0xffffffff;

/** CK_UNAVAILABLE_INFORMATION arrives as 2^64-1 (bigint) or 2^32-1 (truncated number). */
export function available(value: number | bigint | undefined): number | null {
  if (value === undefined) return null;
  if (typeof value === 'bigint') return value >= 0xffffffffn ? null : Number(value);
  return value >= UNAVAILABLE_32 ? null : value;
}

export function version(v: { major: number; minor: number }): string {
  return `${v.major}.${v.minor}`;
}

/**
 * The CK_TOKEN_INFO fields officers see. pkcs11js decodes the 32-byte label as UTF-8 (invalid bytes
 * become U+FFFD), so the label is escaped from that text and `labelHex` is given only when the text
 * is an exact image of the bytes (no U+FFFD).
 */
export function tokenSummary(info: { label: string; serialNumber: string; manufacturerID: string; model: string }): TokenSummary {
  const label = unpad(info.label);
  return {
    label: escapeLabel(label),
    labelHex: label.includes('\uFFFD') ? null : toHex(Buffer.from(label, 'utf8')),
    serial: unpad(info.serialNumber),
    manufacturer: unpad(info.manufacturerID),
    model: unpad(info.model),
  };
}

/** The token's clock, "YYYYMMDDhhmmss00", as ISO text. */
export function tokenClock(utcTime: string | undefined, flags: number): string | null {
  if (!hasFlag(flags, 0x40) || !utcTime || !/^\d{14}/.test(utcTime)) return null;
  const t = utcTime;
  return `${t.slice(0, 4)}-${t.slice(4, 6)}-${t.slice(6, 8)}T${t.slice(8, 10)}:${t.slice(10, 12)}:${t.slice(12, 14)}Z`;
}

export function mechanismView(type: number, name: string, info: { minKeySize: number; maxKeySize: number; flags: number }): MechanismView {
  return { type, name, minKeySize: info.minKeySize, maxKeySize: info.maxKeySize, flags: flagWords(info.flags, MECHANISM_FLAGS) };
}
