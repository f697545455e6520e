// The PKCS#11 modules this workstation allows: a list its administrator keeps in a root-owned file
// (/etc/tessera/modules.json), plus the training lab's module on a lab machine. The window may
// only choose from it; every module, listed or named on the command line, must also lie where only
// root can change it, and pass a probe in a separate process before the terminal loads it.
import { readFileSync } from 'node:fs';
import { normalize } from 'node:path';
import { z } from 'zod';
import type { ListedModule, ModuleListView, ModuleProbe } from '../../shared/types';
import { TesseraError } from '../errors';
import { findLabProfile } from '../config/lab-profile';
import { checkModulePath, removableLocations } from './module-path';
import { PROBE_TIMEOUT_MS, type StandbyProbe, probeModule } from './module-probe';

export const DEFAULT_MODULES_FILE = '/etc/tessera/modules.json';

/** TESSERA_MODULES_FILE (tests, unusual installs) or /etc/tessera/modules.json. */
export function modulesFile(env: NodeJS.ProcessEnv = process.env): string {
  return env.TESSERA_MODULES_FILE || DEFAULT_MODULES_FILE;
}

const listFile = z.object({
  modules: z.array(z.object({ name: z.string().trim().min(1).max(200), path: z.string().min(1).max(4096) })).max(200),
});

const EXAMPLE = '{"modules": [{"name": "Vendor HSM", "path": "/usr/lib/vendor/libpkcs11.so"}]}';

export interface ModuleListOptions {
  file: string;
  /** The training lab's module, offered on a lab machine besides the administrator's list. */
  labModule: string | null;
  /** Where removable media lies (see removableLocations); asked each time, drives come and go. */
  removable: () => string[];
  probeTimeoutMs?: number;
  /** A probe process started ahead (the CLI's), used by the first probe. */
  standby?: StandbyProbe;
}

export class ApprovedModules {
  /** Admissions started ahead of their use (startAdmission), by normalised path, each taken once by admit(). */
  private readonly early = new Map<string, { listedOnly: boolean; admission: Promise<ModuleProbe | null> }>();

  constructor(private readonly options: ModuleListOptions) {}

  /**
   * Starts admitting the module at `path` now (the same checks, then the probe in its child
   * process), so that the probe's second Node start runs alongside whatever the caller does next
   * (the CLI loads the terminal and opens its database meanwhile). The next admit() of the same
   * path takes this admission's answer or error instead of probing again; nothing is loaded into
   * this process either way. Never throws: a refusal waits for that admit().
   */
  startAdmission(path: string, listedOnly: boolean): void {
    const admission = this.admit(path, { listedOnly, probe: true });
    admission.catch(() => undefined); // the refusal is reported by the admit() that takes it
    this.early.set(normalize(path), { listedOnly, admission });
  }

  /**
   * The list as it stands now (the file is read again each time: the administrator may change it).
   * Never throws: a missing or unsafe file is reported in `problem`, and its entries are not used.
   */
  list(): ModuleListView {
    const { file, labModule } = this.options;
    const removable = this.options.removable();
    const { problem, entries } = readList(file);
    if (labModule && !entries.some((e) => e.path === normalize(labModule))) {
      entries.push({ name: 'Training lab (SoftHSM2)', path: normalize(labModule), source: 'lab' });
    }
    const modules: ListedModule[] = entries.map((entry) => {
      const check = checkModulePath(entry.path, removable);
      return { ...entry, refusal: check.ok ? null : check.reason };
    });
    return { file, problem, modules };
  }

  /**
   * Decides whether the module at `path` may be loaded in this process, and tries it out first.
   * `listedOnly`: the path must be on the list (the window's requests, a remembered choice).
   * `probe`: false when this process has loaded the module already (it was probed then).
   * @returns the probe's answer, or null when not probed
   * @throws TesseraError MODULE_NOT_FOUND (no file), MODULE_NOT_ALLOWED (not on the list, on
   *   removable media, changeable by others), MODULE_INVALID (not a file, not PKCS#11, crashed,
   *   hung), or the module's own error from C_Initialize and the like
   */
  async admit(path: string, { listedOnly, probe }: { listedOnly: boolean; probe: boolean }): Promise<ModuleProbe | null> {
    const early = this.early.get(normalize(path));
    if (early) {
      this.early.delete(normalize(path));
      // Taken only where it answers the same question: listed-only asked no less, and a probe is wanted.
      if (probe && (early.listedOnly || !listedOnly)) return early.admission;
    }
    if (listedOnly) {
      const view = this.list();
      if (!view.modules.some((m) => m.path === normalize(path))) {
        const why = view.problem ? ` ${view.problem}` : ' Choose a module from the list, or ask the workstation\'s administrator to add it.';
        throw new TesseraError('MODULE_NOT_ALLOWED', `The module ${path} is not on this workstation's list of approved PKCS#11 modules.${why}`);
      }
    }
    const check = checkModulePath(path, this.options.removable());
    if (!check.ok && check.problem === 'missing') throw new TesseraError('MODULE_NOT_FOUND', `There is no PKCS#11 module at ${path}. Check the path and try again.`);
    if (!check.ok && check.problem === 'not-a-file') throw new TesseraError('MODULE_INVALID', `${path} is not a file. Choose the PKCS#11 library file (.so) itself.`);
    if (!check.ok) throw new TesseraError('MODULE_NOT_ALLOWED', `The module ${path} is refused: ${check.reason}.`);
    return probe ? probeModule(path, this.options.probeTimeoutMs ?? PROBE_TIMEOUT_MS, this.options.standby) : null;
  }
}

/**
 * The module gate as a terminal builds it: the administrator's list (TESSERA_MODULES_FILE or
 * /etc/tessera/modules.json unless `file` says), the lab's module (default: the training lab's,
 * where there is one), removable media where `standIns` and the mounted drives lie, and the probe
 * process started ahead (`standby`, the CLI's), if any.
 */
export function moduleGate(options: { file?: string; labModule?: string | null; probeTimeoutMs?: number; standby?: StandbyProbe }, standIns: string[]): ApprovedModules {
  return new ApprovedModules({
    file: options.file ?? modulesFile(),
    labModule: options.labModule === undefined ? (findLabProfile()?.modulePath ?? null) : options.labModule,
    removable: () => removableLocations(standIns),
    ...(options.probeTimeoutMs ? { probeTimeoutMs: options.probeTimeoutMs } : {}),
    ...(options.standby ? { standby: options.standby } : {}),
  });
}

/** One listed module as `tessera modules list --json` reports it (a stable interface: see README). */
export interface SurveyedModule {
  name: string;
  path: string;
  source: ListedModule['source'];
  passesChecks: boolean;
  /** Why it is refused without being loaded, or null. */
  reason: string | null;
  /** The probe's answer; null when the module was refused before any probe. */
  probe: ({ usable: true } & ModuleProbe) | { usable: false; code: string; error: string } | null;
}

export interface ModuleSurvey {
  file: string;
  fileProblem: string | null;
  modules: SurveyedModule[];
}

/**
 * Every module on the list, checked and, where the checks pass, probed (one child process each,
 * one after the other). Nothing is loaded into this process. Never throws for a module's fault.
 */
export async function surveyModules(approved: ApprovedModules): Promise<ModuleSurvey> {
  const view = approved.list();
  const modules: SurveyedModule[] = [];
  for (const m of view.modules) {
    let probe: SurveyedModule['probe'] = null;
    let reason = m.refusal;
    if (reason === null) {
      try {
        probe = { usable: true, ...(await approved.admit(m.path, { listedOnly: true, probe: true }) as ModuleProbe) };
      } catch (error) {
        if (!(error instanceof TesseraError)) throw error;
        if (error.code === 'MODULE_NOT_ALLOWED' || error.code === 'MODULE_NOT_FOUND') reason = error.message;
        else probe = { usable: false, code: error.code, error: error.message };
      }
    }
    modules.push({ name: m.name, path: m.path, source: m.source, passesChecks: reason === null, reason, probe });
  }
  return { file: view.file, fileProblem: view.problem, modules };
}

type Entry = Omit<ListedModule, 'refusal'>;

/** The administrator's entries, or why there are none to use. */
function readList(file: string): { problem: string | null; entries: Entry[] } {
  const check = checkModulePath(file, []);
  if (!check.ok && check.problem === 'missing') {
    return { problem: `There is no list of approved modules at ${file}. The workstation's administrator must create it, owned by root and writable by root only, e.g. ${EXAMPLE}.`, entries: [] };
  }
  if (!check.ok) return { problem: `The list of approved modules at ${file} is not used: ${check.reason}. The workstation's administrator must make it owned by root and writable by root only.`, entries: [] };
  let parsed;
  try {
    parsed = listFile.safeParse(JSON.parse(readFileSync(check.realPath, 'utf8')));
  } catch {
    return { problem: `The list of approved modules at ${file} is not valid JSON. The administrator must correct it, e.g. ${EXAMPLE}.`, entries: [] };
  }
  if (!parsed.success) {
    const where = parsed.error.issues.map((i) => i.path.join('.') || '(file)').slice(0, 3).join(', ');
    return { problem: `The list of approved modules at ${file} is not in the expected form (${where}). The administrator must correct it, e.g. ${EXAMPLE}.`, entries: [] };
  }
  const entries: Entry[] = [];
  for (const { name, path } of parsed.data.modules) {
    if (!entries.some((e) => e.path === normalize(path))) entries.push({ name, path: normalize(path), source: 'administrator' });
  }
  return { problem: null, entries };
}
