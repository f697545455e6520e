// `npm start`: the app on the training lab. Brings the lab up and starts Electron; where the
// Electron binary cannot be had, says so and opens the same GUI in Debian's Chromium wired to the
// real core (tests/lab/chromium-app.ts). Without a display it saves a screenshot and prints the
// partition and readers through the CLI instead.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { applyLabEnvironment, findLabProfile } from '../src/core/config/lab-profile';
import { Terminal } from '../src/core/terminal';
import { createDispatcher } from '../src/main/dispatch';
import { HOST_ORIGIN, launchChromiumApp } from '../tests/lab/chromium-app';
import { electronBinary } from '../tests/lab/electron-binary';
import { Lab } from '../tests/lab/lab';

const root = resolve(fileURLToPath(new URL('.', import.meta.url)), '..');

function packageVersion(): string {
  return (createRequire(import.meta.url)('../package.json') as { version: string }).version;
}

async function main(): Promise<void> {
  const lab = new Lab();
  await lab.up();
  const profile = findLabProfile();
  if (!profile) throw new Error(`the lab did not write ${lab.stateFile}`);
  applyLabEnvironment(profile);
  execFileSync('npx', ['electron-vite', 'build'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });

  const electron = electronBinary(root);
  if (electron) {
    const child = spawn(electron, [root], { stdio: 'inherit', env: process.env });
    child.on('exit', (code) => process.exit(code ?? 0));
    return;
  }
  console.log('The Electron binary is not available on this machine (its download lives outside the npm registry).');
  console.log("Opening the same GUI in Debian's Chromium instead, wired to the real core. No network listener is opened.");

  const terminal = await Terminal.open({ home: profile.home, frontEnd: 'gui', defaults: { modulePath: profile.modulePath, tokenLabel: profile.tokenLabel } });
  const dispatcher = createDispatcher(terminal, { origin: HOST_ORIGIN, app: { version: packageVersion(), lab: { tokenLabel: profile.tokenLabel, modulePath: profile.modulePath } } });
  await terminal.readers.start();
  const headless = !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY;
  const app = await launchChromiumApp({ dispatcher, outDir: join(root, 'out'), headless });
  if (!headless) {
    console.log('Close the browser window to stop.');
    await new Promise<void>((done) => app.page.on('close', () => done()));
    await terminal.close();
    return;
  }
  await app.page.getByRole('heading', { name: `Partition “${profile.tokenLabel}”` }).waitFor({ timeout: 20_000 });
  const shots = join(profile.dir, 'screenshots');
  mkdirSync(shots, { recursive: true });
  const shot = join(shots, 'partition.png');
  await app.page.screenshot({ path: shot, fullPage: true });
  await app.close();
  await terminal.close();
  console.log(`No display here: the dashboard was rendered headless; screenshot: ${shot}`);
  console.log('The same partition through the CLI (npx tessera status):\n');
  const cli = (args: string[]): void => {
    execFileSync(process.execPath, [join(root, 'bin', 'tessera.js'), ...args], { stdio: 'inherit', env: process.env });
  };
  cli(['status']);
  console.log('');
  cli(['readers']);
  console.log('\nTry: npm run lab -- insert alice; npx tessera readers; npx tessera objects --login');
}

main().catch((error: unknown) => {
  console.error(`start: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
