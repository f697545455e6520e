// Reading a PIN for the CLI: from a file descriptor (--pin-fd N, for scripts) or typed at the
// terminal without echo. The PIN goes straight into a Buffer that the caller wipes.
import { closeSync, openSync, readFileSync, readSync, readlinkSync } from 'node:fs';
import { TesseraError } from '../core/errors';
import { wipe } from '../core/secrets';

const MAX_PIN = 256;

/**
 * npm exec (npx) and npm run start the CLI through `sh -c` with only stdin, stdout and stderr, so
 * a descriptor the caller opened (3<pin-file) stays with the npm process. When npm started us that
 * way and our own descriptor is not that file, read npm's: `npx tessera … --pin-fd 3` then reads
 * what the caller meant. Linux only (/proc); anywhere else the descriptor is read as it is.
 */
function npmLauncher(): number | null {
  if (!process.env.npm_command) return null;
  let pid = process.ppid;
  for (let depth = 0; depth < 4 && pid > 1; depth++) {
    try {
      const name = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
      const command = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (command.startsWith('npm ') || /\/np[mx]-cli\.js\0/.test(command)) return pid;
      if (!['sh', 'bash', 'dash'].includes(name)) return null;
      pid = Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ')[1]);
    } catch {
      return null;
    }
  }
  return null;
}

function target(path: string): string | null {
  try {
    return readlinkSync(path);
  } catch {
    return null;
  }
}

/** PINs, one per line, from a file descriptor the caller opened (--pins-from FD). */
export interface SecretLines {
  next(): Buffer;
  close(): void;
}

export function secretLines(fd: number): SecretLines {
  const launcher = fd > 2 ? npmLauncher() : null;
  const theirs = launcher === null ? null : target(`/proc/${launcher}/fd/${fd}`);
  if (launcher === null || theirs === null || theirs === target(`/proc/self/fd/${fd}`)) {
    return { next: () => readLine(fd), close: () => undefined };
  }
  let own: number;
  try {
    own = openSync(`/proc/${launcher}/fd/${fd}`, 'r');
  } catch (error) {
    throw new TesseraError('INVALID_REQUEST', `Cannot read the PIN from file descriptor ${fd}. Open it for the command, e.g. ${fd}<pin-file.`, (error as Error).message);
  }
  return { next: () => readLine(own, fd), close: () => closeSync(own) };
}

/** Reads one line (up to newline or end of input) from an open file descriptor. */
export function readSecretFromFd(fd: number): Buffer {
  const lines = secretLines(fd);
  try {
    return lines.next();
  } finally {
    lines.close();
  }
}

function readLine(fd: number, shownFd = fd): Buffer {
  const buffer = Buffer.alloc(MAX_PIN + 1);
  let length = 0;
  try {
    for (;;) {
      const n = readSync(fd, buffer, length, 1, null);
      if (n === 0 || buffer[length] === 0x0a) break;
      length += n;
      if (length > MAX_PIN) throw new TesseraError('PIN_INVALID', 'The PIN given on the file descriptor is too long.');
    }
  } catch (error) {
    wipe(buffer);
    if (error instanceof TesseraError) throw error;
    throw new TesseraError('INVALID_REQUEST', `Cannot read the PIN from file descriptor ${shownFd}. Open it for the command, e.g. ${shownFd}<pin-file.`, (error as Error).message);
  }
  if (length > 0 && buffer[length - 1] === 0x0d) length--;
  const pin = Buffer.from(buffer.subarray(0, length));
  wipe(buffer);
  if (pin.length === 0) throw new TesseraError('PIN_INVALID', `No PIN was given on file descriptor ${shownFd}.`);
  return pin;
}

/** Prompts on the terminal and reads a line without echoing it; without a terminal, says to give the PIN with `option`. */
export function promptSecret(prompt: string, option = '--pin-fd N'): Promise<Buffer> {
  const input = process.stdin;
  if (!input.isTTY) {
    return Promise.reject(new TesseraError('INVALID_REQUEST', `No terminal to type the PIN into. Give it with ${option}.`));
  }
  process.stderr.write(prompt);
  const typed = Buffer.alloc(MAX_PIN);
  let length = 0;
  return new Promise((resolve, reject) => {
    const finish = (error: TesseraError | null): void => {
      input.setRawMode(false);
      input.pause();
      input.removeListener('data', onData);
      process.stderr.write('\n');
      if (error) {
        wipe(typed);
        reject(error);
        return;
      }
      const pin = Buffer.from(typed.subarray(0, length));
      wipe(typed);
      resolve(pin);
    };
    const onData = (chunk: Buffer): void => {
      for (const byte of chunk) {
        if (byte === 0x0d || byte === 0x0a) return finish(length > 0 ? null : new TesseraError('PIN_INVALID', 'No PIN was typed.'));
        if (byte === 0x03) return finish(new PromptCancelled());
        if (byte === 0x7f || byte === 0x08) length = Math.max(0, length - 1);
        else if (length < MAX_PIN) typed[length++] = byte;
      }
      wipe(chunk);
    };
    input.setRawMode(true);
    input.resume();
    input.on('data', onData);
  });
}

/** Ctrl-C at a PIN prompt: the officer cancels. */
export class PromptCancelled extends TesseraError {
  constructor() {
    super('INVALID_REQUEST', 'Cancelled.');
    this.name = 'PromptCancelled';
  }
}
