// A fault the lab cannot produce for real, injected where SoftHSM2 keeps it: SoftHSM2 2.6.1 never
// sets CKF_USER_PIN_FINAL_TRY (a wrong user PIN only sets CKF_USER_PIN_COUNT_LOW, however many are
// typed: checked with six in a row; it never locks), while real HSMs do after a few wrong PINs.
// SoftHSM2 keeps a token's flags in its token.object file (the vendor attribute CKA_OS_TOKENFLAGS,
// 0x8000534B, an unsigned long) and reports them as they are through C_GetTokenInfo. Setting the
// bit there makes the real module report the final try to every client (pkcs11-tool shows "final
// user PIN try"); no wrapper stands between the terminal and SoftHSM2.
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const CKA_OS_TOKENFLAGS = 0x8000534bn;
const CKA_OS_TOKENSERIAL = 0x8000534an;
const ULONG = 2n;
export const CKF_USER_PIN_FINAL_TRY = 0x20000n;

function tokenDir(softhsmConf: string): string {
  const line = readFileSync(softhsmConf, 'utf8').split('\n').find((l) => /^\s*directories\.tokendir\s*=/.test(l));
  if (!line) throw new Error(`${softhsmConf} names no directories.tokendir`);
  return line.replace(/^\s*directories\.tokendir\s*=\s*/, '').trim();
}

function u64(value: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(value);
  return b;
}

/** The token.object file of the token with this serial, found by its stored serial attribute. */
function tokenObject(softhsmConf: string, serial: string): string {
  const dir = tokenDir(softhsmConf);
  for (const entry of readdirSync(dir)) {
    const file = join(dir, entry, 'token.object');
    let bytes: Buffer;
    try {
      bytes = readFileSync(file);
    } catch {
      continue;
    }
    const at = bytes.indexOf(u64(CKA_OS_TOKENSERIAL));
    if (at >= 0 && bytes.subarray(at + 24, at + 24 + serial.length).toString('latin1') === serial) return file;
  }
  throw new Error(`no SoftHSM2 token with serial ${serial} under ${dir}`);
}

/**
 * Sets CKF_USER_PIN_FINAL_TRY in the stored flags of the SoftHSM2 token with this serial, and
 * bumps the file's generation counter (its first 8 bytes) so a process that has the token loaded
 * reads it again. Run it while no one is logged in to the token. `on` false clears the flag again
 * (SoftHSM2 does not clear it on a right PIN, having never set it).
 */
export function markUserPinFinalTry(softhsmConf: string, serial: string, on = true): void {
  const file = tokenObject(softhsmConf, serial);
  const bytes = readFileSync(file);
  const at = bytes.indexOf(Buffer.concat([u64(CKA_OS_TOKENFLAGS), u64(ULONG)]));
  if (at < 0) throw new Error(`${file} holds no CKA_OS_TOKENFLAGS`);
  const flags = bytes.readBigUInt64BE(at + 16);
  bytes.writeBigUInt64BE(on ? flags | CKF_USER_PIN_FINAL_TRY : flags & ~CKF_USER_PIN_FINAL_TRY, at + 16);
  bytes.writeBigUInt64BE(bytes.readBigUInt64BE(0) + 1n, 0);
  writeFileSync(file, bytes);
}
