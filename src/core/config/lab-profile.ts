// The training lab, when there is one (a development checkout after `npm run lab -- up`, or
// TESSERA_LAB_DIR): the app and the CLI default to its module, partition, keychain and home.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { packageRoot } from './paths';

const labFile = z.object({
  modulePath: z.string(),
  softhsmConf: z.string(),
  tokenLabel: z.string(),
  home: z.string(),
  mediaDir: z.string(),
  dbusAddress: z.string().nullable(),
});

export type LabProfile = z.infer<typeof labFile> & { dir: string };

export function labDir(env: NodeJS.ProcessEnv = process.env): string | null {
  if (env.TESSERA_LAB_DIR) return env.TESSERA_LAB_DIR;
  const root = packageRoot();
  return root ? join(root, '.lab') : null;
}

export function findLabProfile(env: NodeJS.ProcessEnv = process.env): LabProfile | null {
  const dir = labDir(env);
  if (!dir) return null;
  try {
    const parsed = labFile.safeParse(JSON.parse(readFileSync(join(dir, 'lab.json'), 'utf8')));
    return parsed.success ? { ...parsed.data, dir } : null;
  } catch {
    return null;
  }
}

/** Folders offered as backup media besides removable drives: TESSERA_MEDIA (separated by ':') or the training lab's USB-stick stand-in. */
export function mediaStandIns(env: NodeJS.ProcessEnv = process.env): string[] {
  if (env.TESSERA_MEDIA) return env.TESSERA_MEDIA.split(':').filter(Boolean);
  const lab = findLabProfile(env);
  return lab ? [lab.mediaDir] : [];
}

/** What the user named on the command line, which the environment does not show. */
export interface ExplicitChoice {
  /** The PKCS#11 module given on the command line (--module), if any. */
  modulePath?: string | undefined;
}

function given(value: string | undefined): value is string {
  return value !== undefined && value !== '';
}

function same(a: string, b: string): boolean {
  return resolve(a) === resolve(b);
}

/**
 * Whether the terminal works on the training lab, so that the lab's environment may fill in what
 * is unset. It does only when nothing the user set points elsewhere: no module on the command
 * line (the lab's module is SoftHSM2's own library, so naming it says nothing about which tokens
 * are meant: SoftHSM2 then reads the user's own SOFTHSM2_CONF or its default), no
 * TESSERA_PKCS11_MODULE, TESSERA_HOME or SOFTHSM2_CONF other than the lab's.
 * @returns null when it does, else which setting of the user's keeps the lab out (in words)
 */
export function notOnLab(profile: LabProfile, env: NodeJS.ProcessEnv = process.env, explicit: ExplicitChoice = {}): string | null {
  if (given(explicit.modulePath)) return `the module ${explicit.modulePath} is given on the command line`;
  if (given(env.TESSERA_PKCS11_MODULE) && !same(env.TESSERA_PKCS11_MODULE, profile.modulePath)) return `TESSERA_PKCS11_MODULE is ${env.TESSERA_PKCS11_MODULE}`;
  if (given(env.TESSERA_HOME) && !same(env.TESSERA_HOME, profile.home)) return `TESSERA_HOME is ${env.TESSERA_HOME}`;
  if (given(env.SOFTHSM2_CONF) && !same(env.SOFTHSM2_CONF, profile.softhsmConf)) return `SOFTHSM2_CONF is ${env.SOFTHSM2_CONF}`;
  return null;
}

/**
 * Points this process at the lab's SoftHSM2 tokens, keychain (D-Bus session) and home where they
 * are unset, but only when the terminal works on the lab (see notOnLab): an explicit module, home
 * or config is never mixed with the lab's.
 * @returns whether the lab's environment applies
 */
export function applyLabEnvironment(profile: LabProfile, env: NodeJS.ProcessEnv = process.env, explicit: ExplicitChoice = {}): boolean {
  if (notOnLab(profile, env, explicit) !== null) return false;
  if (!given(env.SOFTHSM2_CONF)) env.SOFTHSM2_CONF = profile.softhsmConf;
  if (!given(env.TESSERA_HOME)) env.TESSERA_HOME = profile.home;
  if (profile.dbusAddress && !given(env.DBUS_SESSION_BUS_ADDRESS)) env.DBUS_SESSION_BUS_ADDRESS = profile.dbusAddress;
  return true;
}

/**
 * The lab's module and partition label as defaults, when its token store is the one in use: no
 * module on the command line, the module (TESSERA_PKCS11_MODULE, else the lab's) and the
 * SOFTHSM2_CONF in effect are the lab's. Call it after applyLabEnvironment.
 */
export function labPartitionDefaults(profile: LabProfile | null, env: NodeJS.ProcessEnv = process.env, explicit: ExplicitChoice = {}): { modulePath: string; tokenLabel: string } | null {
  if (!profile || given(explicit.modulePath)) return null;
  if (given(env.TESSERA_PKCS11_MODULE) && !same(env.TESSERA_PKCS11_MODULE, profile.modulePath)) return null;
  if (!given(env.SOFTHSM2_CONF) || !same(env.SOFTHSM2_CONF, profile.softhsmConf)) return null;
  return { modulePath: profile.modulePath, tokenLabel: profile.tokenLabel };
}
