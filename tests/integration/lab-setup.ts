// Before the integration tests: the CLI's build brought up to date with src/ (the tests run
// bin/tessera.js, which runs out/cli/), and the training lab up (idempotent; installs nothing).
import { ensureCliBuild } from '../../scripts/cli-build';
import { Lab } from '../lab/lab';

export default async function setup(): Promise<void> {
  ensureCliBuild();
  await new Lab().up();
}
