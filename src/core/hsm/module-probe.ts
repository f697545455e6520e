// Every PKCS#11 module is tried out in a short-lived child process before the terminal loads it:
// a library that crashes when loaded (a NULL function list, say) or never answers would otherwise
// take the whole terminal down, or freeze it, in the middle of officers' work.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ErrorData } from '../../shared/errors';
import type { ModuleProbe } from '../../shared/types';
import { TesseraError } from '../errors';

/** What the probe process prints: one line of JSON. */
export type ProbeAnswer = { ok: true; probe: ModuleProbe } | { ok: false; error: ErrorData };

export const PROBE_TIMEOUT_MS = 10_000;

/** Built, the probe is out/main/module-probe.js beside the bundle; from source, it runs through tsx. */
function probeScript(): string {
  const fromSource = import.meta.url.endsWith('.ts');
  return fileURLToPath(new URL(fromSource ? './module-probe-source.mjs' : './module-probe.js', import.meta.url));
}

const crashed = 'This library is not a usable PKCS#11 module (it crashed when loaded).';

/**
 * Loads the module at `path` in a child process and asks it C_Initialize, C_GetInfo,
 * C_GetSlotList and C_Finalize. The child is this same executable run as plain Node
 * (ELECTRON_RUN_AS_NODE=1 makes the Electron binary behave as node; plain Node ignores it).
 * @returns the library's description, manufacturer, versions, slot and token counts
 * @throws TesseraError MODULE_INVALID when the child crashed, exited abnormally or did not answer
 *   within `timeoutMs` (it is killed), or the module's own error when it refused a call
 */
export function probeModule(path: string, timeoutMs = PROBE_TIMEOUT_MS): Promise<ModuleProbe> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [probeScript(), path], {
      env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
      stdio: ['ignore', 'pipe', 'ignore'],
    });
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
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      if (out.length < 64 * 1024) out += chunk;
    });
    child.on('error', (error) => finish(new TesseraError('INTERNAL', 'The terminal could not start its module check. Nothing was loaded.', error.name)));
    child.on('close', (code, signal) => {
      if (code !== 0) {
        finish(new TesseraError('MODULE_INVALID', crashed, `probe of ${path}: ${signal ? `signal ${signal}` : `exit code ${code}`}`));
        return;
      }
      let answer: ProbeAnswer;
      try {
        answer = JSON.parse(out.trim().split('\n').at(-1) ?? '') as ProbeAnswer;
      } catch {
        finish(new TesseraError('MODULE_INVALID', crashed, `probe of ${path}: no answer`));
        return;
      }
      if (answer.ok) finish(null, answer.probe);
      else finish(new TesseraError(answer.error.code, answer.error.message, answer.error.detail));
    });
  });
}
