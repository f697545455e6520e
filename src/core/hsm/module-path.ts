// Whether a PKCS#11 module file may be loaded at all, judged from where it lies. Loading a library
// runs its code inside the terminal with every secret the terminal holds, so the file must be one
// that only root can change: neither on removable media nor anywhere a desktop user, a group or
// everyone could write it or swap it (the file, each folder above it, and the same again for
// the file a symbolic link leads to).
import { type Stats, lstatSync, realpathSync } from 'node:fs';
import { isAbsolute, join, normalize, sep } from 'node:path';
import { removableMountPoints } from '../media/mounts';

/** Folders where desktops mount removable drives, whatever the mount table says right now. */
export const REMOVABLE_FOLDERS = ['/media', '/run/media', '/mnt'];

/**
 * Where removable media lies on this workstation: the usual mount folders, the mount points of
 * drives the kernel calls removable, and `standIns` (the training lab's stand-in USB stick).
 */
export function removableLocations(standIns: string[] = []): string[] {
  return [...REMOVABLE_FOLDERS, ...removableMountPoints().filter((m) => m !== '/'), ...standIns];
}

function within(path: string, folder: string): boolean {
  const f = normalize(folder).replace(/\/+$/, '');
  return f !== '' && (path === f || path.startsWith(`${f}/`));
}

function octal(mode: number): string {
  return `0${(mode & 0o7777).toString(8).padStart(3, '0')}`;
}

/**
 * Why one entry of a path could be changed by someone other than root, or null. A folder writable
 * by everyone is accepted only with the sticky bit and root as owner (like /tmp): there nobody but
 * root can rename or remove a root-owned entry, and the entry below is checked in turn.
 */
function entryProblem(path: string, info: Stats): string | null {
  if (info.uid !== 0) return `${path} belongs to user id ${info.uid}, not root: that user could replace the library`;
  if (info.isSymbolicLink()) return null; // a link's own mode means nothing; its folder and target are checked
  const sticky = info.isDirectory() && (info.mode & 0o1000) !== 0;
  if (info.mode & 0o002 && !sticky) return `${path} can be changed by every user of this workstation (mode ${octal(info.mode)})`;
  if (info.mode & 0o020 && !sticky) return `${path} can be changed by the members of group id ${info.gid} (mode ${octal(info.mode)})`;
  return null;
}

/** The first entry from / down to `path` that someone other than root could change, or null. */
function chainProblem(path: string): string | null {
  const parts = path.split(sep).filter(Boolean);
  let current: string = sep;
  for (let i = 0; i <= parts.length; i++) {
    if (i > 0) current = join(current, parts[i - 1] as string);
    const problem = entryProblem(current, lstatSync(current));
    if (problem) return problem;
  }
  return null;
}

export type ModulePathCheck =
  | { ok: true; realPath: string }
  | { ok: false; problem: 'missing' | 'not-a-file' | 'unsafe'; reason: string };

/**
 * Checks a file before the terminal trusts it (a module to load, the administrator's list of
 * modules). `removable` lists where removable media lies (see removableLocations). Never throws:
 * an unreadable path is a reason too.
 * @returns the file's real path, or the kind of problem and the reason in officers' words
 */
export function checkModulePath(path: string, removable: string[]): ModulePathCheck {
  if (!isAbsolute(path)) return { ok: false, problem: 'unsafe', reason: 'the path must be absolute (start with /)' };
  const given = normalize(path);
  const onMedia = (p: string): string | undefined => removable.find((folder) => within(p, folder));
  const media = onMedia(given);
  if (media) return { ok: false, problem: 'unsafe', reason: `it lies on removable media (${media}): whoever holds the medium could change it` };
  let realPath: string;
  try {
    realPath = realpathSync(given);
  } catch {
    return { ok: false, problem: 'missing', reason: 'there is no file there' };
  }
  const realMedia = onMedia(realPath);
  if (realMedia) return { ok: false, problem: 'unsafe', reason: `it leads to removable media (${realMedia}): whoever holds the medium could change it` };
  try {
    if (!lstatSync(realPath).isFile()) return { ok: false, problem: 'not-a-file', reason: 'it is not a file; choose the library file (.so) itself' };
    const problem = chainProblem(given) ?? (realPath === given ? null : chainProblem(realPath));
    if (problem) return { ok: false, problem: 'unsafe', reason: problem };
  } catch (error) {
    return { ok: false, problem: 'unsafe', reason: `its folders cannot be checked (${(error as NodeJS.ErrnoException).code ?? 'error'})` };
  }
  return { ok: true, realPath };
}
