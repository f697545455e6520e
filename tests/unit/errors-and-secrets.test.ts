import { closeSync, mkdtempSync, openSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readSecretFromFd } from '../../src/cli/secret-input';
import { TesseraError, toErrorData } from '../../src/core/errors';
import { toHsmError } from '../../src/core/hsm/hsm-errors';
import { Pkcs11Failure } from '../../src/core/hsm/pkcs11-adapter';
import { wipe, withSecret } from '../../src/core/secrets';

const dir = mkdtempSync(join(tmpdir(), 'tessera-secret-'));

function fdWith(content: string): number {
  const file = join(dir, `pin-${Math.random()}`);
  writeFileSync(file, content);
  return openSync(file, 'r');
}

describe('errors shown to officers', () => {
  it('keeps an unexpected error\'s message out of what is shown (it might quote a secret)', () => {
    const data = toErrorData(new Error('failed with PIN lab-user-pin-3197'));
    expect(JSON.stringify(data)).not.toContain('lab-user-pin-3197');
    expect(data.code).toBe('INTERNAL');
  });

  it('turns CKR codes into officer words with the code as detail', () => {
    const error = toHsmError(new Pkcs11Failure('C_Login', 0xa0, 'CKR_PIN_INCORRECT')) as TesseraError;
    expect(error.code).toBe('PIN_INCORRECT');
    expect(error.message).toBe('The PIN is wrong.');
    expect(error.detail).toBe('C_Login: CKR_PIN_INCORRECT (0xA0)');
    const unknown = toHsmError(new Pkcs11Failure('C_Sign', 0x150, 'CKR_MECHANISM_INVALID')) as TesseraError;
    expect(unknown.code).toBe('HSM_ERROR');
    expect(unknown.detail).toContain('CKR_MECHANISM_INVALID');
  });
});

describe('secret buffers', () => {
  it('are overwritten after use, also when the use fails', async () => {
    const a = Buffer.from('1234');
    await withSecret(a, () => undefined);
    expect([...a]).toEqual([0, 0, 0, 0]);
    const b = Buffer.from('5678');
    await expect(withSecret(b, () => Promise.reject(new Error('x')))).rejects.toThrow('x');
    expect([...b]).toEqual([0, 0, 0, 0]);
    wipe(null, undefined);
  });
});

describe('reading a PIN from a file descriptor', () => {
  it('reads up to the first newline, without it (and without a CR)', () => {
    const fd = fdWith('lab-user-pin-3197\r\nnext line\n');
    expect(readSecretFromFd(fd).toString()).toBe('lab-user-pin-3197');
    closeSync(fd);
    const bare = fdWith('1234');
    expect(readSecretFromFd(bare).toString()).toBe('1234');
    closeSync(bare);
  });

  it('refuses an empty PIN, an overlong one and a closed descriptor, with clear words', () => {
    const empty = fdWith('\n');
    expect(() => readSecretFromFd(empty)).toThrow(/No PIN was given/);
    closeSync(empty);
    const long = fdWith('x'.repeat(300));
    expect(() => readSecretFromFd(long)).toThrow(/too long/);
    closeSync(long);
    expect(() => readSecretFromFd(987)).toThrow(/Cannot read the PIN from file descriptor 987/);
  });
});
