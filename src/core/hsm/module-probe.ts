// Every PKCS#11 module is tried out in a short-lived child process before the terminal loads it:
// a library that crashes when loaded (a NULL function list, say) or never answers would otherwise
// take the whole terminal down, or freeze it, in the middle of officers' work.
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ErrorData } from '../../shared/errors';
import type { ModuleProbe } from '../../shared/types';
import { TesseraError } from '../errors';

/** What the probe process prints: one line of JSON. */
export type ProbeAnswer = { ok: true; probe: ModuleProbe } | { ok: false; error: ErrorData };

export const PROBE_TIMEOUT_MS = 10_000;

/**
 * Built, the probe is module-probe.cjs beside the bundle (out/main, out/cli; CommonJS starts
 * fastest: scripts/module-probe-build.ts); from source, it runs through tsx.
 */
function probeScript(): string {
  const fromSource = import.meta.url.endsWith('.ts');
  return fileURLToPath(new URL(fromSource ? './module-probe-source.mjs' : './module-probe.cjs', import.meta.url));
}

const crashed = 'This library is not a usable PKCS#11 module (it crashed when loaded).';

/** What a standby probe reads on its standard input: the module, and the environment to load it in. */
export interface StandbyRequest {
  path: string;
  /** This process's environment when the probe is asked (e.g. SOFTHSM2_CONF set from the lab's settings after the standby started). */
  env: Record<string, string>;
}

/**
 * A probe process started before its module is known (`--standby`), so that its Node start, most
 * of a probe's time, runs alongside the caller's own start: the CLI starts one first thing and
 * loads its commands meanwhile. The process loads nothing until probeModule() hands it a module
 * that passed the checks; unused, it reads the end of its input when release() is called or this
 * process exits, and ends without loading anything. Taken at most once; later probes start their
 * own process.
 */
export class StandbyProbe {
  private child: ChildProcess | null = null;

  constructor() {
    try {
      this.child = spawnProbe(['--standby'], 'pipe');
    } catch {
      // No standby (spawn can throw, e.g. ENOMEM): probes start their own process, which says why.
      return;
    }
    // Waiting for it must not keep this process alive.
    this.child.unref();
    for (const stream of [this.child.stdin, this.child.stdout]) (stream as unknown as { unref?: () => void } | null)?.unref?.();
    // A standby that failed to start is simply not used (probeModule starts its own process).
    this.child.on('error', () => undefined);
    this.child.stdin?.on('error', () => undefined);
  }

  /** The waiting process, once; null after it was taken or released, or when it has already ended. */
  take(): ChildProcess | null {
    const child = this.child;
    this.child = null;
    if (!child || child.exitCode !== null || child.signalCode !== null || !child.stdin?.writable) return null;
    child.ref();
    for (const stream of [child.stdin, child.stdout]) (stream as unknown as { ref?: () => void } | null)?.ref?.();
    return child;
  }

  /** Lets an unused standby end (its input closes; it loads nothing). */
  release(): void {
    this.child?.stdin?.end();
    this.child = null;
  }
}

function spawnProbe(args: string[], stdin: 'pipe' | 'ignore'): ChildProcess {
  // NODE_EXTRA_CA_CERTS is left out: Node reads and parses that file at every start (~50 ms on the
  // lab machines, more than the rest of the probe), and the probe makes no TLS connection.
  const { NODE_EXTRA_CA_CERTS: _unused, ...env } = process.env;
  return spawn(process.execPath, [probeScript(), ...args], {
    env: { ...env, ELECTRON_RUN_AS_NODE: '1' },
    stdio: [stdin, 'pipe', 'ignore'],
  });
}

/**
 * Loads the module at `path` in a child process and asks it C_Initialize, C_GetInfo,
 * C_GetSlotList and C_Finalize. The child is this same executable run as plain Node
 * (ELECTRON_RUN_AS_NODE=1 makes the Electron binary behave as node; plain Node ignores it). With
 * `standby`, its waiting process is used if it is still there (it is given this process's
 * environment as it is now); otherwise a new process is started. A standby that ends without an
 * answer (killed, crashed, or gone before it read its module) does not speak for the module: the
 * module is probed once more in a process of its own, whose verdict counts (a crashing module
 * crashes that one too). A standby that does not answer in time is not tried again.
 * @returns the library's description, manufacturer, versions, slot and token counts
 * @throws TesseraError MODULE_INVALID when the child crashed, exited abnormally or did not answer
 *   within `timeoutMs` (it is killed), or the module's own error when it refused a call
 */
export function probeModule(path: string, timeoutMs = PROBE_TIMEOUT_MS, standby?: StandbyProbe): Promise<ModuleProbe> {
  return new Promise((resolve, reject) => {
    const waiting = standby?.take() ?? null;
    const child = waiting ?? spawnProbe([path], 'ignore');
    if (waiting) {
      const request: StandbyRequest = { path, env: Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined)) };
      waiting.stdin?.end(`${JSON.stringify(request)}\n`);
    }
    let out = '';
    let settled = false;
    const finish = (error: TesseraError | null, probe?: ModuleProbe): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (error) reject(error);
      else resolve(probe as ModuleProbe);
    };
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      const seconds = Math.round(timeoutMs / 100) / 10;
      finish(new TesseraError('MODULE_INVALID', `This library is not a usable PKCS#11 module (it did not answer within ${seconds} seconds).`, `probe of ${path}: no answer`));
    }, timeoutMs);
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (chunk: string) => {
      if (out.length < 64 * 1024) out += chunk;
    });
    /** A standby's failure: the verdict of a fresh probe instead. */
    const again = (): boolean => {
      if (!waiting || settled) return false;
      settled = true;
      clearTimeout(timer);
      probeModule(path, timeoutMs).then(resolve, reject);
      return true;
    };
    child.on('error', (error) => again() || finish(new TesseraError('INTERNAL', 'The terminal could not start its module check. Nothing was loaded.', error.name)));
    child.on('close', (code, signal) => {
      if (code !== 0) {
        if (!again()) finish(new TesseraError('MODULE_INVALID', crashed, `probe of ${path}: ${signal ? `signal ${signal}` : `exit code ${code}`}`));
        return;
      }
      let answer: ProbeAnswer;
      try {
        answer = JSON.parse(out.trim().split('\n').at(-1) ?? '') as ProbeAnswer;
      } catch {
        if (!again()) finish(new TesseraError('MODULE_INVALID', crashed, `probe of ${path}: no answer`));
        return;
      }
      if (answer.ok) finish(null, answer.probe);
      else finish(new TesseraError(answer.error.code, answer.error.message, answer.error.detail));
    });
  });
}
