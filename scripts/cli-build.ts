// The CLI's build, out/cli/ (vite.cli.config.ts), kept in step with its sources. The integration
// tests run `bin/tessera.js` as officers do, which runs the build; a developer who runs one test
// file after editing src/ must not test yesterday's JavaScript, so the integration project's
// global setup calls `ensureCliBuild()`: it rebuilds when any source file is newer than the build
// (or the build is missing), and says so. `npm run build` builds it too.
import { execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
/** What the CLI's build is made from: its entries, everything they import, and the config. */
const inputs = ['src/cli', 'src/core', 'src/shared', 'vite.cli.config.ts', 'scripts/module-probe-build.ts', 'package.json', 'package-lock.json'];
const built = join(root, 'out', 'cli', 'main.js');

/** Newest modification time (ms since the epoch) of a file, or of any file under a folder. */
function newest(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return readdirSync(path).reduce((max, name) => Math.max(max, newest(join(path, name))), stat.mtimeMs);
}

/**
 * Whether out/cli/main.js is missing or older than any input (src/cli, src/core, src/shared, the
 * config, the package manifests).
 */
export function cliBuildIsStale(): boolean {
  let builtAt: number;
  try {
    builtAt = statSync(built).mtimeMs;
  } catch {
    return true;
  }
  return inputs.some((input) => newest(join(root, input)) > builtAt);
}

/** Builds the CLI (vite build -c vite.cli.config.ts) when `cliBuildIsStale()`; prints that it did. */
export function ensureCliBuild(): void {
  if (!cliBuildIsStale()) return;
  process.stderr.write('The tessera CLI build (out/cli) is missing or older than src/: building it.\n');
  execFileSync(process.execPath, [join(root, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--logLevel', 'warn', '-c', join(root, 'vite.cli.config.ts')], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
}
