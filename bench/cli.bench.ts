// Benchmark (not a test): how fast the `tessera` command starts and answers, against bare Node's
// start and OpenSC's `pkcs11-tool -L` on the same lab partition, each run as its own process, in
// one run. Prints medians of RUNS rounds (the commands take turns) and the ratios. Target: `tessera status --json` within 3x of
// `node -e 0`.   npm run bench:cli   (RUNS=21 npm run bench:cli for steadier medians)
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ensureCliBuild } from '../scripts/cli-build';
import { labForBench, median } from './lab-bench';

const RUNS = Number(process.env.RUNS ?? 11);
const root = resolve(import.meta.dirname, '..');

/**
 * Median wall time in ms of each command over RUNS rounds (one warm-up round first, not counted).
 * The commands take turns within each round, so a slow spell of the machine (other work, CPU
 * steal) weighs on the baseline and on `tessera` alike instead of on whichever ran through it.
 */
function timeAll(commands: Record<string, [string, string[]]>, env: NodeJS.ProcessEnv): Record<string, number> {
  const times: Record<string, number[]> = Object.fromEntries(Object.keys(commands).map((name) => [name, []]));
  for (let round = 0; round <= RUNS; round++) {
    for (const [name, [command, args]] of Object.entries(commands)) {
      const start = performance.now();
      execFileSync(command, args, { env, cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
      if (round > 0) times[name]?.push(performance.now() - start);
    }
  }
  return Object.fromEntries(Object.entries(times).map(([name, ms]) => [name, median(ms)]));
}

/** pkcs11js with nothing else: load the module, C_Initialize, C_GetInfo, C_GetSlotList, C_Finalize (PKCS#11 v2.40 §5.4, §5.5). */
const BARE_INIT = "const p = new (require('pkcs11js').PKCS11)(); p.load(process.argv[1]); p.C_Initialize(); p.C_GetInfo(); p.C_GetSlotList(true); p.C_Finalize();";

async function main(): Promise<void> {
  ensureCliBuild();
  const { lab, modulePath } = await labForBench();
  const state = lab.state();
  const env = { ...process.env, SOFTHSM2_CONF: state.softhsmConf, TESSERA_HOME: mkdtempSync(join(tmpdir(), 'tessera-bench-cli-')) };
  const tessera = join(root, 'bin', 'tessera.js');
  // What the crash protection costs: the module is tried in a second Node process before this one
  // loads it (the probe alone, and a bare pkcs11js script doing what it does). The CLI starts that
  // process first thing, on standby, so its Node start overlaps the CLI's own; it is no longer a
  // floor added to the CLI's start, only the time a probe takes when nothing overlaps it.
  const t = timeAll(
    {
      node: [process.execPath, ['-e', '0']],
      tool: ['pkcs11-tool', ['--module', modulePath, '-L']],
      help: [process.execPath, [tessera, '--help']],
      status: [process.execPath, [tessera, 'status', '--json']],
      probe: [process.execPath, [join(root, 'out', 'cli', 'module-probe.cjs'), modulePath]],
      bare: [process.execPath, ['-e', BARE_INIT, modulePath]],
    },
    env,
  );
  const { node, tool, help, status, probe, bare } = t as Record<'node' | 'tool' | 'help' | 'status' | 'probe' | 'bare', number>;
  const row = (name: string, ms: number): string => `  ${name.padEnd(34)} ${ms.toFixed(0).padStart(5)} ms   ${(ms / node).toFixed(2)}x node   ${(ms / tool).toFixed(2)}x pkcs11-tool`;
  console.log(`\nStarting the command line (medians of ${RUNS} rounds, the commands taking turns, each its own process, on the lab partition "${state.tokenLabel}")`);
  console.log(row('node -e 0', node));
  console.log(row('pkcs11-tool -L', tool));
  console.log(row('tessera --help', help));
  console.log(row('tessera status --json', status));
  console.log(row('bare pkcs11js C_Initialize (a process)', bare));
  console.log(row('the module probe alone (a process)', probe));
  console.log(`  tessera status / bare node start: ${(status / node).toFixed(2)}x (target <= 3.00x)`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
