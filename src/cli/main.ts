// `tessera`'s entry (bin/tessera.js runs its build, out/cli/main.js). Its first act is to start the
// module probe's process on standby: a command on a partition must try its PKCS#11 module in a
// process of its own before loading it, and that process's Node start is the largest part of a
// short command's time. It starts here, before the commands (program.ts) and their dependencies
// load, and is handed its module once the command has checked it (module-probe.ts StandbyProbe).
import { StandbyProbe } from '../core/hsm/module-probe';

/**
 * Runs `tessera` with `argv` (the arguments after the program name).
 * @returns the exit code: 0 success, 1 failure (one line on stderr), 2 bad usage
 */
export async function run(argv: string[]): Promise<number> {
  const standby = new StandbyProbe();
  try {
    const { runProgram } = await import('./program');
    return await runProgram(argv, standby);
  } finally {
    standby.release();
  }
}
