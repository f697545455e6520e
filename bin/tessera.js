#!/usr/bin/env node
// Runs the CLI from its TypeScript source through tsx, so `npx tessera` is always the code in src/.
import { register } from 'tsx/esm/api';

register();
const { run } = await import('../src/cli/main.ts');
process.exit(await run(process.argv.slice(2)));
