// Modules loaded safely: the window chooses only from the administrator's list, nothing a desktop
// user could change is loaded, and a library that crashes or hangs when loaded is caught in a
// probe process while the terminal carries on. Misbehaving libraries are built here with cc.
import { type ChildProcess, execFileSync } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Terminal } from '../../src/core/terminal';
import type { ModuleSurvey } from '../../src/core/hsm/module-list';
import { StandbyProbe, probeModule } from '../../src/core/hsm/module-probe';
import { type Dispatcher, createDispatcher } from '../../src/main/dispatch';
import type { ModuleListView, PartitionChoice, PartitionView } from '../../src/shared/types';
import { buildFakeModule, copyOfSoftHsm, linkToSoftHsm, safeFolder, writeModulesFile } from '../lab/fake-modules';
import { lab, tempHome, tessera } from './support';

const NOBODY = 65534;
const CRASHED = 'This library is not a usable PKCS#11 module (it crashed when loaded).';
const ORIGIN = 'app://tessera';
const main = { url: `${ORIGIN}/index.html`, isMainFrame: true };
const state = lab.state();

let crash: string;
let hang: string;
/** A copy of SoftHSM2 in a folder every user may write. */
let openCopy: string;
/** A copy of SoftHSM2 in a root-owned folder given to a desktop user (nobody). */
let usersCopy: string;
/** The lab's module under another name, in a safe folder but not on the list. */
let unlisted: string;
let modulesFile: string;

beforeAll(() => {
  const dir = safeFolder();
  crash = buildFakeModule(dir, 'crash');
  hang = buildFakeModule(dir, 'hang');
  unlisted = linkToSoftHsm(dir);
  const open = safeFolder('tessera-open-');
  chmodSync(open, 0o777);
  openCopy = copyOfSoftHsm(open);
  const users = safeFolder('tessera-user-');
  chownSync(users, NOBODY, NOBODY);
  usersCopy = copyOfSoftHsm(users);
  modulesFile = writeModulesFile(safeFolder('tessera-list-'), [
    { name: 'Crashing module', path: crash },
    { name: 'Hanging module', path: hang },
    { name: 'SoftHSM2 in an open folder', path: openCopy },
    { name: 'SoftHSM2 in a user\'s folder', path: usersCopy },
  ]);
});

describe('tessera --module', () => {
  it('reports a module that crashes when loaded as unusable, and exits 1 itself rather than dying of the signal', () => {
    const result = tessera(['status', '--module', crash], { home: tempHome() });
    expect(result.signal, 'the CLI process was killed by the module').toBeNull();
    expect(result.status).toBe(1);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/^tessera: This library is not a usable PKCS#11 module \(it crashed when loaded\)\. \[probe of .*: signal SIGSEGV\]/);
  });

  it('gives up on a module that does not answer, within the probe\'s time', () => {
    const started = Date.now();
    const result = tessera(['status', '--module', hang], { home: tempHome() });
    expect(result.signal).toBeNull();
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/^tessera: This library is not a usable PKCS#11 module \(it did not answer within 10 seconds\)\./);
    expect(Date.now() - started).toBeLessThan(30_000);
  });

  it('refuses a module that a desktop user could replace, with the reason, and loads nothing', () => {
    const open = tessera(['status', '--module', openCopy], { home: tempHome() });
    expect(open.status).toBe(1);
    expect(open.stderr).toMatch(/^tessera: The module .* is refused: \/tmp\/tessera-open-\w+ can be changed by every user of this workstation \(mode 0777\)\./);
    const owned = tessera(['status', '--module', usersCopy], { home: tempHome() });
    expect(owned.status).toBe(1);
    expect(owned.stderr).toMatch(/is refused: \/tmp\/tessera-user-\w+ belongs to user id 65534, not root: that user could replace the library\./);
  });

  it('still uses a good module named with --module (not on any list: the command line names its module)', () => {
    const result = tessera(['status', '--json', '--module', unlisted, '--token', state.tokenLabel], { home: tempHome() });
    expect(result.stderr).toBe('');
    expect((JSON.parse(result.stdout) as PartitionView).token.label).toBe(state.tokenLabel);
  });
});

describe('the probe started on standby (the CLI starts one before it loads its commands)', () => {
  it('loads the module it is handed in this process\'s environment as it is then, not as it was when the probe started', async () => {
    const saved = process.env.SOFTHSM2_CONF;
    // At the standby's start SoftHSM2 would find no configuration: its C_Initialize would fail.
    process.env.SOFTHSM2_CONF = join(mkdtempSync(join(tmpdir(), 'tessera-noconf-')), 'missing.conf');
    try {
      const standby = new StandbyProbe();
      // Then the terminal settles its settings (the lab's SoftHSM2 config), and hands the probe its module.
      process.env.SOFTHSM2_CONF = state.softhsmConf;
      const probe = await probeModule(state.modulePath, 20_000, standby);
      const tokens = execFileSync('pkcs11-tool', ['--module', state.modulePath, '-T'], { encoding: 'utf8', env: { ...process.env, SOFTHSM2_CONF: state.softhsmConf } }).match(/^Slot \d+ /gm)?.length;
      expect(probe).toMatchObject({ manufacturer: 'SoftHSM', tokens });
      // Taken once: a second probe starts its own process, and answers alike.
      expect(standby.take()).toBeNull();
      expect(await probeModule(state.modulePath, 20_000, standby)).toEqual(probe);
    } finally {
      process.env.SOFTHSM2_CONF = saved;
    }
  });

  it('a standby that died on its own (killed, say) does not speak for the module: the module is probed once more, in a process of its own', async () => {
    const standby = new StandbyProbe();
    // As the OOM killer or a stray kill would: the terminal has not noticed yet when it hands the module over.
    const child = (standby as unknown as { child: ChildProcess }).child;
    await new Promise<void>((done) => {
      child.once('spawn', () => done());
      if (child.pid !== undefined) done();
    });
    process.kill(child.pid as number, 'SIGKILL');
    const probe = await probeModule(state.modulePath, 20_000, standby);
    expect(probe).toMatchObject({ manufacturer: 'SoftHSM' });
    // A module that really crashes still fails, the fresh probe's verdict.
    await expect(probeModule(crash, 20_000, new StandbyProbe())).rejects.toThrow(CRASHED);
  });

  it('a command that needs no module ends its standby, which loads nothing; a refused module is never handed to it', () => {
    for (const args of [['--help'], ['status', '--module', openCopy]]) {
      const trace = join(mkdtempSync(join(tmpdir(), 'tessera-trace-')), 'openat');
      // strace -f waits for every process it follows: a standby left behind would hold the command here.
      const result = tessera(args, { home: tempHome(), under: ['strace', '-f', '-qq', '-e', 'trace=openat', '-o', trace] });
      expect(result.signal).toBeNull();
      expect(result.status).toBe(args[0] === '--help' ? 0 : 1);
      const opened = readFileSync(trace, 'utf8');
      expect(opened, 'the standby probe was started').toMatch(/module-probe\.cjs/);
      expect(opened).not.toMatch(/libsofthsm2\.so|pkcs11\.node/);
    }
  });
});

describe('tessera modules list', () => {
  it('--json: every listed module and the lab\'s, whether it passes the checks and why not, and what its probe found', () => {
    const result = tessera(['modules', 'list', '--json'], { home: tempHome(), env: { TESSERA_MODULES_FILE: modulesFile } });
    expect(result.status).toBe(0);
    const survey = JSON.parse(result.stdout) as ModuleSurvey;
    expect(survey).toMatchObject({ file: modulesFile, fileProblem: null });
    const byName = new Map(survey.modules.map((m) => [m.name, m]));
    expect([...byName.keys()]).toEqual(['Crashing module', 'Hanging module', 'SoftHSM2 in an open folder', 'SoftHSM2 in a user\'s folder', 'Training lab (SoftHSM2)']);
    expect(byName.get('Crashing module')).toEqual({ name: 'Crashing module', path: crash, source: 'administrator', passesChecks: true, reason: null, probe: { usable: false, code: 'MODULE_INVALID', error: CRASHED } });
    expect(byName.get('Hanging module')?.probe).toEqual({ usable: false, code: 'MODULE_INVALID', error: 'This library is not a usable PKCS#11 module (it did not answer within 10 seconds).' });
    expect(byName.get('SoftHSM2 in an open folder')).toMatchObject({ passesChecks: false, reason: expect.stringMatching(/can be changed by every user/), probe: null });
    expect(byName.get('SoftHSM2 in a user\'s folder')).toMatchObject({ passesChecks: false, reason: expect.stringMatching(/belongs to user id 65534/), probe: null });
    expect(byName.get('Training lab (SoftHSM2)')).toEqual({
      name: 'Training lab (SoftHSM2)',
      path: state.modulePath,
      source: 'lab',
      passesChecks: true,
      reason: null,
      probe: { usable: true, description: 'Implementation of PKCS11', manufacturer: 'SoftHSM', libraryVersion: expect.stringMatching(/^2\./), cryptokiVersion: expect.stringMatching(/^2\./), slots: expect.any(Number), tokens: expect.any(Number) },
    });
    const lab = byName.get('Training lab (SoftHSM2)')?.probe;
    expect(lab?.usable && lab.tokens).toBeGreaterThanOrEqual(1);
  });

  it('in words: refusals and probe results; a list file others could change is not used, and says why', () => {
    const text = tessera(['modules', 'list'], { home: tempHome(), env: { TESSERA_MODULES_FILE: modulesFile } });
    expect(text.status).toBe(0);
    expect(text.stdout).toContain(`List of approved modules: ${modulesFile}`);
    expect(text.stdout).toMatch(/SoftHSM2 in an open folder .*\n {2}REFUSED: .* can be changed by every user/);
    expect(text.stdout).toContain(`Crashing module  ${crash}\n  NOT USABLE: ${CRASHED}`);
    expect(text.stdout).toMatch(/Training lab \(SoftHSM2\) .*\(training lab\)\n {2}usable: Implementation of PKCS11 2\.\d+ by SoftHSM, \d+ slot\(s\), \d+ with a token/);

    const shared = writeModulesFile(safeFolder('tessera-list-'), [{ name: 'Crashing module', path: crash }]);
    chmodSync(shared, 0o666);
    const json = JSON.parse(tessera(['modules', 'list', '--json'], { home: tempHome(), env: { TESSERA_MODULES_FILE: shared } }).stdout) as ModuleSurvey;
    expect(json.fileProblem).toBe(`The list of approved modules at ${shared} is not used: ${shared} can be changed by every user of this workstation (mode 0666). The workstation's administrator must make it owned by root and writable by root only.`);
    expect(json.modules.map((m) => m.name)).toEqual(['Training lab (SoftHSM2)']);
  });
});

describe('the window (IPC, as main serves it)', () => {
  let terminal: Terminal;
  let dispatcher: Dispatcher;
  const open = (modulePath: string) => dispatcher.invoke(main, 'hsm:openModule', { modulePath });

  beforeAll(async () => {
    terminal = await Terminal.open({ home: tempHome(), frontEnd: 'gui', defaults: { modulePath: state.modulePath, tokenLabel: state.tokenLabel }, modules: { file: modulesFile, probeTimeoutMs: 2_000 } });
    dispatcher = createDispatcher(terminal, { origin: ORIGIN, app: { version: 'test', lab: null } });
  });
  afterAll(() => terminal.close());

  /** The terminal still answers, and still serves the lab's partition. */
  async function stillAnswers(): Promise<void> {
    const choice = await open(state.modulePath);
    expect(choice.ok && (choice.value as PartitionChoice).tokens.map((t) => t.label)).toContain(state.tokenLabel);
  }

  it('offers the administrator\'s list and the lab\'s module, with the reason any is refused', async () => {
    const result = await dispatcher.invoke(main, 'hsm:modules', {});
    expect(result.ok).toBe(true);
    const view = (result as { value: ModuleListView }).value;
    expect(view.problem).toBeNull();
    expect(view.modules.map((m) => [m.path, m.refusal === null])).toEqual([
      [crash, true],
      [hang, true],
      [openCopy, false],
      [usersCopy, false],
      [state.modulePath, true],
    ]);
  });

  it('refuses a path that is not on the list, though the library itself is fine', async () => {
    expect(await open(unlisted)).toEqual({
      ok: false,
      error: { code: 'MODULE_NOT_ALLOWED', message: `The module ${unlisted} is not on this workstation's list of approved PKCS#11 modules. Choose a module from the list, or ask the workstation's administrator to add it.` },
    });
    expect(await dispatcher.invoke(main, 'hsm:select', { modulePath: unlisted, serial: '0000000000000000' })).toMatchObject({ ok: false, error: { code: 'MODULE_NOT_ALLOWED' } });
    expect(terminal.audit.list(20).find((e) => e.action === 'module.refused' && e.target === unlisted)).toMatchObject({ outcome: 'refused', details: { error: 'MODULE_NOT_ALLOWED' } });
  });

  it('reports a listed module that crashes when loaded, and carries on', async () => {
    const result = await open(crash);
    expect(result).toMatchObject({ ok: false, error: { code: 'MODULE_INVALID', message: CRASHED, detail: expect.stringMatching(/signal SIGSEGV/) } });
    await stillAnswers();
    expect(terminal.audit.list(20).find((e) => e.action === 'module.refused' && e.target === crash)).toMatchObject({ outcome: 'refused', details: { error: 'MODULE_INVALID', reason: CRASHED } });
  });

  it('gives up on a listed module that hangs, within the probe\'s time, and carries on', async () => {
    const started = Date.now();
    expect(await open(hang)).toMatchObject({ ok: false, error: { code: 'MODULE_INVALID', message: 'This library is not a usable PKCS#11 module (it did not answer within 2 seconds).' } });
    expect(Date.now() - started).toBeLessThan(10_000);
    await stillAnswers();
  });

  it('refuses a listed module that a desktop user could replace, with the reason', async () => {
    expect(await open(openCopy)).toMatchObject({ ok: false, error: { code: 'MODULE_NOT_ALLOWED', message: expect.stringMatching(/is refused: \/tmp\/tessera-open-\w+ can be changed by every user of this workstation \(mode 0777\)\.$/) } });
    expect(await open(usersCopy)).toMatchObject({ ok: false, error: { code: 'MODULE_NOT_ALLOWED', message: expect.stringMatching(/belongs to user id 65534, not root/) } });
  });

  it('does not use a list file a desktop user owns: only the lab\'s module is offered, and the reason is shown', async () => {
    const owned = writeModulesFile(safeFolder('tessera-list-'), [{ name: 'Crashing module', path: crash }]);
    chownSync(owned, NOBODY, NOBODY);
    const other = await Terminal.open({ home: tempHome(), frontEnd: 'gui', modules: { file: owned } });
    try {
      const gui = createDispatcher(other, { origin: ORIGIN, app: { version: 'test', lab: null } });
      const view = (await gui.invoke(main, 'hsm:modules', {})) as { ok: true; value: ModuleListView };
      expect(view.value.problem).toMatch(new RegExp(`^The list of approved modules at ${owned} is not used: ${owned} belongs to user id 65534`));
      expect(view.value.modules.map((m) => m.source)).toEqual(['lab']);
      const refused = await gui.invoke(main, 'hsm:openModule', { modulePath: crash });
      expect(refused).toMatchObject({ ok: false, error: { code: 'MODULE_NOT_ALLOWED', message: expect.stringContaining('is not used: ') } });
    } finally {
      await other.close();
    }
  });

  it('does not use a module remembered in the database that is not on the list, and says why', async () => {
    const home = tempHome();
    // The command line may name any safe module; it remembers the choice in the terminal's database.
    const cli = tessera(['status', '--json', '--module', unlisted, '--token', state.tokenLabel], { home });
    expect(cli.status).toBe(0);
    const gui = await Terminal.open({ home, frontEnd: 'gui', modules: { file: modulesFile } });
    try {
      const current = await createDispatcher(gui, { origin: ORIGIN, app: { version: 'test', lab: null } }).invoke(main, 'hsm:current', {});
      expect(current).toMatchObject({ ok: false, error: { code: 'MODULE_NOT_ALLOWED', message: `The module chosen last time is not used. The module ${unlisted} is not on this workstation's list of approved PKCS#11 modules. Choose a module from the list, or ask the workstation's administrator to add it.` } });
    } finally {
      await gui.close();
    }
  });
});
