#!/usr/bin/env node
// Runs the CLI from its build, out/cli/main.js (vite.cli.config.ts, part of `npm run build`): no
// TypeScript is compiled at run time. Without a build it says so and stops; it never falls back to
// the sources, so what runs is always what was built.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const built = new URL('../out/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(built))) {
  process.stderr.write(`tessera: the command line is not built (${fileURLToPath(built)} is missing). Run \`npm run build\` in ${fileURLToPath(new URL('..', import.meta.url))} first.\n`);
  process.exit(1);
}
const { run } = await import(built.href);
process.exit(await run(process.argv.slice(2)));
