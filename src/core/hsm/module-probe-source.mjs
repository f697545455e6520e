// Starts the module probe from its TypeScript source (tests, CLI, lab), where no build exists.
import { register } from 'tsx/esm/api';

register();
await import('./module-probe-child.ts');
