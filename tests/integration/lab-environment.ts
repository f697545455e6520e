// Each test worker reaches the lab's tokens and keychain, like the app does on a lab machine.
import { applyLabEnvironment, findLabProfile } from '../../src/core/config/lab-profile';

const profile = findLabProfile();
if (!profile) throw new Error('The training lab is not set up: run `npm run lab -- up` (the integration tests need it).');
applyLabEnvironment(profile);
