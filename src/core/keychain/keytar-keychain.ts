// The only file that imports keytar (the Secret Service on Linux, over D-Bus). keytar stores
// strings, so secrets are kept as base64; the decoded Buffer is what the rest of core sees.
import { createRequire } from 'node:module';
import type keytarModule from 'keytar';
import { TesseraError } from '../errors';
import type { Keychain } from './keychain';

/**
 * keytar, loaded at the first use of the keychain: its addon brings libsecret, GLib and GIO with it,
 * which a command that keeps no record (e.g. `tessera status`) never needs.
 */
let loaded: typeof keytarModule | null = null;
function keytar(): typeof keytarModule {
  return (loaded ??= createRequire(import.meta.url)('keytar') as typeof keytarModule);
}

const SERVICE = 'Tessera';
const TIMEOUT_MS = 10_000;

function unavailable(error: unknown): TesseraError {
  return new TesseraError(
    'KEYCHAIN_UNAVAILABLE',
    'The keychain of this workstation cannot be reached, so the terminal cannot keep its audit log. Log in to the desktop session (or start the lab) and try again.',
    error instanceof Error ? error.message : String(error),
  );
}

/** No D-Bus session to reach the Secret Service through: say what to set (the lab's is used only on the lab). */
function noSessionBus(): TesseraError {
  return new TesseraError(
    'KEYCHAIN_UNAVAILABLE',
    'The keychain of this workstation cannot be reached, so the terminal cannot keep its audit log: DBUS_SESSION_BUS_ADDRESS is not set. Set it to the D-Bus session of the desktop whose keyring keeps this terminal\'s records (run the command in that session), and try again. The training lab\'s keyring is used only when the terminal works on the lab (no TESSERA_HOME, SOFTHSM2_CONF or --module of your own).',
    'DBUS_SESSION_BUS_ADDRESS is not set',
  );
}

async function guarded<T>(call: () => Promise<T>): Promise<T> {
  if (process.platform === 'linux' && !process.env.DBUS_SESSION_BUS_ADDRESS) throw noSessionBus();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer from the Secret Service within ${TIMEOUT_MS / 1000} s`)), TIMEOUT_MS);
  });
  try {
    return await Promise.race([call(), timeout]);
  } catch (error) {
    throw error instanceof TesseraError ? error : unavailable(error);
  } finally {
    clearTimeout(timer);
  }
}

export class KeytarKeychain implements Keychain {
  async get(account: string): Promise<Buffer | null> {
    const value = await guarded(() => keytar().getPassword(SERVICE, account));
    return value === null ? null : Buffer.from(value, 'base64');
  }

  async set(account: string, secret: Buffer): Promise<void> {
    await guarded(() => keytar().setPassword(SERVICE, account, secret.toString('base64')));
  }

  async delete(account: string): Promise<boolean> {
    return guarded(() => keytar().deletePassword(SERVICE, account));
  }
}
