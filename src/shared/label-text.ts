// How the terminal shows a label that a token holds as bytes (CKA_LABEL, the CK_TOKEN_INFO label):
// one rule, used by core when it builds summaries and by the CLI and the GUI when they print them.
// Plain TypeScript over Uint8Array (a Buffer is one), so the renderer can use it too.

/**
 * The display form of a label's bytes. The rule, exactly:
 * - If the bytes are valid UTF-8 (RFC 3629) and the text holds no control character (C0 U+0000–U+001F,
 *   DEL U+007F, C1 U+0080–U+009F) and no format character (Unicode category Cf, e.g. the bidi
 *   overrides U+202A–U+202E), the label is that text, unchanged.
 * - Otherwise the label is escaped: each byte of an invalid UTF-8 sequence and each byte of a control
 *   or format character is written `\xHH` (two lowercase hex digits), a backslash is written `\\`,
 *   and every other character is kept. E.g. `bad-utf8-\xff\xfe`, `nul\x00inside`, `\x1b[31mRED`,
 *   `evil\x0a…`.
 * Within escaped forms the mapping back to bytes is unambiguous (`\\` and `\xHH` are the only
 * escapes). A clean label that happens to contain the characters `\x41` reads the same as an escaped
 * one: where that matters, the raw bytes (`labelHex` in summaries) are the authority. The rule is
 * idempotent: an escaped form is clean text, so escaping it again changes nothing.
 */
export function labelText(bytes: Uint8Array): string {
  const text = cleanText(bytes);
  return text ?? escapeBytes(bytes);
}

/** True when `labelText(bytes)` is an escaped form rather than the bytes' own text. */
export function labelIsEscaped(bytes: Uint8Array): boolean {
  return cleanText(bytes) === null;
}

/**
 * `labelText` for text that arrived as a string (decoded already, e.g. by the PKCS#11 binding or read
 * from a backup manifest): the same rule over its UTF-8 encoding, so control characters never reach a
 * terminal or the screen raw. Clean text, and text escaped already, come back unchanged.
 */
export function escapeLabel(text: string): string {
  return labelText(new TextEncoder().encode(text));
}

/**
 * A display form cut to at most `max` characters for one line of text output, with the marker
 * `…(N bytes)` naming the full length in bytes of the display form's source; never cuts inside an
 * escape (`\xHH`, `\\`) or a surrogate pair.
 * @param shown a display form from `labelText`/`escapeLabel`
 * @param byteLength the label's length in bytes, for the marker
 */
export function cutLabel(shown: string, max: number, byteLength: number): string {
  if ([...shown].length <= max) return shown;
  let out = '';
  let length = 0;
  for (const unit of shown.matchAll(/\\x[0-9a-f]{2}|\\\\|[\s\S]/gu)) {
    const piece = unit[0];
    const width = piece.startsWith('\\') ? piece.length : 1;
    if (length + width > max) break;
    out += piece;
    length += width;
  }
  return `${out}…(${byteLength} bytes)`;
}

/** Lowercase hex of bytes, e.g. "ff00". */
export function toHex(bytes: Uint8Array): string {
  let out = '';
  for (const byte of bytes) out += byte.toString(16).padStart(2, '0');
  return out;
}

/**
 * Bytes from hex (either case, even length).
 * @throws RangeError when `hex` is not whole bytes of hex digits
 */
export function fromHex(hex: string): Uint8Array {
  if (!/^(?:[0-9a-fA-F]{2})*$/.test(hex)) throw new RangeError('not hex bytes');
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

const UNSAFE = /[\p{Cc}\p{Cf}]/u;

/** The bytes' text when they are valid UTF-8 without control or format characters; else null. */
function cleanText(bytes: Uint8Array): string | null {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return null;
  }
  return UNSAFE.test(text) ? null : text;
}

function escapeBytes(bytes: Uint8Array): string {
  let out = '';
  let i = 0;
  while (i < bytes.length) {
    const length = sequenceLength(bytes, i);
    if (length === 0) {
      out += hexEscape(bytes[i] as number);
      i++;
      continue;
    }
    const char = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes.subarray(i, i + length));
    if (char === '\\') out += '\\\\';
    else if (UNSAFE.test(char)) out += Array.from(bytes.subarray(i, i + length), hexEscape).join('');
    else out += char;
    i += length;
  }
  return out;
}

function hexEscape(byte: number): string {
  return `\\x${byte.toString(16).padStart(2, '0')}`;
}

/** Length of the well-formed UTF-8 sequence at `i` (RFC 3629 §4: no overlongs or surrogates), or 0. */
function sequenceLength(b: Uint8Array, i: number): number {
  const b0 = b[i] as number;
  if (b0 < 0x80) return 1;
  const cont = (k: number, lo = 0x80, hi = 0xbf): boolean => i + k < b.length && (b[i + k] as number) >= lo && (b[i + k] as number) <= hi;
  if (b0 >= 0xc2 && b0 <= 0xdf) return cont(1) ? 2 : 0;
  if (b0 === 0xe0) return cont(1, 0xa0) && cont(2) ? 3 : 0;
  if ((b0 >= 0xe1 && b0 <= 0xec) || b0 === 0xee || b0 === 0xef) return cont(1) && cont(2) ? 3 : 0;
  if (b0 === 0xed) return cont(1, 0x80, 0x9f) && cont(2) ? 3 : 0;
  if (b0 === 0xf0) return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0;
  if (b0 >= 0xf1 && b0 <= 0xf3) return cont(1) && cont(2) && cont(3) ? 4 : 0;
  if (b0 === 0xf4) return cont(1, 0x80, 0x8f) && cont(2) && cont(3) ? 4 : 0;
  return 0;
}
