// Brings the training lab up before the integration tests (idempotent; installs nothing).
import { Lab } from '../lab/lab';

export default async function setup(): Promise<void> {
  await new Lab().up();
}
