// The built app, as far as it runs without the Electron binary: the main bundle's HSM worker and
// module probe sit where the bundle looks for them, and work under plain Node against the lab.
import { expect, test } from '@playwright/test';
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import { applyLabEnvironment, findLabProfile } from '../../src/core/config/lab-profile';
import { type ModuleUser, acquireModule, releaseModule } from '../../src/core/hsm/module-registry';
import type { JobResult, ListJob } from '../../src/core/hsm/hsm-worker';
import { buildFakeModule, safeFolder } from '../lab/fake-modules';

const out = resolve(import.meta.dirname, '../../out/main');

test('the main bundle looks for its HSM worker beside itself, and the built worker lists the lab partition', async () => {
  const referencing = readdirSync(out, { recursive: true, withFileTypes: true })
    .filter((f) => f.isFile() && f.name.endsWith('.js') && readFileSync(join(f.parentPath, f.name), 'utf8').includes('"./hsm-worker.js"'))
    .map((f) => join(f.parentPath, f.name));
  expect(referencing).toEqual([join(out, 'index.js')]);

  const profile = findLabProfile();
  if (!profile) throw new Error('The training lab is not set up: run `npm run lab -- up`.');
  applyLabEnvironment(profile);
  const user: ModuleUser = { canRescan: () => false, rescanned: () => undefined };
  const module = acquireModule(profile.modulePath, user);
  const worker = new Worker(join(out, 'hsm-worker.js'));
  try {
    const token = module.findTokenByLabel(profile.tokenLabel);
    const objects: unknown[] = [];
    const done = await new Promise<JobResult>((resolveJob) => {
      worker.on('message', (result: JobResult) => {
        if ('reads' in result) objects.push(...result.reads);
        else resolveJob(result);
      });
      worker.postMessage({ kind: 'list', id: 1, modulePath: profile.modulePath, slot: new Uint8Array(token.slot) } satisfies ListJob);
    });
    expect(done).toEqual({ id: 1, ok: true, count: objects.length });
    expect(objects.length).toBeGreaterThan(5);
  } finally {
    await worker.terminate();
    releaseModule(module, user);
  }
});

test('the main bundle starts its module probe from beside itself; the built probe, run as Electron runs it, answers for a module and dies alone for a crashing one', () => {
  const referencing = readdirSync(out, { recursive: true, withFileTypes: true })
    .filter((f) => f.isFile() && f.name.endsWith('.js') && readFileSync(join(f.parentPath, f.name), 'utf8').includes('"./module-probe.cjs"'))
    .map((f) => join(f.parentPath, f.name));
  expect(referencing).toEqual([join(out, 'index.js')]);

  const profile = findLabProfile();
  if (!profile) throw new Error('The training lab is not set up: run `npm run lab -- up`.');
  // ELECTRON_RUN_AS_NODE is what makes Electron's own binary run the script as Node; here it is Node.
  const env = { ...process.env, SOFTHSM2_CONF: profile.softhsmConf, ELECTRON_RUN_AS_NODE: '1' };
  const probe = (module: string) => spawnSync(process.execPath, [join(out, 'module-probe.cjs'), module], { env, encoding: 'utf8', timeout: 20_000 });
  const good = probe(profile.modulePath);
  expect(good.status).toBe(0);
  expect(JSON.parse(good.stdout)).toMatchObject({ ok: true, probe: { manufacturer: 'SoftHSM', tokens: expect.any(Number) } });
  const crashed = probe(buildFakeModule(safeFolder(), 'crash'));
  expect(crashed.signal).toBe('SIGSEGV');
  expect(crashed.stdout).toBe('');
});
