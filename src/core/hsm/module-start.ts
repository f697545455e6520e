// When a PKCS#11 module will not start (C_Initialize fails), the officer is told what the module
// was given and what to check, rather than "the HSM reported an error": the HSM was never reached.
// Modules read their configuration from their own files and environment; for SoftHSM2 that is
// SOFTHSM2_CONF (else ~/.config/softhsm2/softhsm2.conf, else /etc/softhsm/softhsm2.conf) and the
// token directory it names (directories.tokendir), which are checked and named here.
import { accessSync, constants, readFileSync, realpathSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, join } from 'node:path';
import { TesseraError } from '../errors';
import { toHsmError } from './hsm-errors';
import { asPkcs11Failure } from './pkcs11-adapter';

/** SoftHSM2's built-in configuration file (Debian's softhsm2 2.6). */
export const SOFTHSM2_DEFAULT_CONF = '/etc/softhsm/softhsm2.conf';

function isSoftHsm(path: string): boolean {
  let real = path;
  try {
    real = realpathSync(path);
  } catch {
    // the name given is all there is to go by
  }
  return /softhsm/i.test(basename(path)) || /softhsm/i.test(basename(real));
}

function readable(path: string): boolean {
  try {
    accessSync(path, constants.R_OK);
    return true;
  } catch {
    return false;
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function exists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Which configuration file SoftHSM2 reads, and how it came to (its own order of look-up). */
function softHsmConfig(env: NodeJS.ProcessEnv): { file: string; how: string } {
  if (env.SOFTHSM2_CONF) return { file: env.SOFTHSM2_CONF, how: `SOFTHSM2_CONF=${env.SOFTHSM2_CONF}` };
  const user = join(env.HOME || homedir(), '.config', 'softhsm2', 'softhsm2.conf');
  if (exists(user)) return { file: user, how: `SOFTHSM2_CONF unset, so SoftHSM2's user configuration ${user}` };
  return { file: SOFTHSM2_DEFAULT_CONF, how: `SOFTHSM2_CONF unset, so SoftHSM2's default configuration ${SOFTHSM2_DEFAULT_CONF}` };
}

/** directories.tokendir of a SoftHSM2 configuration file, or null when it names none. */
export function softHsmTokenDir(text: string): string | null {
  for (const line of text.split('\n')) {
    const match = /^\s*directories\.tokendir\s*=\s*(.*?)\s*$/.exec(line);
    if (match?.[1]) return match[1];
  }
  return null;
}

/** What SoftHSM2 was given, and what to check, in words. */
function softHsmAdvice(env: NodeJS.ProcessEnv): string {
  const { file, how } = softHsmConfig(env);
  const given = `It was given ${how}`;
  if (!exists(file)) return `${given}, which does not exist. Check that SOFTHSM2_CONF names the SoftHSM2 configuration file of the tokens you mean.`;
  if (!readable(file)) return `${given}, which this user cannot read. Check the file's permissions, or point SOFTHSM2_CONF at a configuration this user may read.`;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return `${given}, which could not be read. Check the file.`;
  }
  const dir = softHsmTokenDir(text);
  if (!dir) return `${given} (readable), which names no token directory. Check that it has a line "directories.tokendir = <folder>".`;
  if (!exists(dir)) return `${given} (readable), whose token directory (directories.tokendir) ${dir} does not exist. Check the path in the configuration, or create the folder.`;
  if (!isDirectory(dir)) return `${given} (readable), whose token directory (directories.tokendir) ${dir} is not a folder. Check the path in the configuration.`;
  try {
    accessSync(dir, constants.R_OK | constants.W_OK | constants.X_OK);
  } catch {
    return `${given} (readable), whose token directory (directories.tokendir) ${dir} this user cannot read and write. Check the folder's permissions.`;
  }
  return `${given} (readable), whose token directory (directories.tokendir) ${dir} exists. Check the configuration's other settings (objectstore.backend) and the token files in that folder.`;
}

/**
 * The error for a module that could not be started: for a C_Initialize failure, HSM_ERROR saying
 * "The PKCS#11 module failed to start (C_Initialize: CKR_…)", the module path, and for SoftHSM2
 * the configuration file it read (whether it exists and is readable) and its token directory
 * (whether it exists), with what to check. Any other error is converted as toHsmError does.
 * Names paths only, never a secret.
 */
export function moduleStartError(path: string, error: unknown, env: NodeJS.ProcessEnv = process.env): unknown {
  const failure = error instanceof TesseraError ? null : asPkcs11Failure(error, 'C_Initialize');
  if (!failure || failure.fn !== 'C_Initialize') return toHsmError(error, 'C_Initialize');
  const advice = isSoftHsm(path)
    ? softHsmAdvice(env)
    : 'Check the module\'s own configuration (the file and environment variables its vendor documents) and that the HSM is connected and reachable from this workstation.';
  return new TesseraError('HSM_ERROR', `The PKCS#11 module failed to start (C_Initialize: ${failure.rvName}). Module ${path}. ${advice}`, failure.message, { cause: failure });
}

/** Runs a call that initialises the module at `path`, turning a failure into moduleStartError's. */
export function startingModule<T>(path: string, call: () => T): T {
  try {
    return call();
  } catch (error) {
    throw moduleStartError(path, error);
  }
}
