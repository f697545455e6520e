// Which module files the terminal refuses to load, and why, on the real file system (as root, the
// way the project's machines run: files are given to another owner with chown). Also the
// administrator's list: a list file anyone but root could change is not used.
import { chmodSync, chownSync, copyFileSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TesseraError } from '../../src/core/errors';
import { ApprovedModules } from '../../src/core/hsm/module-list';
import { checkModulePath } from '../../src/core/hsm/module-path';

const NOBODY = 65534;
const SOFTHSM = '/usr/lib/softhsm/libsofthsm2.so';
const asRoot = process.getuid?.() === 0;

/** A folder only root can change, holding a root-owned "library" file. */
function safe(): { dir: string; file: string } {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-path-'));
  chmodSync(dir, 0o755);
  const file = join(dir, 'libvendor.so');
  writeFileSync(file, 'library bytes', { mode: 0o755 });
  return { dir, file };
}

const refusal = (path: string, removable: string[] = []): string => {
  const check = checkModulePath(path, removable);
  if (check.ok) throw new Error(`${path} was accepted`);
  return check.reason;
};

describe.runIf(asRoot)('module path checks', () => {
  it('accept a root-owned file in root-owned folders, even under /tmp (sticky, root-owned), and the lab\'s SoftHSM2 module through its link', () => {
    const { file } = safe();
    expect(checkModulePath(file, [])).toEqual({ ok: true, realPath: file });
    expect(checkModulePath(SOFTHSM, ['/media', '/mnt'])).toMatchObject({ ok: true, realPath: expect.stringContaining('/softhsm/libsofthsm2.so') });
  });

  it('refuse a relative path, a missing file and a folder, each with its kind', () => {
    const { dir } = safe();
    expect(checkModulePath('lib/libvendor.so', [])).toMatchObject({ ok: false, problem: 'unsafe', reason: expect.stringMatching(/absolute/) });
    expect(checkModulePath(join(dir, 'nothing.so'), [])).toMatchObject({ ok: false, problem: 'missing' });
    expect(checkModulePath(dir, [])).toMatchObject({ ok: false, problem: 'not-a-file' });
  });

  it('refuse a folder on the way that every user or a group can write, naming it and its mode', () => {
    const { dir, file } = safe();
    chmodSync(dir, 0o777);
    expect(refusal(file)).toBe(`${dir} can be changed by every user of this workstation (mode 0777)`);
    chmodSync(dir, 0o775);
    expect(refusal(file)).toMatch(new RegExp(`^${dir} can be changed by the members of group id 0 \\(mode 0775\\)`));
  });

  it('refuse a file or a folder that a desktop user owns, and a library file others may write', () => {
    const owned = safe();
    chownSync(owned.file, NOBODY, NOBODY);
    expect(refusal(owned.file)).toBe(`${owned.file} belongs to user id ${NOBODY}, not root: that user could replace the library`);
    const folder = safe();
    chownSync(folder.dir, NOBODY, NOBODY);
    expect(refusal(folder.file)).toMatch(new RegExp(`^${folder.dir} belongs to user id ${NOBODY}`));
    const writable = safe();
    chmodSync(writable.file, 0o666);
    expect(refusal(writable.file)).toMatch(/can be changed by every user of this workstation \(mode 0666\)/);
  });

  it('accept a root-owned entry in a sticky world-writable folder, but not a desktop user\'s entry there', () => {
    const { dir } = safe();
    const sticky = join(dir, 'shared');
    mkdirSync(sticky);
    chmodSync(sticky, 0o1777);
    const rootFile = join(sticky, 'libroot.so');
    writeFileSync(rootFile, 'x', { mode: 0o755 });
    expect(checkModulePath(rootFile, [])).toMatchObject({ ok: true });
    const userFile = join(sticky, 'libuser.so');
    writeFileSync(userFile, 'x', { mode: 0o755 });
    chownSync(userFile, NOBODY, NOBODY);
    expect(refusal(userFile)).toMatch(/belongs to user id 65534/);
  });

  it('follow symbolic links: a safe link to an unsafe file, and an unsafe folder holding a link to a safe file, are both refused', () => {
    const target = safe();
    chmodSync(target.dir, 0o777);
    const links = safe();
    symlinkSync(target.file, join(links.dir, 'liblink.so'));
    expect(refusal(join(links.dir, 'liblink.so'))).toMatch(/can be changed by every user/);
    const open = safe();
    chmodSync(open.dir, 0o777);
    symlinkSync(SOFTHSM, join(open.dir, 'libsofthsm2.so'));
    expect(refusal(join(open.dir, 'libsofthsm2.so'))).toBe(`${open.dir} can be changed by every user of this workstation (mode 0777)`);
  });

  it('refuse a module on removable media, or one whose link leads there, before looking any further', () => {
    const media = safe();
    const elsewhere = safe();
    symlinkSync(media.file, join(elsewhere.dir, 'libonstick.so'));
    expect(refusal(media.file, ['/media', media.dir])).toBe(`it lies on removable media (${media.dir}): whoever holds the medium could change it`);
    expect(refusal(join(elsewhere.dir, 'libonstick.so'), [media.dir])).toMatch(/^it leads to removable media/);
    expect(refusal('/media/usb/libpkcs11.so', ['/media'])).toMatch(/^it lies on removable media \(\/media\)/);
    expect(refusal('/run/media/officer/STICK/libpkcs11.so', ['/run/media'])).toMatch(/removable media/);
    // A folder whose name merely begins like a media folder is not one.
    expect(checkModulePath(media.file, [`${media.dir}x`])).toMatchObject({ ok: true });
  });
});

describe.runIf(asRoot)('the administrator\'s list of modules', () => {
  const approved = (file: string, labModule: string | null = null): ApprovedModules => new ApprovedModules({ file, labModule, removable: () => ['/media', '/mnt'] });

  function listFile(content: string): { dir: string; file: string } {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-list-'));
    chmodSync(dir, 0o755);
    const file = join(dir, 'modules.json');
    writeFileSync(file, content, { mode: 0o644 });
    return { dir, file };
  }

  it('says plainly when there is no list and what the administrator must do; the lab\'s module is still offered', () => {
    const view = approved('/nonexistent/tessera/modules.json', SOFTHSM).list();
    expect(view.problem).toMatch(/^There is no list of approved modules at \/nonexistent\/tessera\/modules\.json\. The workstation's administrator must create it, owned by root/);
    expect(view.modules).toEqual([{ name: 'Training lab (SoftHSM2)', path: SOFTHSM, source: 'lab', refusal: null }]);
  });

  it('lists the administrator\'s modules with the reason any of them is refused', () => {
    const { dir } = safe();
    const unsafe = safe();
    chmodSync(unsafe.dir, 0o777);
    copyFileSync(SOFTHSM, join(dir, 'libgood.so'));
    const { file } = listFile(JSON.stringify({ modules: [{ name: 'Good', path: join(dir, 'libgood.so') }, { name: 'Open', path: unsafe.file }, { name: 'Stick', path: '/media/usb/lib.so' }] }));
    const view = approved(file, SOFTHSM).list();
    expect(view.problem).toBeNull();
    expect(view.modules.map((m) => [m.name, m.source, m.refusal])).toEqual([
      ['Good', 'administrator', null],
      ['Open', 'administrator', `${unsafe.dir} can be changed by every user of this workstation (mode 0777)`],
      ['Stick', 'administrator', 'it lies on removable media (/media): whoever holds the medium could change it'],
      ['Training lab (SoftHSM2)', 'lab', null],
    ]);
  });

  it('does not use a list that a desktop user owns, or a group or everyone can write, and says why', () => {
    const content = JSON.stringify({ modules: [{ name: 'Vendor', path: SOFTHSM }] });
    const owned = listFile(content);
    chownSync(owned.file, NOBODY, NOBODY);
    expect(approved(owned.file).list()).toMatchObject({ problem: expect.stringMatching(new RegExp(`is not used: ${owned.file} belongs to user id ${NOBODY}`)), modules: [] });
    const writable = listFile(content);
    chmodSync(writable.file, 0o664);
    expect(approved(writable.file).list().problem).toMatch(/can be changed by the members of group id 0 \(mode 0664\)/);
    const folder = listFile(content);
    chmodSync(folder.dir, 0o777);
    expect(approved(folder.file).list().problem).toMatch(/can be changed by every user/);
    expect(approved(listFile('{"modules": [').file).list().problem).toMatch(/not valid JSON/);
    expect(approved(listFile('{"modules": [{"name": "x"}]}').file).list().problem).toMatch(/not in the expected form \(modules\.0\.path\)/);
  });

  it('refuses a path that is not on the list when only listed modules may be used, and an unsafe path in any case', async () => {
    const { file } = listFile(JSON.stringify({ modules: [] }));
    const other = safe();
    const refused = await approved(file, SOFTHSM).admit(other.file, { listedOnly: true, probe: false }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(TesseraError);
    expect(refused).toMatchObject({ code: 'MODULE_NOT_ALLOWED', message: `The module ${other.file} is not on this workstation's list of approved PKCS#11 modules. Choose a module from the list, or ask the workstation's administrator to add it.` });
    expect(await approved(file, SOFTHSM).admit(other.file, { listedOnly: false, probe: false })).toBeNull();
    chmodSync(other.dir, 0o777);
    await expect(approved(file).admit(other.file, { listedOnly: false, probe: false })).rejects.toMatchObject({ code: 'MODULE_NOT_ALLOWED', message: expect.stringMatching(/is refused: .* can be changed by every user/) });
    await expect(approved(file).admit(join(other.dir, 'none.so'), { listedOnly: false, probe: false })).rejects.toMatchObject({ code: 'MODULE_NOT_FOUND' });
  });

  it('answers an admission started ahead (the command line\'s) with that admission\'s answer, a refusal included, once, and never a stricter question', async () => {
    const { file } = listFile(JSON.stringify({ modules: [] }));
    const { dir } = safe();
    const gate = approved(file);
    const later = join(dir, 'libsoon.so');
    expect(() => gate.startAdmission(later, false)).not.toThrow();
    // The module appears after the admission started: the answer is the one given when it started.
    copyFileSync(SOFTHSM, later);
    await expect(gate.admit(later, { listedOnly: false, probe: true })).rejects.toMatchObject({ code: 'MODULE_NOT_FOUND' });
    // Taken once: the next admission checks again.
    expect(await gate.admit(later, { listedOnly: false, probe: false })).toBeNull();
    // Started for the command line (any safe module), asked for the window (listed modules only): asked afresh, and refused.
    gate.startAdmission(join(dir, 'none.so'), false);
    await expect(gate.admit(join(dir, 'none.so'), { listedOnly: true, probe: true })).rejects.toMatchObject({ code: 'MODULE_NOT_ALLOWED' });
  });
});
