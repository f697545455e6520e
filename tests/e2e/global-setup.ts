import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Lab } from '../lab/lab';

export default async function setup(): Promise<void> {
  if (!existsSync(join(process.cwd(), 'out', 'preload', 'index.cjs'))) {
    throw new Error('The app is not built: run `npm run build` first (npm test does).');
  }
  await new Lab().up();
}
