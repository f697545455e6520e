// The training lab, when there is one (a development checkout after `npm run lab -- up`, or
// TESSERA_LAB_DIR): the app and the CLI default to its module, partition, keychain and home.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
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

/** Points this process at the lab's SoftHSM2 tokens, keychain and home, where not set already. */
export function applyLabEnvironment(profile: LabProfile, env: NodeJS.ProcessEnv = process.env): void {
  env.SOFTHSM2_CONF ??= profile.softhsmConf;
  env.TESSERA_HOME ??= profile.home;
  if (profile.dbusAddress) env.DBUS_SESSION_BUS_ADDRESS ??= profile.dbusAddress;
}
