// Starts the HSM worker from its TypeScript source (tests, CLI, lab), where no build exists.
import { register } from 'tsx/esm/api';

register();
await import('./hsm-worker.ts');
