// Composition root of the Electron app: one Terminal (core services), one dispatcher, one window.
import { type BrowserWindow, app, session } from 'electron';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { applyLabEnvironment, findLabProfile, labPartitionDefaults } from '../core/config/lab-profile';
import { terminalHome } from '../core/config/paths';
import { Terminal } from '../core/terminal';
import { APP_ORIGIN, registerAppScheme, serveRenderer } from './app-protocol';
import { createDispatcher } from './dispatch';
import { wireIpc } from './ipc';
import { createMainWindow, hardenAllContents, hardenSession } from './window';

const here = fileURLToPath(new URL('.', import.meta.url));

registerAppScheme();
hardenAllContents();
app.enableSandbox();

// The lab's environment fills in what is unset only when the app works on the lab (no home or
// SoftHSM2 config of the user's own); its module and partition are the defaults only then too.
const profile = findLabProfile();
const lab = profile && applyLabEnvironment(profile) ? labPartitionDefaults(profile) : null;

let window: BrowserWindow | null = null;
let terminal: Terminal | null = null;

app.on('window-all-closed', () => app.quit());
app.on('will-quit', (event) => {
  // Quitting ends every session with the HSM, logins included, before the process goes.
  const closing = terminal;
  if (!closing) return;
  terminal = null;
  event.preventDefault();
  void closing.close().finally(() => app.quit());
});

void app.whenReady().then(async () => {
  hardenSession(session.defaultSession);
  serveRenderer(join(here, '../renderer'));
  const opened = await Terminal.open({
    home: terminalHome(process.env, app.getPath('userData')),
    frontEnd: 'gui',
    scriptExamples: join(here, '../../resources/ceremonies'),
    defaults: lab ? { modulePath: lab.modulePath, tokenLabel: lab.tokenLabel } : {},
    modules: { labModule: lab?.modulePath ?? null },
  });
  terminal = opened;
  const dispatcher = createDispatcher(opened, {
    origin: APP_ORIGIN,
    app: { version: app.getVersion(), lab: lab ? { tokenLabel: lab.tokenLabel, modulePath: lab.modulePath } : null },
  });
  wireIpc(dispatcher, () => window);
  void opened.readers.start();
  window = createMainWindow(join(here, '../preload/index.cjs'));
  window.on('closed', () => (window = null));
});
