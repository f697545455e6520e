// Libraries that look like PKCS#11 modules and misbehave, built at test time with the system C
// compiler (Debian's gcc, installed by scripts/setup): real shared objects, loaded for real.
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SOFTHSM_MODULE } from './lab';

const sources = {
  /** C_GetFunctionList says CKR_OK but hands back no function list: the caller's next call crashes. */
  crash: 'typedef unsigned long CK_RV;\nCK_RV C_GetFunctionList(void **list) { *list = 0; return 0; }\n',
  /** C_GetFunctionList never returns. */
  hang: '#include <unistd.h>\ntypedef unsigned long CK_RV;\nCK_RV C_GetFunctionList(void **list) { (void)list; for (;;) pause(); }\n',
};

export type FakeKind = keyof typeof sources;

/** A folder only root can change (mode 0755 under /tmp's sticky bit), for modules the checks accept. */
export function safeFolder(prefix = 'tessera-modules-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(dir, 0o755);
  return dir;
}

/** Compiles the misbehaving library `kind` into `dir`; returns its path. */
export function buildFakeModule(dir: string, kind: FakeKind): string {
  const source = join(dir, `${kind}.c`);
  const library = join(dir, `lib${kind}-pkcs11.so`);
  writeFileSync(source, sources[kind]);
  execFileSync('cc', ['-shared', '-fPIC', '-o', library, source], { stdio: ['ignore', 'ignore', 'inherit'] });
  chmodSync(library, 0o755);
  return library;
}

/** A copy of the lab's SoftHSM2 module in `dir` (a usable module, wherever it is put). */
export function copyOfSoftHsm(dir: string, name = 'libsofthsm2-copy.so'): string {
  const copy = join(dir, name);
  copyFileSync(SOFTHSM_MODULE, copy);
  chmodSync(copy, 0o755);
  return copy;
}

/** Another name for the lab's module (a symbolic link in `dir`): same library, a path not listed. */
export function linkToSoftHsm(dir: string, name = 'libvendor-pkcs11.so'): string {
  const link = join(dir, name);
  symlinkSync(SOFTHSM_MODULE, link);
  return link;
}

/** The administrator's list, written as root with mode 0644 (the checks accept it). */
export function writeModulesFile(dir: string, modules: { name: string; path: string }[]): string {
  const file = join(dir, 'modules.json');
  writeFileSync(file, `${JSON.stringify({ modules }, null, 2)}\n`, { mode: 0o644 });
  chmodSync(file, 0o644);
  return file;
}
