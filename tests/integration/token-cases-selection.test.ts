// Choosing the partition and where settings come from, on the shared token cases (issue 13):
// case 05 (two tokens labelled "Partition A", one "Partition B", each "A" holding a data object
// naming its serial) and case 13 (an empty token directory, a missing config, a config naming a
// missing token directory, and a decoy lab found through TESSERA_LAB_DIR whose D-Bus address is a
// private keyring). The cases build their own SoftHSM2 folders: the training lab is not used, and
// every CLI run gets an environment built here (nothing of the lab's leaks in from this process).
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEntryView, ObjectSummary, PartitionView } from '../../src/shared/types';
import { markUserPinFinalTry } from '../lab/token-flags';
import { root } from './support';

const CASES = fileURLToPath(new URL('../token-cases', import.meta.url));
const MODULE = '/usr/lib/softhsm/libsofthsm2.so';
const USER_PIN = 'user-pin-1234';

let out: string;
let case05: string;
let case13: string;
let decoyLab: string;
let keyringAddress: string;

beforeAll(() => {
  out = mkdtempSync(join(tmpdir(), 'tessera-cases-'));
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: out, CASES_OUT: out };
  for (const name of ['05-duplicate-token-labels', '13-no-token-and-config']) execFileSync('bash', [join(CASES, name, 'setup.sh')], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  case05 = join(out, '05-duplicate-token-labels');
  case13 = join(out, '13-no-token-and-config');
  decoyLab = join(case13, 'decoy-lab');
  keyringAddress = readFileSync(join(out, '_keyring', 'address'), 'utf8').trim();
}, 120_000);

afterAll(() => {
  // The private D-Bus and keyring of case 13, stopped by the PIDs the script recorded.
  if (out) {
    execFileSync('bash', [join(CASES, 'lib', 'keyring.sh'), 'stop'], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', CASES_OUT: out } });
    rmSync(out, { recursive: true, force: true });
  }
});

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** `tessera` as its own process with exactly this environment (plus PATH and a private HOME); `pin` becomes descriptor 3. */
function tessera(args: string[], env: Record<string, string>, pin?: string): Run {
  const home = mkdtempSync(join(tmpdir(), 'tessera-user-'));
  const fds: number[] = [];
  if (pin !== undefined) {
    writeFileSync(join(home, 'pin'), pin, { mode: 0o600 });
    fds.push(openSync(join(home, 'pin'), 'r'));
  }
  try {
    const result = spawnSync(process.execPath, [join(root, 'bin', 'tessera.js'), ...args], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, XDG_DATA_HOME: join(home, 'data'), ...env },
      stdio: ['ignore', 'pipe', 'pipe', ...fds],
      encoding: 'utf8',
      timeout: 60_000,
    });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
  } finally {
    fds.forEach((fd) => closeSync(fd));
    rmSync(home, { recursive: true, force: true });
  }
}

/** Label and serial of every initialised token, as OpenSC's pkcs11-tool (an independent client) lists them. */
function tokensByPkcs11Tool(softhsmConf: string): { label: string; serial: string; flags: string }[] {
  const text = execFileSync('pkcs11-tool', ['--module', MODULE, '--list-token-slots'], { env: { PATH: process.env.PATH ?? '', SOFTHSM2_CONF: softhsmConf }, encoding: 'utf8' });
  return text
    .split(/\nSlot /)
    .map((block) => ({ label: /token label\s+: (.*)/.exec(block)?.[1]?.trim(), serial: /serial num\s+: (.*)/.exec(block)?.[1]?.trim(), flags: /token flags\s+: (.*)/.exec(block)?.[1] ?? '' }))
    .filter((t): t is { label: string; serial: string; flags: string } => t.label !== undefined && t.serial !== undefined);
}

/** The keychain accounts the Secret Service at this D-Bus address holds for Tessera, read by keytar in a separate process. */
function keychainAccounts(address: string): string[] {
  const script = "const k = require('keytar'); k.findCredentials('Tessera').then((c) => process.stdout.write(JSON.stringify(c.map((x) => x.account))));";
  return JSON.parse(execFileSync(process.execPath, ['-e', script], { cwd: root, env: { PATH: process.env.PATH ?? '', DBUS_SESSION_BUS_ADDRESS: address }, encoding: 'utf8' })) as string[];
}

describe('case 05: two partitions labelled "Partition A"', () => {
  const env = (): Record<string, string> => ({ SOFTHSM2_CONF: join(case05, 'softhsm2.conf'), TESSERA_HOME: mkdtempSync(join(tmpdir(), 'tessera-home-')), TESSERA_LAB_DIR: join(out, 'no-lab'), DBUS_SESSION_BUS_ADDRESS: keyringAddress });
  const twins = (): string[] => tokensByPkcs11Tool(join(case05, 'softhsm2.conf')).filter((t) => t.label === 'Partition A').map((t) => t.serial);

  it('reaches each of them by --serial alone, and each lists its own data object naming its serial', () => {
    const serials = twins();
    expect(serials).toHaveLength(2);
    for (const serial of serials) {
      const status = tessera(['status', '--module', MODULE, '--serial', serial, '--json'], env());
      expect(status.stderr).toBe('');
      expect((JSON.parse(status.stdout) as PartitionView).token).toMatchObject({ label: 'Partition A', serial });
      const objects = tessera(['objects', '--module', MODULE, '--serial', serial, '--json'], env());
      expect(objects.status).toBe(0);
      const data = (JSON.parse(objects.stdout) as ObjectSummary[]).filter((o) => o.class === 'data').map((o) => o.label);
      expect(data).toHaveLength(1);
      expect(data[0]).toMatch(new RegExp(`^in-token-\\d-serial-${serial}$`));
    }
  });

  it('takes --token and --serial together when they name the same partition, and refuses them when they do not, listing label and serial', () => {
    const [first] = twins() as [string];
    const partitionB = tokensByPkcs11Tool(join(case05, 'softhsm2.conf')).find((t) => t.label === 'Partition B')?.serial as string;
    const agree = tessera(['status', '--module', MODULE, '--token', 'Partition A', '--serial', first, '--json'], env());
    expect(agree.status).toBe(0);
    expect((JSON.parse(agree.stdout) as PartitionView).token.serial).toBe(first);
    const disagree = tessera(['status', '--module', MODULE, '--token', 'Partition B', '--serial', first], env());
    expect(disagree.status).toBe(1);
    expect(disagree.stderr).toContain(`The partition with serial ${first} is labelled "Partition A", not "Partition B"`);
    expect(disagree.stderr).toContain(`"Partition B" (serial ${partitionB})`);
    expect(disagree.stdout).toBe('');
  });

  it('refuses the shared label alone, naming --serial and both partitions by label and serial', () => {
    const [a, b] = twins() as [string, string];
    const result = tessera(['status', '--module', MODULE, '--token', 'Partition A'], env());
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('Several partitions are labelled "Partition A"; choose one by serial with --serial SERIAL');
    expect(result.stderr).toContain(`"Partition A" (serial ${a})`);
    expect(result.stderr).toContain(`"Partition A" (serial ${b})`);
    const none = tessera(['status', '--module', MODULE], env());
    expect(none.status).toBe(1);
    expect(none.stderr).toMatch(/Choose a partition with --token LABEL or with --serial SERIAL\. This module's partitions: /);
  });

  it('does not try a crypto-officer PIN on the final try without --final-try, and tries it with it', () => {
    const conf = join(case05, 'softhsm2.conf');
    const serial = tokensByPkcs11Tool(conf).find((t) => t.label === 'Partition B')?.serial as string;
    markUserPinFinalTry(conf, serial);
    const flags = (): string => tokensByPkcs11Tool(conf).find((t) => t.serial === serial)?.flags ?? '';
    expect(flags()).toContain('final user PIN try');
    expect(flags()).not.toContain('user PIN count low');
    const settings = env();
    const refused = tessera(['objects', '--module', MODULE, '--token', 'Partition B', '--login', '--pin-fd', '3'], settings, 'not-the-pin\n');
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/^tessera: One try is left: the partition says the next wrong crypto-officer PIN locks the crypto officer out\. The PIN was not tried\. If you are sure of the PIN, give --final-try to use the last try; otherwise have a security officer reset the crypto-officer PIN first\./);
    expect(refused.stderr).not.toContain('not-the-pin');
    // Not tried: SoftHSM2 marks every wrong PIN it is given with "user PIN count low".
    expect(flags()).not.toContain('user PIN count low');
    const audit = JSON.parse(tessera(['audit', 'list', '--json'], settings).stdout) as AuditEntryView[];
    expect(audit[0]).toMatchObject({ action: 'partition.login', outcome: 'refused', details: { error: 'PIN_FINAL_TRY' } });

    const tried = tessera(['objects', '--module', MODULE, '--token', 'Partition B', '--login', '--pin-fd', '3', '--final-try', '--json'], settings, `${USER_PIN}\n`);
    expect(tried.stderr).toBe('');
    expect(tried.status).toBe(0);
    const after = JSON.parse(tessera(['audit', 'list', '--json'], settings).stdout) as AuditEntryView[];
    expect(after.map((e) => `${e.action}:${e.outcome}`)).toContain('partition.login:ok');
  });
});

describe('case 13: an empty module, a broken SoftHSM2 config, settings from where the user said', () => {
  const noLab = (): Record<string, string> => ({ TESSERA_LAB_DIR: join(out, 'no-lab'), TESSERA_HOME: mkdtempSync(join(tmpdir(), 'tessera-home-')) });

  it('says the module has no initialised partition and how many slots await initialisation', () => {
    const result = tessera(['status', '--module', MODULE], { ...noLab(), SOFTHSM2_CONF: join(case13, 'softhsm2.conf') });
    expect(result.status).toBe(1);
    expect(result.stderr.trim()).toBe("tessera: This module has no initialised partition (and 1 slot awaits initialisation): a partition must be initialised with the HSM's own tools first.");
  });

  it('says the module failed to start, naming the config it was given and its missing token directory', () => {
    const conf = join(case13, 'missing-tokendir.conf');
    const result = tessera(['status', '--module', MODULE], { ...noLab(), SOFTHSM2_CONF: conf });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`tessera: The PKCS#11 module failed to start (C_Initialize: CKR_GENERAL_ERROR). Module ${MODULE}. It was given SOFTHSM2_CONF=${conf} (readable), whose token directory (directories.tokendir) ${join(case13, 'no-such-dir')} does not exist.`);
    expect(result.stderr).not.toContain('The HSM reported a general error');
    const missing = join(case13, 'no-such-file.conf');
    expect(existsSync(missing)).toBe(false);
    const gone = tessera(['status', '--module', MODULE], { ...noLab(), SOFTHSM2_CONF: missing });
    expect(gone.status).toBe(1);
    expect(gone.stderr).toContain(`The PKCS#11 module failed to start (C_Initialize: CKR_GENERAL_ERROR). Module ${MODULE}. It was given SOFTHSM2_CONF=${missing}, which does not exist.`);
  });

  it('with --module given and SOFTHSM2_CONF unset, never uses the lab\'s token store', () => {
    const decoySerial = tokensByPkcs11Tool(join(decoyLab, 'softhsm', 'softhsm2.conf'))[0]?.serial as string;
    // The decoy is a lab the CLI recognises: without --module it works on it.
    const onLab = tessera(['status', '--json'], { TESSERA_LAB_DIR: decoyLab });
    expect(onLab.stderr).toBe('');
    expect((JSON.parse(onLab.stdout) as PartitionView).token).toMatchObject({ label: 'Decoy Lab', serial: decoySerial });
    const explicit = tessera(['status', '--module', MODULE, '--token', 'Decoy Lab'], { TESSERA_LAB_DIR: decoyLab });
    expect(explicit.status).toBe(1);
    expect(explicit.stderr).toMatch(/^tessera: No partition labelled "Decoy Lab" is available through this module\./);
    expect(explicit.stderr).not.toContain(decoySerial);
  });

  it('with another TESSERA_HOME and no D-Bus session, fails with KEYCHAIN_UNAVAILABLE saying what to set, and writes nothing into the lab\'s keyring', () => {
    const home = mkdtempSync(join(tmpdir(), 'tessera-home-'));
    const env = { TESSERA_LAB_DIR: decoyLab, TESSERA_HOME: home, SOFTHSM2_CONF: join(decoyLab, 'softhsm', 'softhsm2.conf') };
    const result = tessera(['objects', '--login', '--pin-fd', '3', '--json'], env, `${USER_PIN}\n`);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/^tessera: The keychain of this workstation cannot be reached, so the terminal cannot keep its audit log: DBUS_SESSION_BUS_ADDRESS is not set\. Set it to the D-Bus session/);
    expect(result.stderr).not.toContain(USER_PIN);
    const accounts = keychainAccounts(keyringAddress);
    expect(accounts.filter((a) => a.includes(home))).toEqual([]);
  });
});
