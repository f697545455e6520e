// Where the Electron executable is, if it was downloaded; null otherwise. Reads electron's
// path.txt directly: requiring the package would start its lazy download.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export function electronBinary(root: string): string | null {
  const dir = join(root, 'node_modules', 'electron');
  try {
    const executable = join(dir, 'dist', readFileSync(join(dir, 'path.txt'), 'utf8').trim());
    return existsSync(executable) ? executable : null;
  } catch {
    return null;
  }
}
