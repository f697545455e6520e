// `tessera`: the command-line front end over the same core as the app, for scripted ceremonies,
// automation and auditors. Exit codes: 0 success, 1 failure (one line on stderr), 2 bad usage.
import { Command, CommanderError, Option } from 'commander';
import { applyLabEnvironment, findLabProfile } from '../core/config/lab-profile';
import { terminalHome } from '../core/config/paths';
import { TesseraError, toErrorData } from '../core/errors';
import { Terminal } from '../core/terminal';
import type { AuditEntryView, ObjectSummary, PartitionView, ReadersSnapshot } from '../shared/types';
import { promptSecret, readSecretFromFd } from './secret-input';

interface PartitionOptions {
  module?: string;
  token?: string;
  json?: boolean;
}

const lab = findLabProfile();
if (lab) applyLabEnvironment(lab);

function openTerminal(): Promise<Terminal> {
  return Terminal.open({ home: terminalHome(), frontEnd: 'cli' });
}

/** Selects the partition named by --module/--token, defaulting to the training lab's. */
function selectPartition(terminal: Terminal, options: PartitionOptions): PartitionView {
  const modulePath = options.module ?? process.env.TESSERA_PKCS11_MODULE ?? lab?.modulePath;
  if (!modulePath) throw new TesseraError('MODULE_NOT_FOUND', 'No PKCS#11 module given. Use --module PATH.');
  const label = options.token ?? (options.module ? undefined : lab?.tokenLabel);
  if (label !== undefined) return terminal.partition.selectByLabel(modulePath, label);
  const choice = terminal.partition.openModule(modulePath);
  const only = choice.tokens[0];
  if (choice.tokens.length !== 1 || !only) {
    throw new TesseraError('TOKEN_NOT_FOUND', `Choose a partition with --token LABEL: this module has ${choice.tokens.length === 0 ? 'none' : choice.tokens.map((t) => `"${t.label}"`).join(', ')}.`);
  }
  return terminal.partition.select(modulePath, only.serial);
}

async function readPin(pinFd: string | undefined, prompt: string): Promise<Buffer> {
  if (pinFd !== undefined) {
    const fd = Number(pinFd);
    if (!Number.isInteger(fd) || fd < 0) throw new TesseraError('INVALID_REQUEST', `--pin-fd needs a file descriptor number, not "${pinFd}".`);
    return readSecretFromFd(fd);
  }
  return promptSecret(prompt);
}

function print(json: boolean | undefined, value: unknown, text: () => string): void {
  process.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : `${text()}\n`);
}

async function withTerminal<T>(work: (terminal: Terminal) => Promise<T>): Promise<T> {
  const terminal = await openTerminal();
  for (const line of terminal.recovered) process.stderr.write(`tessera: ${line}\n`);
  try {
    return await work(terminal);
  } finally {
    await terminal.close();
  }
}

const partitionOptions = (command: Command): Command =>
  command
    .addOption(new Option('--module <path>', 'PKCS#11 module (default: the training lab\'s)'))
    .addOption(new Option('--token <label>', 'partition label (default: the training lab\'s)'))
    .option('--json', 'print JSON');

export function buildProgram(): Command {
  const program = new Command('tessera').description('Tessera HSM partition administration terminal').exitOverride().showHelpAfterError();

  partitionOptions(program.command('status').description('the partition: token information, PIN status, mechanisms')).action(
    (options: PartitionOptions) =>
      withTerminal(async (terminal) => {
        const view = selectPartition(terminal, options);
        print(options.json, view, () => formatStatus(view));
      }),
  );

  partitionOptions(program.command('objects').description('the objects in the partition'))
    .option('--login', 'log in as crypto officer first, to include private objects')
    .option('--pin-fd <n>', 'read the crypto-officer PIN from this file descriptor')
    .action((options: PartitionOptions & { login?: boolean; pinFd?: string }) =>
      withTerminal(async (terminal) => {
        selectPartition(terminal, options);
        if (options.login) await terminal.partition.login(await readPin(options.pinFd, 'Crypto-officer PIN: '));
        try {
          const objects = await terminal.partition.objects();
          print(options.json, objects, () => formatObjects(objects));
        } finally {
          if (options.login) await terminal.partition.logout();
        }
      }),
    );

  program
    .command('readers')
    .description('smart-card readers and the cards in them')
    .option('--json', 'print JSON')
    .action((options: { json?: boolean }) =>
      withTerminal(async (terminal) => {
        await terminal.readers.start();
        const snapshot = terminal.readers.snapshot();
        if (snapshot.service !== 'running') throw new TesseraError('CARD_SERVICE_UNAVAILABLE', snapshot.message ?? 'The smart-card service is not running.');
        print(options.json, snapshot, () => formatReaders(snapshot));
      }),
    );

  const audit = program.command('audit').description('the audit log');
  audit
    .command('list')
    .description('entries, newest first')
    .option('--limit <n>', 'how many', '100')
    .option('--json', 'print JSON')
    .action((options: { limit: string; json?: boolean }) =>
      withTerminal(async (terminal) => {
        const limit = Number(options.limit);
        if (!Number.isInteger(limit) || limit < 1) throw new TesseraError('INVALID_REQUEST', '--limit needs a positive whole number.');
        const entries = terminal.audit.list(limit);
        print(options.json, entries, () => formatAudit(entries));
      }),
    );
  audit
    .command('verify')
    .description('check that no entry was altered, removed or reordered')
    .option('--json', 'print JSON')
    .action((options: { json?: boolean }) =>
      withTerminal(async (terminal) => {
        const result = await terminal.audit.verify();
        print(options.json, result, () => (result.intact ? `Audit log intact: ${result.entries} entries verified.` : `AUDIT LOG DAMAGED: ${result.problem?.message}`));
        if (!result.intact) process.exitCode = 1;
      }),
    );
  return program;
}

function formatStatus(view: PartitionView): string {
  const t = view.token;
  return [
    `Partition   ${t.label}  (serial ${t.serial})`,
    `Device      ${t.manufacturer} ${t.model}, firmware ${t.firmwareVersion}`,
    `Module      ${t.module.path}  (${t.module.description} ${t.module.libraryVersion})`,
    `User PIN    ${t.userPin.words}`,
    `SO PIN      ${t.soPin.words}`,
    `Flags       ${t.flags.join('; ')}`,
    `Mechanisms  ${view.mechanisms.length}`,
  ].join('\n');
}

function formatObjects(objects: ObjectSummary[]): string {
  const rows = objects.map((o) => `${o.class.padEnd(12)} ${(o.keyType ?? '').padEnd(6)} ${String(o.size ?? '').padStart(5)}  ${o.id.padEnd(8)} ${o.label}`);
  return [`${'CLASS'.padEnd(12)} ${'TYPE'.padEnd(6)} ${'BITS'.padStart(5)}  ${'ID'.padEnd(8)} LABEL`, ...rows, `${objects.length} objects`].join('\n');
}

function formatReaders(snapshot: ReadersSnapshot): string {
  if (snapshot.readers.length === 0) return 'No card readers are connected.';
  return snapshot.readers.map((r) => `${r.name}: ${r.condition.replace('-', ' ')}${r.atr ? `  ATR ${r.atr}` : ''}`).join('\n');
}

function formatAudit(entries: AuditEntryView[]): string {
  return entries.map((e) => `#${e.seq} ${e.time} ${e.outcome.toUpperCase().padEnd(7)} ${e.action} ${e.target} — ${e.actor}`).join('\n') || 'The audit log is empty.';
}

export async function run(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? 0 : 2;
    }
    const data = toErrorData(error);
    process.stderr.write(`tessera: ${data.message}${data.detail ? ` [${data.detail}]` : ''}\n`);
    return 1;
  }
}
