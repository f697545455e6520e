// Named points in multi-step operations where the reliability tests kill the process, to prove
// that every crash leaves a state the next start can finish or roll back. Inert unless the
// environment names the point (TESSERA_TEST_CRASH_AT); a real crash needs no help.
export function crashPoint(name: string): void {
  if (process.env.TESSERA_TEST_CRASH_AT === name) process.kill(process.pid, 'SIGKILL');
}
