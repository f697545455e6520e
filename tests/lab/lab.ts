// The training lab: a private SoftHSM2 partition with sample keys, pcscd with virtual readers and
// emulated officer cards that can be inserted and removed by name, a D-Bus session with a Secret
// Service for the keychain, and a folder standing in for a USB stick. Every process it starts is
// recorded by PID and stopped by PID. The state lives in <lab dir>/lab.json, which the app and the
// CLI read to default to the lab (src/core/config/lab-profile.ts).
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync, closeSync, copyFileSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { labDir as defaultLabDir } from '../../src/core/config/lab-profile';
import { seedPartition, tokenSerial } from './seed';

export const LAB_TOKEN_LABEL = 'Tessera Lab';
export const LAB_SO_PIN = 'lab-so-pin-8462';
export const LAB_USER_PIN = 'lab-user-pin-3197';
export const KEYRING_PASSWORD = 'tessera-lab-keyring';
export const HOLDERS = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace'];
export const SOFTHSM_MODULE = '/usr/lib/softhsm/libsofthsm2.so';
const VPCD_DRIVER = '/usr/lib/pcsc/drivers/serial/libifdvpcd.so.0.8';
const VICC_PYTHONPATH = '/usr/lib/python3/site-packages/virtualsmartcard';
const CRYPTODOME = '/usr/lib/python3/dist-packages/Cryptodome';
const PCSCD_SOCKET = '/run/pcscd/pcscd.comm';
/** vpcd listens on two consecutive ports per driver entry: readers "… 00 00" and "… 00 01". */
const VPCD_BASE_PORT = 0x8c7b;
const VPCD_ENTRIES = 3;
const here = dirname(fileURLToPath(import.meta.url));

export interface CardRecord {
  holder: string;
  pid: number | null;
  reader: string | null;
  port: number | null;
}

export interface LabState {
  modulePath: string;
  softhsmConf: string;
  tokenLabel: string;
  soPin: string;
  userPin: string;
  home: string;
  mediaDir: string;
  dbusAddress: string | null;
  pids: { pcscd: number | null; dbus: number | null; keyring: number | null };
  cards: CardRecord[];
}

export interface ReaderSlot {
  name: string;
  port: number;
}

export class LabError extends Error {}

export function readers(): ReaderSlot[] {
  const out: ReaderSlot[] = [];
  for (let i = 0; i < VPCD_ENTRIES; i++) {
    const port = VPCD_BASE_PORT + 2 * i;
    out.push({ name: `Tessera Lab Reader ${i} 00 00`, port }, { name: `Tessera Lab Reader ${i} 00 01`, port: port + 1 });
  }
  return out;
}

export class Lab {
  readonly dir: string;

  constructor(dir = defaultLabDir() ?? resolve(here, '../../.lab')) {
    this.dir = resolve(dir);
  }

  private path(...parts: string[]): string {
    return join(this.dir, ...parts);
  }

  get stateFile(): string {
    return this.path('lab.json');
  }

  private fresh(): LabState {
    return {
      modulePath: SOFTHSM_MODULE,
      softhsmConf: this.path('softhsm', 'softhsm2.conf'),
      tokenLabel: LAB_TOKEN_LABEL,
      soPin: LAB_SO_PIN,
      userPin: LAB_USER_PIN,
      home: this.path('home'),
      mediaDir: this.path('media', 'USB-STICK'),
      dbusAddress: null,
      pids: { pcscd: null, dbus: null, keyring: null },
      cards: HOLDERS.map((holder) => ({ holder, pid: null, reader: null, port: null })),
    };
  }

  state(): LabState {
    if (!existsSync(this.stateFile)) return this.fresh();
    return JSON.parse(readFileSync(this.stateFile, 'utf8')) as LabState;
  }

  private save(state: LabState): void {
    mkdirSync(this.dir, { recursive: true });
    writeFileSync(`${this.stateFile}.tmp`, `${JSON.stringify(state, null, 2)}\n`);
    renameSync(`${this.stateFile}.tmp`, this.stateFile);
  }

  /** Shell-free environment for tools that must reach the lab's tokens and keychain. */
  env(state = this.state()): Record<string, string> {
    const env: Record<string, string> = {
      SOFTHSM2_CONF: state.softhsmConf,
      TESSERA_LAB_DIR: this.dir,
      TESSERA_HOME: state.home,
      TESSERA_PKCS11_MODULE: state.modulePath,
    };
    if (state.dbusAddress) env.DBUS_SESSION_BUS_ADDRESS = state.dbusAddress;
    return env;
  }

  // ---- up / down / reset ----

  async up(): Promise<LabState> {
    checkPrerequisites();
    return this.locked(async () => {
      const state = this.state();
      mkdirSync(this.dir, { recursive: true });
      this.ensureSofthsm(state);
      await this.ensurePcscd(state);
      await this.ensureKeychain(state);
      mkdirSync(state.mediaDir, { recursive: true });
      mkdirSync(state.home, { recursive: true, mode: 0o700 });
      for (const card of state.cards) if (card.pid !== null && !isAlive(card.pid, 'card.py')) Object.assign(card, { pid: null, reader: null, port: null });
      this.save(state);
      return state;
    });
  }

  async down(): Promise<void> {
    await this.locked(async () => {
      const state = this.state();
      for (const card of state.cards) {
        if (card.pid !== null) await stopProcess(card.pid, 'card.py');
        Object.assign(card, { pid: null, reader: null, port: null });
      }
      if (state.pids.keyring !== null) await stopProcess(state.pids.keyring, 'gnome-keyring');
      if (state.pids.dbus !== null) await stopProcess(state.pids.dbus, 'dbus-daemon');
      if (state.pids.pcscd !== null) await stopProcess(state.pids.pcscd, 'pcscd');
      state.pids = { pcscd: null, dbus: null, keyring: null };
      state.dbusAddress = null;
      if (existsSync(this.dir)) this.save(state);
    });
  }

  async reset(): Promise<LabState> {
    await this.down();
    for (const part of ['softhsm', 'cards', 'keyring', 'run', 'media', 'home', 'lab.json']) rmSync(this.path(part), { recursive: true, force: true });
    return this.up();
  }

  // ---- SoftHSM2 ----

  private ensureSofthsm(state: LabState): void {
    const tokens = this.path('softhsm', 'tokens');
    mkdirSync(tokens, { recursive: true, mode: 0o700 });
    writeFileSync(state.softhsmConf, `directories.tokendir = ${tokens}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n`);
    if (readdirSync(tokens).length > 0) return;
    this.initToken(state, LAB_TOKEN_LABEL);
    seedPartition(state.modulePath, state.softhsmConf, LAB_TOKEN_LABEL, LAB_USER_PIN);
  }

  private initToken(state: LabState, label: string): void {
    execFileSync('softhsm2-util', ['--init-token', '--free', '--label', label, '--so-pin', state.soPin, '--pin', state.userPin], {
      env: { ...process.env, SOFTHSM2_CONF: state.softhsmConf },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
  }

  /** One more empty partition in the same SoftHSM2 directory, with the lab's known PINs. */
  async newPartition(label: string): Promise<{ label: string; serial: string; soPin: string; userPin: string; modulePath: string; softhsmConf: string }> {
    if (!label || Buffer.byteLength(label) > 32) throw new LabError('A partition label must have 1 to 32 bytes.');
    return this.locked(async () => {
      const state = this.requireUp();
      if (tokenSerial(state.softhsmConf, label) !== null) throw new LabError(`A partition labelled "${label}" exists already.`);
      this.initToken(state, label);
      const serial = tokenSerial(state.softhsmConf, label) as string;
      return { label, serial, soPin: state.soPin, userPin: state.userPin, modulePath: state.modulePath, softhsmConf: state.softhsmConf };
    });
  }

  // ---- pcscd and virtual readers ----

  private async ensurePcscd(state: LabState): Promise<void> {
    const readersDir = this.path('pcsc', 'readers.d');
    if (state.pids.pcscd !== null && isAlive(state.pids.pcscd, readersDir)) return;
    const other = findProcess('pcscd');
    if (other !== null) {
      if (!processCommand(other).includes(readersDir)) {
        throw new LabError(`Another pcscd (PID ${other}) is running with other readers. Stop it first: there is one pcscd per machine, and the lab needs its own.`);
      }
      state.pids.pcscd = other;
      return;
    }
    for (const stale of [PCSCD_SOCKET, '/run/pcscd/pcscd.pid']) if (existsSync(stale)) unlinkSync(stale);
    // One copy of the vpcd driver per entry: pcscd shares one loaded driver between entries of the
    // same library path, and vpcd then serves only the last entry's ports.
    const drivers = this.path('pcsc', 'drivers');
    mkdirSync(readersDir, { recursive: true });
    mkdirSync(drivers, { recursive: true });
    for (let i = 0; i < VPCD_ENTRIES; i++) {
      const driver = join(drivers, `libifdvpcd-${i}.so`);
      copyFileSync(VPCD_DRIVER, driver);
      const port = `0x${(VPCD_BASE_PORT + 2 * i).toString(16).toUpperCase()}`;
      writeFileSync(join(readersDir, `reader-${i}.conf`), `FRIENDLYNAME "Tessera Lab Reader ${i}"\nDEVICENAME /dev/null:${port}\nLIBPATH ${driver}\nCHANNELID ${port}\n`);
    }
    mkdirSync('/run/pcscd', { recursive: true });
    const child = this.spawnDetached('pcscd', ['--foreground', '-c', readersDir], 'pcscd.log', {});
    state.pids.pcscd = child.pid ?? null;
    await waitFor(() => existsSync(PCSCD_SOCKET) && readers().every((r) => isListening(r.port)), 10_000, 'pcscd to open its socket and the virtual readers');
  }

  // ---- D-Bus session and Secret Service (gnome-keyring) ----

  private async ensureKeychain(state: LabState): Promise<void> {
    if (state.pids.dbus !== null && isAlive(state.pids.dbus, 'dbus-daemon') && state.pids.keyring !== null && isAlive(state.pids.keyring, 'gnome-keyring') && state.dbusAddress) return;
    if (state.pids.keyring !== null) await stopProcess(state.pids.keyring, 'gnome-keyring');
    if (state.pids.dbus !== null) await stopProcess(state.pids.dbus, 'dbus-daemon');
    const run = this.path('run');
    mkdirSync(run, { recursive: true, mode: 0o700 });
    chmodSync(run, 0o700);
    mkdirSync(this.path('keyring'), { recursive: true, mode: 0o700 });
    const out = execFileSync('dbus-daemon', ['--session', '--fork', '--nopidfile', '--print-address=1', '--print-pid=1', '--address=unix:tmpdir=/tmp'], { encoding: 'utf8' });
    const [address, pid] = out.trim().split('\n');
    state.dbusAddress = address ?? null;
    state.pids.dbus = Number(pid);
    const env = { DBUS_SESSION_BUS_ADDRESS: state.dbusAddress ?? '', XDG_DATA_HOME: this.path('keyring'), XDG_RUNTIME_DIR: run };
    const keyring = this.spawnDetached('gnome-keyring-daemon', ['--foreground', '--unlock', '--components=secrets'], 'keyring.log', env, KEYRING_PASSWORD);
    state.pids.keyring = keyring.pid ?? null;
    await waitFor(() => secretServiceOnBus(state.dbusAddress as string), 10_000, 'the Secret Service to appear on the lab D-Bus');
  }

  // ---- cards ----

  async insert(holder: string): Promise<CardRecord> {
    return this.locked(async () => {
      const state = this.requireUp();
      const card = state.cards.find((c) => c.holder === holder);
      if (!card) throw new LabError(`There is no lab card of "${holder}". Make one with: npm run lab -- card new ${holder}`);
      if (card.pid !== null && isAlive(card.pid, 'card.py')) throw new LabError(`${holder}'s card is already in "${card.reader}".`);
      const busy = new Set(state.cards.filter((c) => c.pid !== null && isAlive(c.pid, 'card.py')).map((c) => c.port));
      const slot = readers().find((r) => !busy.has(r.port));
      if (!slot) throw new LabError('Every lab reader holds a card. Remove one first.');
      // A card whose emulator died is gone only once pcscd has polled the reader.
      await waitFor(() => readerHasCard(slot.name) !== true, 5000, `pcscd to notice the reader "${slot.name}" is empty`);
      mkdirSync(this.path('cards'), { recursive: true });
      const ready = this.path('cards', `${holder}.ready`);
      rmSync(ready, { force: true });
      const child = this.spawnDetached('/usr/bin/python3', [join(here, 'card.py'), '--state', this.path('cards', `${holder}.card`), '--port', String(slot.port), '--ready', ready], join('cards', `${holder}.log`), {
        PYTHONPATH: `${VICC_PYTHONPATH}:${this.pythonShim()}`,
      }, undefined, true); // vicc prints card files as they are created: keep them out of the logs
      Object.assign(card, { pid: child.pid ?? null, reader: slot.name, port: slot.port });
      this.save(state);
      try {
        await waitFor(() => existsSync(ready) && readerHasCard(slot.name) === true, 10_000, `pcscd to take ${holder}'s card`);
      } catch (error) {
        if (card.pid !== null) await stopProcess(card.pid, 'card.py');
        Object.assign(card, { pid: null, reader: null, port: null });
        this.save(state);
        throw error;
      }
      return { ...card };
    });
  }

  async remove(holder: string): Promise<void> {
    await this.locked(async () => {
      const state = this.state();
      const card = state.cards.find((c) => c.holder === holder);
      if (!card) throw new LabError(`There is no lab card of "${holder}".`);
      if (card.pid === null || !isAlive(card.pid, 'card.py')) throw new LabError(`${holder}'s card is not in a reader.`);
      const reader = card.reader;
      await stopProcess(card.pid, 'card.py');
      Object.assign(card, { pid: null, reader: null, port: null });
      this.save(state);
      // vpcd notices a card is gone only at pcscd's next poll; a card put into the same reader
      // before that would pass for the same card, never removed. Wait until PC/SC says it is out.
      if (reader) await waitFor(() => readerHasCard(reader) === false, 5000, `pcscd to notice ${holder}'s card is out`);
    });
  }

  /** Stops pcscd alone, as a crashed or stopped service would (its cards go with it); `up` restarts it. */
  async stopPcscd(): Promise<void> {
    await this.locked(async () => {
      const state = this.state();
      if (state.pids.pcscd !== null) await stopProcess(state.pids.pcscd, 'pcscd');
      state.pids.pcscd = null;
      for (const card of state.cards) if (card.pid !== null && !isAlive(card.pid, 'card.py')) Object.assign(card, { pid: null, reader: null, port: null });
      this.save(state);
    });
  }

  /** Stops the emulator without the lab's bookkeeping: what a crashed or yanked card looks like. */
  killCard(holder: string): void {
    const card = this.state().cards.find((c) => c.holder === holder);
    if (card?.pid != null && isAlive(card.pid, 'card.py')) process.kill(card.pid, 'SIGKILL');
  }

  async newCard(holder: string): Promise<CardRecord> {
    if (!/^[a-z][a-z0-9-]{0,31}$/.test(holder)) throw new LabError('A card holder name has 1 to 32 lowercase letters, digits or dashes, starting with a letter.');
    return this.locked(async () => {
      const state = this.state();
      if (state.cards.some((c) => c.holder === holder)) throw new LabError(`${holder} has a lab card already.`);
      const card: CardRecord = { holder, pid: null, reader: null, port: null };
      state.cards.push(card);
      this.save(state);
      return card;
    });
  }

  /** Makes an existing card blank again (it must be out of the readers). */
  async blankCard(holder: string): Promise<void> {
    await this.locked(async () => {
      const card = this.state().cards.find((c) => c.holder === holder);
      if (!card) throw new LabError(`There is no lab card of "${holder}".`);
      if (card.pid !== null && isAlive(card.pid, 'card.py')) throw new LabError(`Take ${holder}'s card out first.`);
      rmSync(this.path('cards', `${holder}.card`), { force: true });
    });
  }

  status(): Record<string, unknown> {
    const state = this.state();
    const alive = (pid: number | null, marker: string): boolean => pid !== null && isAlive(pid, marker);
    const inserted = (c: CardRecord): boolean => alive(c.pid, 'card.py');
    return {
      labDir: this.dir,
      running: alive(state.pids.pcscd, 'pcscd') && alive(state.pids.keyring, 'gnome-keyring'),
      modulePath: state.modulePath,
      softhsmConf: state.softhsmConf,
      tokenLabel: state.tokenLabel,
      soPin: state.soPin,
      userPin: state.userPin,
      home: state.home,
      mediaDir: state.mediaDir,
      dbusAddress: state.dbusAddress,
      pcscd: { pid: state.pids.pcscd, running: alive(state.pids.pcscd, 'pcscd') },
      keychain: { running: alive(state.pids.keyring, 'gnome-keyring') && alive(state.pids.dbus, 'dbus-daemon') },
      readers: readers().map((r) => ({ name: r.name, card: state.cards.find((c) => c.port === r.port && inserted(c))?.holder ?? null })),
      cards: state.cards.map((c) => ({ holder: c.holder, inserted: inserted(c), reader: inserted(c) ? c.reader : null })),
    };
  }

  // ---- helpers ----

  private requireUp(): LabState {
    const state = this.state();
    if (state.pids.pcscd === null || !isAlive(state.pids.pcscd, 'pcscd')) throw new LabError('The lab is not up. Start it with: npm run lab -- up');
    return state;
  }

  /** vicc imports `Crypto`; Debian ships pycryptodome as `Cryptodome`. */
  private pythonShim(): string {
    const shim = this.path('pyshim');
    mkdirSync(shim, { recursive: true });
    if (!existsSync(join(shim, 'Crypto'))) symlinkSync(CRYPTODOME, join(shim, 'Crypto'));
    return shim;
  }

  /** Starts a lab process on its own; its errors go to `log` (and its output too, unless `quiet`). */
  private spawnDetached(command: string, args: string[], log: string, env: Record<string, string>, stdin?: string, quiet = false): ChildProcess {
    mkdirSync(dirname(this.path(log)), { recursive: true });
    const out = openSync(this.path(log), 'a');
    const child = spawn(command, args, { detached: true, stdio: [stdin === undefined ? 'ignore' : 'pipe', quiet ? 'ignore' : out, out], env: { ...process.env, ...env } });
    closeSync(out);
    if (stdin !== undefined) child.stdin?.end(stdin);
    child.unref();
    return child;
  }

  private async locked<T>(work: () => Promise<T>): Promise<T> {
    const lock = this.path('.lock');
    mkdirSync(this.dir, { recursive: true });
    await waitFor(() => {
      try {
        mkdirSync(lock);
        writeFileSync(join(lock, 'pid'), String(process.pid));
        return true;
      } catch {
        const owner = Number(readFileSync(join(lock, 'pid'), { encoding: 'utf8', flag: 'a+' }) || 0);
        if (owner && !isAlive(owner, '')) rmSync(lock, { recursive: true, force: true });
        return false;
      }
    }, 30_000, 'another lab command to finish');
    try {
      return await work();
    } finally {
      rmSync(lock, { recursive: true, force: true });
    }
  }
}

// ---- processes ----

function processCommand(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return '';
  }
}

/** Alive, not a zombie, and (so a recycled PID is never taken for ours) running what we started. */
export function isAlive(pid: number, marker: string): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    if (/\) Z /.test(stat)) return false;
  } catch {
    return false;
  }
  return processCommand(pid).includes(marker);
}

function findProcess(name: string): number | null {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === name && isAlive(Number(entry), name)) return Number(entry);
    } catch {
      // the process ended while we looked
    }
  }
  return null;
}

async function stopProcess(pid: number, marker: string): Promise<void> {
  if (!isAlive(pid, marker)) return;
  process.kill(pid, 'SIGTERM');
  try {
    await waitFor(() => !isAlive(pid, marker), 3000, `process ${pid} to stop`);
  } catch {
    process.kill(pid, 'SIGKILL');
    await waitFor(() => !isAlive(pid, marker), 3000, `process ${pid} to stop after SIGKILL`);
  }
}

function isListening(port: number): boolean {
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    try {
      if (readFileSync(table, 'utf8').split('\n').some((line) => line.split(/\s+/)[2]?.endsWith(`:${hex}`) && line.split(/\s+/)[4] === '0A')) return true;
    } catch {
      // no IPv6 table on this machine
    }
  }
  return false;
}

/** What PC/SC itself says about a reader (OpenSC's opensc-tool as the client); null if unknown. */
function readerHasCard(reader: string): boolean | null {
  try {
    const out = execFileSync('opensc-tool', ['--list-readers'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const line = out.split('\n').find((l) => l.trimEnd().endsWith(reader));
    return line ? /^\d+\s+Yes\b/.test(line) : null;
  } catch {
    return null;
  }
}

function secretServiceOnBus(address: string): boolean {
  try {
    const reply = execFileSync(
      'dbus-send',
      ['--session', '--print-reply', '--dest=org.freedesktop.DBus', '/org/freedesktop/DBus', 'org.freedesktop.DBus.NameHasOwner', 'string:org.freedesktop.secrets'],
      { env: { ...process.env, DBUS_SESSION_BUS_ADDRESS: address }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] },
    );
    return /boolean true/.test(reply);
  } catch {
    return false;
  }
}

export async function waitFor(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new LabError(`Timed out after ${timeoutMs / 1000} s waiting for ${what}.`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

// ---- prerequisites ----

const prerequisites: [string, string][] = [
  ['/usr/bin/softhsm2-util', 'softhsm2'],
  [SOFTHSM_MODULE, 'softhsm2'],
  ['/usr/sbin/pcscd', 'pcscd'],
  [VPCD_DRIVER, 'vsmartcard-vpcd'],
  [join(VICC_PYTHONPATH, 'virtualsmartcard', 'VirtualSmartcard.py'), 'python3-virtualsmartcard'],
  [CRYPTODOME, 'python3-pycryptodome'],
  ['/usr/bin/dbus-daemon', 'dbus'],
  ['/usr/bin/dbus-send', 'dbus'],
  ['/usr/bin/gnome-keyring-daemon', 'gnome-keyring'],
  ['/usr/bin/pkcs11-tool', 'opensc'],
];

export function checkPrerequisites(): void {
  const missing = [...new Set(prerequisites.filter(([file]) => !existsSync(file)).map(([, pkg]) => pkg))];
  if (missing.length > 0) {
    throw new LabError(`The lab needs these Debian packages, which are not installed: ${missing.join(', ')}. Run ./scripts/setup (as root) first.`);
  }
}
