import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cutLabel, escapeLabel, fromHex, labelIsEscaped, labelText, toHex } from '../../src/shared/label-text';

const bytes = (text: string): Buffer => Buffer.from(text, 'latin1');

/** The escaped form back to bytes: `\\` and `\xHH` are the only escapes. */
function unescape(shown: string): Buffer {
  const parts: Buffer[] = [];
  for (const m of shown.matchAll(/\\x([0-9a-f]{2})|\\\\|([\s\S])/gu)) {
    if (m[1] !== undefined) parts.push(Buffer.from([parseInt(m[1], 16)]));
    else if (m[2] !== undefined) parts.push(Buffer.from(m[2], 'utf8'));
    else parts.push(Buffer.from('\\'));
  }
  return Buffer.concat(parts);
}

describe('labels shown from their bytes', () => {
  it('shows clean UTF-8 text as it is', () => {
    for (const text of ['plain', '   padded   ', 'Schlüssel für Überweisungen', 'a\\b', '', '鍵 🔑']) {
      expect(labelText(Buffer.from(text, 'utf8'))).toBe(text);
      expect(labelIsEscaped(Buffer.from(text, 'utf8'))).toBe(false);
    }
  });

  it('escapes invalid UTF-8, NUL, escape sequences, newlines, C1 and bidi controls byte by byte, and then backslashes too', () => {
    expect(labelText(bytes('bad-utf8-\xff\xfe'))).toBe('bad-utf8-\\xff\\xfe');
    expect(labelText(bytes('cut-utf8-\xc3'))).toBe('cut-utf8-\\xc3');
    expect(labelText(bytes('nul\0inside'))).toBe('nul\\x00inside');
    expect(labelText(bytes('\x1b[31mRED\x1b[0m\x1b[2K'))).toBe('\\x1b[31mRED\\x1b[0m\\x1b[2K');
    expect(labelText(bytes('evil\nsecret-key'))).toBe('evil\\x0asecret-key');
    expect(labelText(bytes('del\x7f'))).toBe('del\\x7f');
    expect(labelText(Buffer.from('c1\u009b', 'utf8'))).toBe('c1\\xc2\\x9b');
    expect(labelText(Buffer.from('abc\u202edef', 'utf8'))).toBe('abc\\xe2\\x80\\xaedef');
    expect(labelText(bytes('a\\b\xff'))).toBe('a\\\\b\\xff');
    expect(labelText(Buffer.concat([Buffer.from('ü', 'utf8'), Buffer.from([0xff])]))).toBe('ü\\xff');
    expect(labelText(Buffer.from([0xed, 0xa0, 0x80]))).toBe('\\xed\\xa0\\x80'); // a UTF-16 surrogate is not UTF-8
    expect(labelText(Buffer.from([0xc0, 0xaf]))).toBe('\\xc0\\xaf'); // overlong "/"
  });

  it('keeps labels that differ only in invalid bytes distinct', () => {
    expect(labelText(bytes('twin-\xff'))).not.toBe(labelText(bytes('twin-\xfe')));
  });

  it('never lets a control character through, and an escaped form maps back to exactly its bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), (raw) => {
        const shown = labelText(raw);
        expect(shown).not.toMatch(/[\p{Cc}\p{Cf}]/u);
        if (labelIsEscaped(raw)) expect(unescape(shown)).toEqual(Buffer.from(raw));
        else expect(Buffer.from(shown, 'utf8')).toEqual(Buffer.from(raw));
        expect(escapeLabel(shown)).toBe(shown); // idempotent
      }),
    );
  });

  it('escapes text that arrived decoded by the same rule', () => {
    expect(escapeLabel('Partition A')).toBe('Partition A');
    expect(escapeLabel('bad\u001b[2Kname')).toBe('bad\\x1b[2Kname');
  });

  it('cuts long labels for one text line with a marker, never inside an escape', () => {
    expect(cutLabel('L'.repeat(1000), 64, 1000)).toBe(`${'L'.repeat(64)}…(1000 bytes)`);
    expect(cutLabel('short', 64, 5)).toBe('short');
    expect(cutLabel(`${'a'.repeat(62)}\\xff`, 64, 63)).toBe(`${'a'.repeat(62)}…(63 bytes)`);
  });

  it('converts hex both ways and refuses what is not hex bytes', () => {
    expect(toHex(fromHex('00ff7F'))).toBe('00ff7f');
    expect(() => fromHex('abc')).toThrow(RangeError);
    expect(() => fromHex('zz')).toThrow(RangeError);
  });
});
