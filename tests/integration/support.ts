// Shared helpers for the integration tests: the lab, fresh terminal homes, and independent
// clients (OpenSC's pkcs11-tool, the CLI as a separate process) to check what core did.
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Terminal } from '../../src/core/terminal';
import type { FrontEnd } from '../../src/core/partition/partition-service';
import { Lab } from '../lab/lab';

export const lab = new Lab();
export const root = resolve(import.meta.dirname, '../..');

export function tempHome(): string {
  return mkdtempSync(join(tmpdir(), 'tessera-home-'));
}

export function openTerminal(home = tempHome(), frontEnd: FrontEnd = 'cli'): Promise<Terminal> {
  const state = lab.state();
  return Terminal.open({ home, frontEnd, defaults: { modulePath: state.modulePath, tokenLabel: state.tokenLabel } });
}

export function pkcs11Tool(args: string[]): string {
  const state = lab.state();
  return execFileSync('pkcs11-tool', ['--module', state.modulePath, ...args], { env: { ...process.env, SOFTHSM2_CONF: state.softhsmConf }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Token flags as OpenSC's pkcs11-tool prints them (e.g. "SO PIN count low"), for the partition with this serial. */
export function tokenFlags(serial: string): string {
  const block = pkcs11Tool(['--list-token-slots']).split(/\nSlot /).find((b) => b.includes(`serial num         : ${serial}`));
  return /token flags\s+: (.*)/.exec(block ?? '')?.[1] ?? '';
}

/** Whether `role` logs in to the partition labelled `label` with this PIN, through pkcs11-tool (an independent client; a wrong PIN costs one try). */
export function pinLogsIn(label: string, pin: string, role: 'user' | 'so'): boolean {
  const state = lab.state();
  const login = role === 'so' ? ['--session-rw', '--login', '--login-type', 'so', '--so-pin', pin] : ['--login', '--pin', pin];
  const result = spawnSync('pkcs11-tool', ['--module', state.modulePath, '--token-label', label, ...login, '--list-objects'], { env: { ...process.env, SOFTHSM2_CONF: state.softhsmConf }, encoding: 'utf8' });
  return result.status === 0;
}

export interface ListedObject {
  kind: 'private-key' | 'public-key' | 'secret-key' | 'certificate' | 'data';
  label: string;
  id: string;
}

/** Parses `pkcs11-tool --list-objects` into class, label and id. */
export function parseObjectList(out: string): ListedObject[] {
  const kinds: [RegExp, ListedObject['kind']][] = [
    [/^Private Key Object/, 'private-key'],
    [/^Public Key Object/, 'public-key'],
    [/^Secret Key Object/, 'secret-key'],
    [/^Certificate Object/, 'certificate'],
    [/^Data object/, 'data'],
  ];
  const objects: ListedObject[] = [];
  for (const line of out.split('\n')) {
    const kind = kinds.find(([re]) => re.test(line))?.[1];
    if (kind) {
      objects.push({ kind, label: '', id: '' });
      continue;
    }
    const current = objects.at(-1);
    const label = /^ {2}label:\s+(.*)$/.exec(line);
    if (current && label) current.label = (label[1] ?? '').replace(/^'(.*)'$/, '$1');
    const id = /^ {2}ID:\s+([0-9a-f]*)$/.exec(line);
    if (current && id) current.id = id[1] ?? '';
  }
  return objects;
}

export interface CliResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `tessera` as its own process; `fds` become descriptors 3, 4, … of the child (like 3<file);
 * `under` is a command that runs it (e.g. strace with its options).
 */
export function tessera(args: string[], options: { home?: string; fds?: string[]; env?: Record<string, string>; under?: string[] } = {}): CliResult {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-fd-'));
  const fds = (options.fds ?? []).map((content, i) => {
    const file = join(dir, `fd-${i}`);
    writeFileSync(file, content, { mode: 0o600 });
    return openSync(file, 'r');
  });
  try {
    const command = [...(options.under ?? []), process.execPath, join(root, 'bin', 'tessera.js'), ...args];
    const result = spawnSync(command[0] as string, command.slice(1), {
      env: { ...process.env, ...lab.env(), ...(options.home ? { TESSERA_HOME: options.home } : {}), ...options.env },
      stdio: ['ignore', 'pipe', 'pipe', ...fds],
      encoding: 'utf8',
      timeout: 60_000,
    });
    return { status: result.status, signal: result.signal, stdout: result.stdout, stderr: result.stderr };
  } finally {
    fds.forEach((fd) => closeSync(fd));
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function until(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
