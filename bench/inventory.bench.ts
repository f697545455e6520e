// Benchmark (not a test): listing a 10,000-object partition through core, against a bare pkcs11js
// loop making the same calls and against `pkcs11-tool --list-objects`, in one run. Prints medians,
// the ratios, and the longest event-loop stall while core lists. Target: core within 1.2x of the
// bare loop.   npm run bench   (OBJECTS=2000 npm run bench for a quicker run)
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Terminal } from '../src/core/terminal';
import { LabError } from '../tests/lab/lab';
import { PhaseStalls, labForBench, median } from './lab-bench';

const OBJECTS = Number(process.env.OBJECTS ?? 10_000);
const RUNS = Number(process.env.RUNS ?? 5);
const root = resolve(import.meta.dirname, '..');
const tsx = join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs');

const fmt = (ms: number): string => `${(ms / 1000).toFixed(3)} s`;

async function main(): Promise<void> {
  const { lab } = await labForBench();
  const state = lab.state();
  const label = `Bench ${OBJECTS}`;
  const env = { ...process.env, SOFTHSM2_CONF: state.softhsmConf };

  try {
    const created = await lab.newPartition(label);
    console.log(`Filling partition "${label}" (${created.serial}) with ${OBJECTS} objects, once...`);
    execFileSync(process.execPath, [tsx, join(root, 'bench', 'fill-partition.ts'), state.modulePath, state.softhsmConf, label, state.userPin, String(OBJECTS)], { stdio: 'inherit', env });
  } catch (error) {
    if (!(error instanceof LabError && /exists already/.test(error.message))) throw error;
    console.log(`Reusing partition "${label}".`);
  }

  // Core: the same listing the app and the CLI use. The baselines and core take turns within each
  // round, so that a slow spell of this shared machine weighs on both sides of the ratio alike.
  const terminal = await Terminal.open({ home: mkdtempSync(join(tmpdir(), 'tessera-bench-')), frontEnd: 'cli' });
  const bareTimes: number[] = [];
  const toolTimes: number[] = [];
  const coreTimes: number[] = [];
  let bareObjects = 0;
  let count = 0;
  const stalls = new PhaseStalls();
  try {
    stalls.phase('inventory: open the module and select the partition');
    await terminal.partition.selectByLabel(state.modulePath, label);
    stalls.phase('inventory: log in');
    await terminal.partition.login(Buffer.from(state.userPin));
    stalls.phase('inventory: list (first, cold)');
    await terminal.partition.objects(); // warm-up, as the bare loop's first run in each process warms SoftHSM's cache
    for (let i = 0; i < RUNS; i++) {
      stalls.end();
      // Baseline 1: the bare pkcs11js loop, in its own process (a process initialises a module once):
      // two runs, the second one counts.
      const runBare = (): void => {
        const bare = JSON.parse(execFileSync(process.execPath, [tsx, join(root, 'bench', 'bare-inventory.ts'), state.modulePath, state.softhsmConf, label, state.userPin, '2'], { env, encoding: 'utf8' })) as { objects: number; times: number[] };
        bareTimes.push(bare.times[1] as number);
        bareObjects = bare.objects;
      };
      const runCore = async (): Promise<void> => {
        stalls.phase('inventory: list');
        const start = performance.now();
        count = (await terminal.partition.objects()).length;
        coreTimes.push(performance.now() - start);
        stalls.end();
      };
      // The bare loop and core swap places every round, with pkcs11-tool between them, so that
      // neither always follows the same work (a fixed order measured one side's after-effects).
      if (i % 2 === 0) runBare();
      else await runCore();
      // Baseline 2: OpenSC's pkcs11-tool, whole process (it also prints every object).
      const toolStart = performance.now();
      execFileSync('pkcs11-tool', ['--module', state.modulePath, '--token-label', label, '--login', '--pin', state.userPin, '--list-objects'], { env, stdio: ['ignore', 'ignore', 'ignore'], maxBuffer: 1 << 30 });
      toolTimes.push(performance.now() - toolStart);
      if (i % 2 === 0) await runCore();
      else runBare();
    }
    stalls.phase('inventory: log out');
    await terminal.partition.logout();
    stalls.end();
  } finally {
    await terminal.close();
  }

  const core = median(coreTimes);
  const loop = median(bareTimes);
  const tool = median(toolTimes);
  console.log(`\nInventory of "${label}": ${count} objects (bare loop saw ${bareObjects}), median of ${RUNS} rounds (each: bare loop, pkcs11-tool, core; core first in every other round)`);
  console.log(`  per round: core ${coreTimes.map((t) => fmt(t)).join(', ')}; bare loop ${bareTimes.map((t) => fmt(t)).join(', ')}`);
  console.log(`  core (listObjects)        ${fmt(core)}`);
  console.log(`  bare pkcs11js loop        ${fmt(loop)}`);
  console.log(`  pkcs11-tool --list-objects ${fmt(tool)}  (whole process, printing)`);
  const roundRatios = coreTimes.map((t, i) => t / (bareTimes[i] as number));
  console.log(`  ratio core / bare loop    ${(core / loop).toFixed(2)}x   (target <= 1.20x); median of the rounds' own ratios ${median(roundRatios).toFixed(2)}x (${roundRatios.map((r) => r.toFixed(2)).join(', ')})`);
  console.log(`  ratio core / pkcs11-tool  ${(core / tool).toFixed(2)}x`);
  console.log(`  longest event-loop stall while core listed: ${(stalls.phases.find((p) => p.name === 'inventory: list')?.ms ?? 0).toFixed(1)} ms   (target < 50 ms); per phase:`);
  console.log(stalls.report());
  if (count !== bareObjects) console.log('  WARNING: core and the bare loop saw different object counts');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
