// Mounted drives and which of them are removable (Linux: the mount table and the kernel's removable
// flag in sysfs). Backups go to such drives; PKCS#11 modules are never loaded from them.
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

export interface Mount {
  device: string;
  mountPoint: string;
  fsType: string;
}

/** /proc/self/mountinfo lines: the mount point is field 5, the source after the " - " separator. */
export function parseMountInfo(text: string): Mount[] {
  const mounts: Mount[] = [];
  for (const line of text.split('\n')) {
    const [left, right] = line.split(' - ');
    if (!left || !right) continue;
    const mountPoint = left.split(' ')[4];
    const [fsType, device] = right.split(' ');
    if (mountPoint && fsType && device) mounts.push({ device: unescape(device), mountPoint: unescape(mountPoint), fsType });
  }
  return mounts;
}

/** mountinfo and /dev/disk/by-label escape spaces and the like as \040 or \x20. */
export function unescape(text: string): string {
  return text.replace(/\\(?:x([0-9a-fA-F]{2})|([0-7]{3}))/g, (_, h: string | undefined, o: string | undefined) => String.fromCharCode(h ? parseInt(h, 16) : parseInt(o as string, 8)));
}

/** Whether the block device behind /dev/NAME sits on a removable disk (or on USB). */
export function isRemovable(device: string, sysRoot = '/sys'): boolean {
  const name = basename(device);
  const node = join(sysRoot, 'class', 'block', name);
  if (!existsSync(node)) return false;
  let path: string;
  try {
    path = realpathSync(node);
  } catch {
    return false;
  }
  // A partition's folder sits inside its disk's folder, which holds the flag.
  const disk = existsSync(join(path, 'partition')) ? dirname(path) : path;
  try {
    if (readFileSync(join(disk, 'removable'), 'utf8').trim() === '1') return true;
  } catch {
    // no flag: decide by the bus
  }
  return disk.includes('/usb');
}

/**
 * Mount points of removable drives, read from the mount table (empty where there is none, e.g. not
 * Linux). A drive unplugged between the two reads simply drops out.
 */
export function removableMountPoints(mountInfo = '/proc/self/mountinfo', sysRoot = '/sys'): string[] {
  let text: string;
  try {
    text = readFileSync(mountInfo, 'utf8');
  } catch {
    return [];
  }
  return parseMountInfo(text)
    .filter((m) => m.device.startsWith('/dev/') && isRemovable(m.device, sysRoot))
    .map((m) => m.mountPoint);
}
