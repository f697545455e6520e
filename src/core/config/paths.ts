// Where the terminal keeps its data. TESSERA_HOME wins; otherwise the platform's data folder.
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export function terminalHome(env: NodeJS.ProcessEnv = process.env, platformDefault?: string): string {
  if (env.TESSERA_HOME) return env.TESSERA_HOME;
  if (platformDefault) return platformDefault;
  return join(env.XDG_DATA_HOME || join(homedir(), '.local', 'share'), 'tessera');
}

export function databaseFile(home: string): string {
  return join(home, 'tessera.db');
}

/** The folder holding Tessera's package.json, found from this file (source or built). */
export function packageRoot(from: string = fileURLToPath(import.meta.url)): string | null {
  for (let dir = dirname(from); dir !== dirname(dir); dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        if ((JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'tessera') return dir;
      } catch {
        // not ours; keep looking
      }
    }
  }
  return null;
}
