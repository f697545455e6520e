// `tessera`'s commands: the command-line front end over the same core as the app, for scripted
// ceremonies, automation and auditors. Exit codes: 0 success, 1 failure (one line on stderr), 2 bad
// usage. Loaded by main.ts once the module probe's process is on its way.
import { resolve } from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { applyLabEnvironment, findLabProfile, labPartitionDefaults, mediaStandIns } from '../core/config/lab-profile';
import { terminalHome } from '../core/config/paths';
import { TesseraError, toErrorData } from '../core/errors';
import type { Terminal } from '../core/terminal';
import { moduleGate } from '../core/hsm/module-list';
import type { StandbyProbe } from '../core/hsm/module-probe';
import type { AttributeView, AuditEntryView, AuditExportVerification, AuditSeals, CeremonyResult, CeremonyView, InvalidatedKeyView, KeyChangeReport, ObjectSummary, PartitionView, PolicyView, ReadersSnapshot } from '../shared/types';
import { sideBySide } from '../shared/policy';
import { cutLabel, escapeLabel } from '../shared/label-text';
import { keyIdOf } from '../core/keys/key-objects';
import { parseChanges } from '../core/policy/policy';
import { type ModuleSurvey, surveyModules } from '../core/hsm/module-list';
import { describeToken } from '../core/hsm/token-choice';
import { UsageError, printable, releaseAfterCeremony, runCeremony } from './ceremony-runner';
import { type SecretLines, promptSecret, readSecretFromFd, secretLines } from './secret-input';

interface PartitionOptions {
  module?: string;
  token?: string;
  serial?: string;
  /** A crypto-officer PIN is tried even when the partition says one try is left. */
  finalTry?: boolean;
  json?: boolean;
}

const FINAL_TRY_HELP = 'try the crypto-officer PIN even when the partition says one try is left (a wrong PIN then locks the crypto officer out)';

const lab = findLabProfile();
/** The probe process main.ts started ahead, for the command's module (see openTerminal). */
let standby: StandbyProbe | undefined;
/** The lab's module and partition label as defaults; settled from each command's parsed options (settleSettings). */
let labDefaults: { modulePath: string; tokenLabel: string } | null = null;

/**
 * Settings from where the user said: decided from the parsed options before a command runs. The
 * lab's environment (SoftHSM2 config, D-Bus session, home) fills in what is unset only when the
 * command works on the lab (no --module, no home or config of the user's own: lab-profile.ts).
 */
function settleSettings(options: PartitionOptions): void {
  if (!lab) return;
  const explicit = { modulePath: options.module };
  applyLabEnvironment(lab, process.env, explicit);
  labDefaults = labPartitionDefaults(lab, process.env, explicit);
}

/**
 * Opens the terminal. With `partition` (a command that works on the partition those options name)
 * the module's admission starts first: its checks, then its probe in the child process main.ts
 * started on standby (its Node start already under way or done), which runs while this process
 * loads the terminal's code and opens its database and keychain. The probe's answer is taken when
 * the partition is selected, as if it had been asked then.
 */
async function openTerminal(partition?: PartitionOptions): Promise<Terminal> {
  const gate = moduleGate({ labModule: labDefaults?.modulePath ?? null, ...(standby ? { standby } : {}) }, mediaStandIns());
  const modulePath = partition ? modulePathOf(partition) : undefined;
  if (modulePath) gate.startAdmission(modulePath, false);
  const { Terminal } = await import('../core/terminal');
  return Terminal.open({ home: terminalHome(), frontEnd: 'cli', moduleGate: gate });
}

/** The module named by --module, TESSERA_PKCS11_MODULE or the lab's, if any. */
function modulePathOf(options: PartitionOptions): string | undefined {
  return options.module ?? process.env.TESSERA_PKCS11_MODULE ?? labDefaults?.modulePath;
}

/** Selects the partition named by --module and --token/--serial, defaulting to the training lab's. */
async function selectPartition(terminal: Terminal, options: PartitionOptions): Promise<PartitionView> {
  const modulePath = modulePathOf(options);
  if (!modulePath) throw new TesseraError('MODULE_NOT_FOUND', 'No PKCS#11 module given. Use --module PATH.');
  const named = options.token !== undefined || options.serial !== undefined;
  const label = options.token ?? (named ? undefined : labDefaults?.tokenLabel);
  return terminal.partition.selectBy(modulePath, { label, serial: options.serial }, { label: '--token LABEL', serial: '--serial SERIAL' });
}

/** Crypto-officer login with the PIN from --pin-fd (or typed); refused by the partition service on a final try without --final-try. */
async function loginCo(terminal: Terminal, options: { pinFd?: string | undefined; finalTry?: boolean | undefined }): Promise<void> {
  await terminal.partition.login(await readPin(options.pinFd, 'Crypto-officer PIN: '), { finalTry: options.finalTry === true, finalTryOption: '--final-try' });
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
  // Text for a terminal never carries control characters from a card, a partition or a database.
  process.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : `${printable(text())}\n`);
}

/** Runs `work` on an open terminal, closed after; `partition`: see openTerminal. */
async function withTerminal<T>(work: (terminal: Terminal) => Promise<T>, partition?: PartitionOptions): Promise<T> {
  const terminal = await openTerminal(partition);
  for (const line of terminal.recovered) process.stderr.write(`tessera: ${printable(line)}\n`);
  try {
    return await work(terminal);
  } finally {
    await terminal.close();
  }
}

/** withTerminal for a command whose first step selects the partition `options` name. */
const onModule = <T,>(options: PartitionOptions, work: (terminal: Terminal) => Promise<T>): Promise<T> => withTerminal(work, options);

const SERIAL_HELP = 'partition serial number (CK_TOKEN_INFO serialNumber): tells apart partitions with the same label; alone it is enough, with --token both must name the same partition';

const partitionOptions = (command: Command): Command =>
  command
    .addOption(new Option('--module <path>', 'PKCS#11 module, checked and tried out in a separate process before it is loaded (default: the training lab\'s)'))
    .addOption(new Option('--token <label>', 'partition label (default: the training lab\'s)'))
    .addOption(new Option('--serial <serial>', SERIAL_HELP))
    .option('--json', 'print JSON');

export function buildProgram(): Command {
  const program = new Command('tessera').description('Tessera HSM partition administration terminal').exitOverride().showHelpAfterError();
  program.hook('preAction', (_program, command) => settleSettings(command.opts<PartitionOptions>()));

  partitionOptions(program.command('status').description('the partition: token information, PIN status, mechanisms')).action(
    (options: PartitionOptions) =>
      onModule(options, async (terminal) => {
        const view = await selectPartition(terminal, options);
        print(options.json, view, () => formatStatus(view));
      }),
  );

  const loginOptions = (command: Command): Command =>
    partitionOptions(command).option('--login', 'log in as crypto officer first, to include private objects').option('--pin-fd <n>', 'read the crypto-officer PIN from this file descriptor').option('--final-try', FINAL_TRY_HELP);
  /** Runs `work` on the chosen partition, logged in as crypto officer for its duration with --login. */
  const onPartition = <T,>(options: PartitionOptions & { login?: boolean; pinFd?: string; finalTry?: boolean }, work: (terminal: Terminal) => Promise<T>): Promise<T> =>
    onModule(options, async (terminal) => {
      await selectPartition(terminal, options);
      if (options.login) await loginCo(terminal, options);
      try {
        return await work(terminal);
      } finally {
        if (options.login) await terminal.partition.logout();
      }
    });

  const objects = loginOptions(program.command('objects').description('the objects in the partition (each with its ref in --json, for `objects show`)')).action(
    (options: PartitionOptions & { login?: boolean; pinFd?: string }) =>
      onPartition(options, async (terminal) => {
        const list = await terminal.partition.objects();
        print(options.json, list, () => formatObjects(list));
      }),
  );
  loginOptions(objects.command('show').description('one object, every attribute the terminal reads of it (exit 1 when REF matches no object)'))
    .argument('<ref>', 'the object\'s ref, as `tessera objects --json` lists it (a plain pkcs11: URI works when it names one object)')
    .action((ref: string, _options: unknown, command: Command) => {
      // `objects` takes the same options: commander gives them to whichever command it meets first.
      const options = command.optsWithGlobals<PartitionOptions & { login?: boolean; pinFd?: string }>();
      return onPartition(options, async (terminal) => {
        const details = await terminal.partition.details(ref);
        const shown = { ...details.summary, attributes: details.attributes, withheld: details.withheld };
        print(options.json, shown, () => formatObject(shown));
      });
    });

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

  const fdNumber = (value: string | undefined, flag: string): number | null => {
    if (value === undefined) return null;
    const fd = Number(value);
    if (!Number.isInteger(fd) || fd < 0) throw new TesseraError('INVALID_REQUEST', `${flag} needs a file descriptor number, not "${value}".`);
    return fd;
  };
  const lines = (value: string | undefined, flag: string): SecretLines | null => {
    const fd = fdNumber(value, flag);
    return fd === null ? null : secretLines(fd);
  };
  const waitSeconds = (value: string): number => {
    const seconds = Number(value);
    if (!Number.isFinite(seconds) || seconds <= 0) throw new TesseraError('INVALID_REQUEST', '--wait needs a number of seconds.');
    return seconds;
  };

  partitionOptions(program.command('adopt').description('take over the partition\'s SO credential and split a new random one onto officers\' cards'))
    .requiredOption('--holders <names>', 'card holders, comma-separated (1 to 16)')
    .requiredOption('--threshold <m>', 'how many cards log in (1 to n)')
    .option('--so-pin-fd <n>', 'read the current SO PIN from this file descriptor')
    .option('--pins-from <fd>', 'card PINs, one line per card in the order the cards are taken')
    .option('--wait <seconds>', 'how long to wait for each card', '120')
    .action((options: PartitionOptions & { holders: string; threshold: string; soPinFd?: string; pinsFrom?: string; wait: string }) =>
      onModule(options, async (terminal) => {
        await selectPartition(terminal, options);
        const holders = options.holders.split(',').map((h) => h.trim());
        const view = await runCeremony(terminal, { kind: 'adopt', holders, threshold: Number(options.threshold) }, { cardPins: lines(options.pinsFrom, '--pins-from'), soPin: lines(options.soPinFd, '--so-pin-fd'), waitSeconds: waitSeconds(options.wait) });
        const result = ceremonyResult(view, 'adopt');
        print(options.json, result.record, () => `Adopted “${result.record.partition.label}”: ${result.record.m} of ${result.record.n} cards log in as SO.\n${result.record.cards.map((c) => `  ${c.index}. ${c.holder}: card ${c.card}`).join('\n')}`);
      }),
    );

  partitionOptions(program.command('so-login').description('log in as security officer with a quorum of cards, then log out'))
    .option('--pins-from <fd>', 'card PINs, one line per card in the order the cards are taken')
    .option('--wait <seconds>', 'how long to wait for each card', '120')
    .action((options: PartitionOptions & { pinsFrom?: string; wait: string }) =>
      onModule(options, async (terminal) => {
        await selectPartition(terminal, options);
        let view: CeremonyView;
        try {
          view = await runCeremony(terminal, { kind: 'so-login' }, { cardPins: lines(options.pinsFrom, '--pins-from'), soPin: null, waitSeconds: waitSeconds(options.wait) });
        } catch (error) {
          if (options.json) print(true, { loggedIn: false, error: toErrorData(error) }, () => '');
          throw error;
        }
        if (view.result?.kind !== 'so-login') {
          const error = view.error ?? { code: 'INVALID_REQUEST' as const, message: view.prompt.text };
          if (options.json) print(true, { loggedIn: false, error }, () => '');
          throw new TesseraError(error.code, error.message, error.detail);
        }
        await terminal.so.end('logout');
        print(options.json, { loggedIn: true, holders: view.result.holders, cards: view.result.cards }, () => `Logged in as SO with the cards of ${view.result?.kind === 'so-login' ? view.result.holders.join(', ') : ''}; logged out again.`);
      }),
    );

  partitionOptions(program.command('so-acknowledge').description('acknowledge an SO login the HSM refused (no SO login is tried again until then)')).action((options: PartitionOptions) =>
    onModule(options, async (terminal) => {
      await selectPartition(terminal, options);
      const view = await runCeremony(terminal, { kind: 'so-acknowledge' }, { cardPins: null, soPin: null, waitSeconds: 120 });
      const result = ceremonyResult(view, 'so-acknowledge');
      print(options.json, result, () => `Acknowledged: ${result.failure}. SO logins may be tried again.`);
    }),
  );

  const coPin = program.command('co-pin').description('the partition\'s crypto-officer PIN');
  partitionOptions(coPin.command('reset').description('reset the crypto officer\'s PIN as SO, logged in with a quorum of SO cards (the old PIN stops working at once)'))
    .option('--pins-from <fd>', 'card PINs, one line per card in the order the cards are taken')
    .option('--new-pin-fd <n>', 'read the new crypto-officer PIN from this file descriptor (one line; without it, it is typed twice)')
    .option('--wait <seconds>', 'how long to wait for each card', '120')
    .action((options: PartitionOptions & { pinsFrom?: string; newPinFd?: string; wait: string }) =>
      onModule(options, async (terminal) => {
        await selectPartition(terminal, options);
        let result: Extract<CeremonyResult, { kind: 'co-pin-reset' }>;
        try {
          const view = await runCeremony(terminal, { kind: 'co-pin-reset' }, { cardPins: lines(options.pinsFrom, '--pins-from'), newPins: lines(options.newPinFd, '--new-pin-fd'), soPin: null, waitSeconds: waitSeconds(options.wait) });
          result = ceremonyResult(view, 'co-pin-reset');
        } catch (error) {
          if (options.json) print(true, { reset: false, error: toErrorData(error) }, () => '');
          throw error;
        }
        print(options.json, { reset: true, partition: result.partition, holders: result.holders, cards: result.cards }, () => `The crypto officer's PIN of “${result.partition.label}” is reset, approved by the cards of ${result.holders.join(', ')}. The old PIN no longer works.`);
      }),
    );

  const cards = program.command('cards').description('officers\' cards');
  partitionOptions(cards.command('check').description('which set, holder and generation a card holds; whether its PIN is right and its share intact'))
    .option('--pin-fd <n>', 'read the card PIN from this file descriptor')
    .option('--wait <seconds>', 'how long to wait for the card', '120')
    .action((options: PartitionOptions & { pinFd?: string; wait: string }) =>
      onModule(options, async (terminal) => {
        await selectPartition(terminal, options);
        const view = await runCeremony(terminal, { kind: 'check-card' }, { cardPins: lines(options.pinFd, '--pin-fd'), soPin: null, waitSeconds: waitSeconds(options.wait) });
        const { report } = ceremonyResult(view, 'check-card');
        print(options.json, report, () =>
          report.blank
            ? 'Blank card: it holds no share.'
            : [`Card ${report.card}: ${report.holder} (share ${report.index} of ${report.n}, ${report.m} needed), set ${report.set}, generation ${report.generation}`, `Partition “${report.partition?.label}” (serial ${report.partition?.serial})`, ...(report.setFingerprint ? [`Backup set fingerprint ${report.setFingerprint}`] : []), report.current ? 'Belongs to the current card set.' : `Not usable: ${report.problem}`, `PIN: ${report.pinCorrect === null ? 'not checked' : report.pinCorrect ? 'right' : 'wrong'}; share: ${report.shareIntact === null ? 'not checked' : report.shareIntact ? 'intact' : 'NOT intact'}; tries left: ${report.triesLeft ?? 'not told'}`].join('\n'),
        );
        if (!report.current || report.pinCorrect === false || report.shareIntact === false) process.exitCode = 1;
      }),
    );
  partitionOptions(cards.command('change-pin').description('change a card\'s PIN (its share is sealed again under the new one)'))
    .option('--old-pin-fd <n>', 'read the current card PIN from this file descriptor')
    .option('--new-pin-fd <n>', 'read the new card PIN from this file descriptor')
    .option('--wait <seconds>', 'how long to wait for the card', '120')
    .action((options: PartitionOptions & { oldPinFd?: string; newPinFd?: string; wait: string }) =>
      onModule(options, async (terminal) => {
        await selectPartition(terminal, options);
        const view = await runCeremony(terminal, { kind: 'change-pin' }, { cardPins: lines(options.oldPinFd, '--old-pin-fd'), newPins: lines(options.newPinFd, '--new-pin-fd'), soPin: null, waitSeconds: waitSeconds(options.wait) });
        const result = ceremonyResult(view, 'change-pin');
        print(options.json, result, () => `${result.holder}'s card PIN is changed.`);
      }),
    );
  partitionOptions(cards.command('reset').description('make a card whose enrolment stopped half way blank again (its holder types the PIN they chose)'))
    .option('--pin-fd <n>', 'read the PIN chosen for the card from this file descriptor')
    .option('--wait <seconds>', 'how long to wait for the card', '120')
    .action((options: PartitionOptions & { pinFd?: string; wait: string }) =>
      onModule(options, async (terminal) => {
        await selectPartition(terminal, options);
        const view = await runCeremony(terminal, { kind: 'reset-card' }, { cardPins: lines(options.pinFd, '--pin-fd'), soPin: null, waitSeconds: waitSeconds(options.wait) });
        const result = ceremonyResult(view, 'reset-card');
        print(options.json, result, () => `${result.holder}'s card is blank again.`);
      }),
    );
  partitionOptions(cards.command('list').description('the partition\'s card set: holders, cards, m and n, last use')).action((options: PartitionOptions) =>
    onModule(options, async (terminal) => {
      await selectPartition(terminal, options);
      const set = terminal.cardSets.view();
      print(options.json, set, () =>
        set
          ? [`Card set ${set.set}, generation ${set.generation}: ${set.m} of ${set.n}`, ...set.cards.map((c) => `  ${c.index}. ${c.holder}: card ${c.card ?? '(not seen by this terminal)'}, last used ${c.lastUsed ?? 'never'}`)].join('\n')
          : 'This partition has no card set.',
      );
    }),
  );

  // ---- backups ----

  const backupSet = program.command('backup-set').description('the partition\'s backup key set');
  partitionOptions(backupSet.command('create').description('create the backup-signing key and split an escrow key onto officers\' cards'))
    .requiredOption('--holders <names>', 'card holders, comma-separated (1 to 16)')
    .requiredOption('--threshold <m>', 'how many cards read a backup (1 to n)')
    .option('--pin-fd <n>', 'read the crypto-officer PIN from this file descriptor')
    .option('--final-try', FINAL_TRY_HELP)
    .option('--pins-from <fd>', 'card PINs, one line per card in the order the cards are taken')
    .option('--wait <seconds>', 'how long to wait for each card', '120')
    .action((options: PartitionOptions & { holders: string; threshold: string; pinFd?: string; pinsFrom?: string; wait: string }) =>
      onModule(options, async (terminal) => {
        await selectPartition(terminal, options);
        await loginCo(terminal, options);
        const holders = options.holders.split(',').map((h) => h.trim());
        const view = await runCeremony(terminal, { kind: 'backup-set', holders, threshold: Number(options.threshold) }, { cardPins: lines(options.pinsFrom, '--pins-from'), soPin: null, waitSeconds: waitSeconds(options.wait) });
        const { record } = ceremonyResult(view, 'backup-set');
        print(options.json, record, () => `Backup key set of “${record.partition.label}”: ${record.m} of ${record.n} cards read its backups.\nFingerprint ${record.fingerprint ?? ''} (keep the enrolment record with it in the safe).\n${record.cards.map((c) => `  ${c.index}. ${c.holder}: card ${c.card}`).join('\n')}`);
      }),
    );
  partitionOptions(backupSet.command('show').description('the partition\'s backup key set: holders, m of n, keys and fingerprint')).action((options: PartitionOptions) =>
    onModule(options, async (terminal) => {
      await selectPartition(terminal, options);
      const set = terminal.backup.backupSet();
      print(options.json, set, () =>
        set
          ? [`Backup key set ${set.set} of “${set.partition.label}” (serial ${set.partition.serial}): any ${set.m} of ${set.n} cards (${set.holders.join(', ')}) read its backups.`, `Fingerprint ${set.fingerprint}`, `Signing key ${set.signer}`, `Escrow key ${set.escrow}`, `Created ${set.created}`].join('\n')
          : 'This partition has no backup key set.',
      );
    }),
  );

  // ---- credentials: rotations (a new generation of a card set) and roll calls ----

  type RotationOptions = PartitionOptions & { pinsFrom?: string; pinFd?: string; wait: string; holders?: string; threshold?: string; newEscrowKey?: boolean };
  const rotation = (kind: 'so-rotate' | 'so-replace-card' | 'backup-set-rotate' | 'backup-replace-card', holder?: string) => (options: RotationOptions) =>
    onModule(options, async (terminal) => {
      await selectPartition(terminal, options);
      if (kind.startsWith('backup-')) await loginCo(terminal, options);
      const change = {
        ...(options.holders !== undefined ? { holders: options.holders.split(',').map((h) => h.trim()) } : {}),
        ...(options.threshold !== undefined ? { threshold: Number(options.threshold) } : {}),
      };
      const start =
        kind === 'so-rotate' ? { kind, ...change } : kind === 'backup-set-rotate' ? { kind, ...change, ...(options.newEscrowKey ? { newEscrowKey: true } : {}) } : { kind, holder: holder ?? '' };
      const view = await runCeremony(terminal, start, { cardPins: lines(options.pinsFrom, '--pins-from'), soPin: null, waitSeconds: waitSeconds(options.wait) });
      const { rotation: r } = ceremonyResult(view, kind);
      print(options.json, r, () => [`Generation ${r.record.generation} of the ${r.purpose === 'so' ? 'SO card set' : 'backup key set'} of “${r.record.partition.label}” is in force: ${r.record.m} of ${r.record.n} cards.`, ...r.record.cards.map((c) => `  ${c.index}. ${c.holder}: card ${c.card}`), ...(r.record.fingerprint ? [`Fingerprint ${r.record.fingerprint} (keep the new enrolment record in the safe).`] : []), ...r.replaced.map((x) => `Replaced: ${x.holder}'s card ${x.card ?? '(serial unknown)'}.`), ...(r.removed.length > 0 ? [`No longer holders: ${r.removed.join(', ')}.`] : []), ...(r.unretired.length > 0 ? [`Still holding their old share until next used: ${r.unretired.join(', ')}.`] : []), ...(r.needOldCards.length > 0 ? [`Backups that need cards of generation ${r.from}: ${r.needOldCards.join(', ')}.`] : [])].join('\n'));
    });
  const pinsOption = '--pins-from <fd>';
  const pinsHelp = 'card PINs, one line per card in the order the cards are taken (quorum first, then the cards written)';
  partitionOptions(program.command('so-rotate').description('rotate the SO credential onto a new generation of the cards (holders and m may change)'))
    .option('--holders <names>', 'the new generation\'s holders, comma-separated (default: unchanged)')
    .option('--threshold <m>', 'how many cards log in (default: unchanged)')
    .option(pinsOption, pinsHelp)
    .option('--wait <seconds>', 'how long to wait for each card', '120')
    .action((options: RotationOptions) => rotation('so-rotate')(options));
  partitionOptions(cards.command('replace').description('replace a lost or compromised SO card: a new generation, a blank card for its holder'))
    .requiredOption('--holder <name>', 'whose card is replaced (they keep their name)')
    .option(pinsOption, pinsHelp)
    .option('--wait <seconds>', 'how long to wait for each card', '120')
    .action((options: RotationOptions & { holder: string }) => rotation('so-replace-card', options.holder)(options));
  partitionOptions(cards.command('roll-call').description('every holder proves their card (PIN, share, generation); reports who is missing or stale'))
    .option('--set <set>', 'so (the SO card set) or backup (the backup key set)', 'so')
    .option('--pins-from <fd>', 'card PINs, one line per card in the order the cards are taken')
    .option('--wait <seconds>', 'how long to wait for each card before the roll call ends', '120')
    .action((options: PartitionOptions & { set: string; pinsFrom?: string; wait: string }) =>
      onModule(options, async (terminal) => {
        await selectPartition(terminal, options);
        if (options.set !== 'so' && options.set !== 'backup') throw new UsageError('Check the options: --set is so or backup.');
        const view = await runCeremony(terminal, { kind: 'roll-call', set: options.set }, { cardPins: lines(options.pinsFrom, '--pins-from'), soPin: null, waitSeconds: waitSeconds(options.wait) });
        const { report } = ceremonyResult(view, 'roll-call');
        const words = { proved: 'proved', missing: 'MISSING', stale: 'STALE', failed: 'FAILED' } as const;
        print(options.json, report, () => [`Roll call of the ${report.purpose === 'so' ? 'SO card set' : 'backup key set'} of “${report.partition.label}”, generation ${report.generation} (${report.m} of ${report.n}):`, ...report.holders.map((l) => `  ${l.index}. ${l.holder}: ${words[l.status]}${l.card ? ` (card ${l.card})` : ''}${l.detail ? `: ${l.detail}` : ''}`), report.quorumChecked ? 'The proved cards rebuild the set\'s secret.' : 'Fewer than m cards proved: the set\'s secret was not rebuilt.'].join('\n'));
        if (report.holders.some((l) => l.status !== 'proved')) process.exitCode = 1;
      }),
    );
  partitionOptions(backupSet.command('replace-card').description('replace a lost or compromised backup-set card: the escrow key re-split as a new generation (crypto-officer login)'))
    .requiredOption('--holder <name>', 'whose card is replaced (they keep their name)')
    .option('--pin-fd <n>', 'read the crypto-officer PIN from this file descriptor')
    .option('--final-try', FINAL_TRY_HELP)
    .option(pinsOption, pinsHelp)
    .option('--wait <seconds>', 'how long to wait for each card', '120')
    .action((options: RotationOptions & { holder: string }) => rotation('backup-replace-card', options.holder)(options));
  partitionOptions(backupSet.command('rotate').description('a new generation of the backup key set: the escrow key re-split (holders and m may change), or a new one (crypto-officer login)'))
    .option('--holders <names>', 'the new generation\'s holders, comma-separated (default: unchanged)')
    .option('--threshold <m>', 'how many cards read a backup (default: unchanged)')
    .option('--new-escrow-key', 'a new escrow key (full rotation): older backups then need the old cards')
    .option('--pin-fd <n>', 'read the crypto-officer PIN from this file descriptor')
    .option('--final-try', FINAL_TRY_HELP)
    .option(pinsOption, pinsHelp)
    .option('--wait <seconds>', 'how long to wait for each card', '120')
    .action((options: RotationOptions) => rotation('backup-set-rotate')(options));

  // ---- keys: the trash bin (invalidate, list, reactivate, destroy) and the partition policy ----

  const keys = program.command('keys').description('keys in the partition: invalidate, the trash bin, reactivate, destroy');
  /** A bad key id or policy change on the command line is bad usage (exit 2), said in officers' words. */
  const usage = <T,>(parse: () => T): T => {
    try {
      return parse();
    } catch (error) {
      if (error instanceof TesseraError && error.code === 'INVALID_REQUEST') throw new UsageError(error.message);
      throw error;
    }
  };
  const keyIds = (value: string): string[] => usage(() => {
    const ids = value.split(',').map((v) => v.trim()).filter(Boolean).map(keyIdOf);
    if (ids.length === 0) throw new TesseraError('INVALID_REQUEST', 'Give the key with --id HEX (its CKA_ID) or its URI from the listing.');
    return ids;
  });
  const binLine = (k: InvalidatedKeyView): string =>
    `${k.id || '(no id)'}  “${shownLabel(k.label)}”  invalidated ${k.invalidatedAt || '?'} by ${k.invalidatedBy || '?'}  [${k.state}; recorded on ${k.recordedOn.join(' and ')}]${k.objects.map((o) => `\n    ${o.class} “${shownLabel(o.label)}”: ${Object.entries(o.usage).filter(([, v]) => v).map(([n]) => n).join(', ') || 'no usage'}`).join('')}${k.problem ? `\n    ! ${k.problem}` : ''}`;
  const keyReport = (r: KeyChangeReport): string =>
    [`${r.action === 'destroy' ? 'Destroy' : 'Reactivation'} in “${r.partition.label}”, approved by ${r.approvers.map((a) => `${a.holder} (card ${a.card})`).join(', ')}; digest ${r.digest}:`, ...r.keys.map((k) => `  ${k.outcome.padEnd(12)} “${shownLabel(k.label)}” (id ${k.id})${k.detail ? `: ${k.detail}` : ''}`)].join('\n');
  partitionOptions(keys.command('invalidate').description('"delete" a key while key invalidation is on: every usage attribute off, the key kept in the trash bin (crypto-officer login)'))
    .requiredOption('--id <hex>', 'the key\'s CKA_ID in hex, or its URI from the listing (a key pair counts once)')
    .option('--pin-fd <n>', 'read the crypto-officer PIN from this file descriptor')
    .option('--final-try', FINAL_TRY_HELP)
    .action((options: PartitionOptions & { id: string; pinFd?: string }) =>
      onModule(options, async (terminal) => {
        await selectPartition(terminal, options);
        const [id] = keyIds(options.id) as [string];
        await loginCo(terminal, options);
        const view = await terminal.keys.invalidate(id);
        print(options.json, view, () => `Invalidated: “${shownLabel(view.label)}” (id ${view.id}) is in the trash bin; every usage attribute is off. It still takes space and keeps its label and id.\n${binLine(view)}`);
      }),
    );
  partitionOptions(keys.command('invalidated').description('the trash bin: invalidated keys, what they were, who invalidated them and when (with --pin-fd, the partition\'s records and the keys are checked too)'))
    .option('--pin-fd <n>', 'log in as crypto officer (PIN from this file descriptor) to read the partition\'s trash bin and check each key')
    .option('--final-try', FINAL_TRY_HELP)
    .option('--filter <text>', 'only keys whose id, label, class, state or invalidating officer contains this text')
    .action((options: PartitionOptions & { pinFd?: string; filter?: string }) =>
      onModule(options, async (terminal) => {
        await selectPartition(terminal, options);
        if (options.pinFd !== undefined) await loginCo(terminal, options);
        const needle = options.filter?.toLowerCase();
        const list = (await terminal.keys.invalidated()).filter((k) => !needle || [k.id, k.label, k.state, k.invalidatedBy, ...k.objects.map((o) => `${o.class} ${o.keyType ?? ''} ${o.label}`)].some((t) => t.toLowerCase().includes(needle)));
        print(options.json, list, () => (list.length === 0 ? 'The trash bin is empty.' : list.map(binLine).join('\n')) + (options.pinFd === undefined ? '\n(This terminal\'s records only: give --pin-fd to read the partition\'s trash bin and check the keys.)' : ''));
      }),
    );
  /** Reactivate (one key) and destroy (one or many): crypto-officer login, then the ceremony with the SO cards. */
  type KeyCeremonyOptions = PartitionOptions & { id: string; pinFd?: string; pinsFrom?: string; wait: string };
  const keyCeremony = (kind: 'key-reactivate' | 'key-destroy') => (options: KeyCeremonyOptions) =>
    onModule(options, async (terminal) => {
      await selectPartition(terminal, options);
      const ids = keyIds(options.id);
      if (kind === 'key-reactivate' && ids.length !== 1) throw new UsageError('Check the options: reactivate takes one key (--id HEX).');
      await loginCo(terminal, options);
      const start = kind === 'key-reactivate' ? { kind, id: ids[0] as string } : { kind, ids };
      const view = await runCeremony(terminal, start, { cardPins: lines(options.pinsFrom, '--pins-from'), soPin: null, waitSeconds: waitSeconds(options.wait) });
      const { report } = ceremonyResult(view, kind);
      print(options.json, report, () => keyReport(report));
      if (report.keys.some((k) => k.outcome === 'failed' || k.outcome === 'not-done')) process.exitCode = 1;
    });
  const keyCeremonyOptions = (command: Command, id: [string, string]): Command =>
    partitionOptions(command)
      .requiredOption(...id)
      .option('--pin-fd <n>', 'read the crypto-officer PIN from this file descriptor')
      .option('--final-try', FINAL_TRY_HELP)
      .option('--pins-from <fd>', 'SO card PINs, one line per card in the order the cards are taken')
      .option('--wait <seconds>', 'how long to wait for each card', '120');
  keyCeremonyOptions(keys.command('reactivate').description('bring a key back from the trash bin: every usage attribute as before, approved by an SO quorum (crypto-officer login: on a generic PKCS#11 module the SO cannot reach private keys)'), ['--id <hex>', 'the key\'s CKA_ID in hex, or its URI from the listing']).action(keyCeremony('key-reactivate'));
  keyCeremonyOptions(keys.command('destroy').description('destroy keys for good, under the approvals the partition policy asks for (crypto-officer login)'), ['--id <hex,...>', 'the keys\' CKA_IDs in hex (or URIs), comma-separated']).action(keyCeremony('key-destroy'));

  const policy = program.command('policy').description('the partition policy: what keys may do, and how many officers approve what');
  partitionOptions(policy.command('show').description('the policy in force, who signed it, who enforces it')).action((options: PartitionOptions) =>
    onModule(options, async (terminal) => {
      await selectPartition(terminal, options);
      const view = terminal.keys.policy();
      print(options.json, view, () => formatPolicy(view));
    }),
  );
  partitionOptions(policy.command('set').description('change the policy (e.g. key-export=off approvals.destroy=3) under the SO quorum and the approvals the current policy asks for'))
    .argument('<changes...>', 'NAME=VALUE: key-import, key-export, key-invalidation, read-only, session-objects, object-destruction (on/off); approvals.destroy, approvals.policy, approvals.co-pin-reset, approvals.restore (a number)')
    .option('--pins-from <fd>', 'SO card PINs, one line per card in the order the cards are taken')
    .option('--wait <seconds>', 'how long to wait for each card', '120')
    .action((changes: string[], options: PartitionOptions & { pinsFrom?: string; wait: string }) =>
      onModule(options, async (terminal) => {
        await selectPartition(terminal, options);
        const set = terminal.keys.policy().set;
        const parsed = usage(() => parseChanges(changes, set));
        const view = await runCeremony(terminal, { kind: 'policy-set', changes: parsed }, { cardPins: lines(options.pinsFrom, '--pins-from'), soPin: null, waitSeconds: waitSeconds(options.wait) });
        const { report } = ceremonyResult(view, 'policy-set');
        print(options.json, report, () => [`The partition policy of “${report.partition.label}” is version ${report.version} (was ${report.from}); digest ${report.digest}.`, ...report.changes.map((c) => `  ${c.name}: ${c.from} → ${c.to}`), `Approved by ${report.approvers.map((a) => `${a.holder} (card ${a.card})`).join(', ')}.`].join('\n'));
      }),
    );

  const backup = program.command('backup').description('offline backups of the partition');
  partitionOptions(backup.command('media').description('removable drives (and the training lab\'s stand-in) a backup can go to')).action((options: PartitionOptions) =>
    withTerminal(async (terminal) => {
      const { listMedia } = await import('../core/backup/media');
      const media = await listMedia(terminal.mediaStandIns);
      print(options.json, media, () => media.map((m) => `${m.label}  ${m.path}  ${(m.free / 1e9).toFixed(2)} GB free of ${(m.size / 1e9).toFixed(2)} GB`).join('\n') || 'No removable media is mounted.');
    }),
  );
  partitionOptions(backup.command('create').description('back up the partition to removable media (crypto-officer login)'))
    .requiredOption('--media <path>', 'the mounted USB stick (a folder)')
    .option('--pin-fd <n>', 'read the crypto-officer PIN from this file descriptor')
    .option('--final-try', FINAL_TRY_HELP)
    .option('--trust-set <fingerprint>', 'this terminal has no record of the partition\'s backup set: the fingerprint on its enrolment record')
    .action((options: PartitionOptions & { media: string; pinFd?: string; trustSet?: string }) =>
      onModule(options, async (terminal) => {
        await selectPartition(terminal, options);
        await loginCo(terminal, options);
        const view = await runCeremony(terminal, { kind: 'backup', media: resolve(options.media), ...(options.trustSet !== undefined ? { trustSet: options.trustSet } : {}) }, { cardPins: null, soPin: null, waitSeconds: 120 });
        const { report } = ceremonyResult(view, 'backup');
        print(options.json, { ...report, path: report.file, objectsBackedUp: report.objects }, () =>
          [`Backed up ${report.objects} objects to ${report.file} (read back and verified).`, `SHA-256 ${report.sha256}`, ...report.left.map((l) => `  left out: ${l.class} “${shownLabel(l.label)}” (id ${l.id || 'none'}): ${l.reason}`), ...report.incomplete.map((l) => `  without attributes the HSM would not read: ${l.class} “${shownLabel(l.label)}” (id ${l.id || 'none'}): ${(l.unreadable ?? []).join('; ')}`)].join('\n'),
        );
      }),
    );
  backup
    .command('verify')
    .description('check a backup\'s integrity and signature, without cards (exit 1 when invalid)')
    .argument('<file>', 'the backup file')
    .addOption(new Option('--module <path>', 'with --token: the PKCS#11 module (default: the training lab\'s)'))
    .option('--token <label>', 'also check that this partition\'s backup-signing key signed it')
    .addOption(new Option('--serial <serial>', `also check against the partition with this serial: ${SERIAL_HELP}`))
    .option('--json', 'print JSON')
    .action(async (file: string, options: PartitionOptions) => {
      // Without --token it needs no terminal: an auditor verifies on any machine, with no database or keychain.
      const against =
        options.token !== undefined || options.serial !== undefined
          ? await onModule(options, async (terminal) => {
              const { token } = await selectPartition(terminal, options);
              const set = terminal.backup.backupSet();
              if (!set) throw new TesseraError('INVALID_REQUEST', `Partition ${describeToken(token)} has no backup key set to check against.`);
              return { signer: set.signer, partition: `“${token.label}” (serial ${token.serial})` };
            })
          : undefined;
      const signer = against?.signer;
      const { verifyBackupFile } = await import('../core/backup/verify');
      const result = await verifyBackupFile(resolve(file), signer);
      print(options.json, result, () =>
        result.valid
          ? `Valid: ${result.backup?.objects} objects of “${result.backup?.partition.label}” (serial ${result.backup?.partition.serial}), ${result.backup?.created}; manifest ${result.manifest}. ${
              result.signerChecked
                ? `Signed by the backup-signing key of partition ${against?.partition ?? ''} (${result.backup?.signer}).`
                : `The signature is valid, but the signer is unchecked: the file names its own signing key (${result.backup?.signer}), so anyone could have made it. Give --token LABEL or --serial SERIAL to check it against a partition, or compare the backup set fingerprint ${result.backup?.setFingerprint} with the set's enrolment record.`
            }`
          : `INVALID: ${result.problem}`,
      );
      if (!result.valid) process.exitCode = 1;
    });
  backup
    .command('list')
    .description('the full content listing of a backup: needs a quorum of its backup-set cards, no partition')
    .argument('<file>', 'the backup file')
    .option('--pins-from <fd>', 'card PINs, one line per card in the order the cards are taken')
    .option('--wait <seconds>', 'how long to wait for each card', '120')
    .option('--json', 'print JSON')
    .action((file: string, options: { pinsFrom?: string; wait: string; json?: boolean }) =>
      withTerminal(async (terminal) => {
        const view = await runCeremony(terminal, { kind: 'backup-list', file: resolve(file) }, { cardPins: lines(options.pinsFrom, '--pins-from'), soPin: null, waitSeconds: waitSeconds(options.wait) });
        const result = ceremonyResult(view, 'backup-list');
        print(options.json, result, () =>
          [`Backup ${result.backup.backupId} of “${result.backup.partition.label}”, ${result.backup.created}:`, ...result.objects.map((o) => `  ${o.class.padEnd(12)} ${(o.id || '—').padEnd(10)} ${shownLabel(o.label)}${o.reason ? ` (left out: ${o.reason})` : ''}`)].join('\n'),
        );
      }),
    );
  partitionOptions(backup.command('restore').description('restore a backup into a partition, with a quorum of backup-set cards'))
    .argument('<file>', 'the backup file')
    .option('--pin-fd <n>', 'read the target partition\'s crypto-officer PIN from this file descriptor')
    .option('--final-try', FINAL_TRY_HELP)
    .option('--pins-from <fd>', 'card PINs, one line per card in the order the cards are taken')
    .option('--only <ids>', 'restore only the objects with these ids (hex, comma-separated)')
    .addOption(new Option('--on-conflict <what>', 'an object with the same id or label but other contents').choices(['skip', 'replace']).default('skip'))
    .option('--trust-set <fingerprint>', 'a backup made with a set this partition does not trust: the fingerprint on that set\'s enrolment record')
    .option('--wait <seconds>', 'how long to wait for each card', '120')
    .action((file: string, options: PartitionOptions & { pinFd?: string; pinsFrom?: string; only?: string; onConflict: 'skip' | 'replace'; trustSet?: string; wait: string }) =>
      onModule(options, async (terminal) => {
        await selectPartition(terminal, options);
        await loginCo(terminal, options);
        const only = options.only?.split(',').map((id) => id.trim()).filter(Boolean);
        const view = await runCeremony(terminal, { kind: 'restore', file: resolve(file), onConflict: options.onConflict, ...(only ? { only } : {}), ...(options.trustSet !== undefined ? { trustSet: options.trustSet } : {}) }, { cardPins: lines(options.pinsFrom, '--pins-from'), soPin: null, waitSeconds: waitSeconds(options.wait) });
        const { report } = ceremonyResult(view, 'restore');
        print(options.json, report, () =>
          [
            `Restore of backup ${report.backupId} into “${report.target.label}”: ${Object.entries(report.counts).filter(([, n]) => n > 0).map(([k, n]) => `${n} ${k}`).join(', ')}`,
            ...report.objects.map((o) => `  ${o.outcome.padEnd(15)} ${o.class} “${shownLabel(o.label)}” (id ${o.id || 'none'})${o.check ? ` — ${o.check}` : ''}${o.message ? ` — ${o.message}` : ''}${o.notPreserved.length ? ` — not kept: ${o.notPreserved.join('; ')}` : ''}`),
          ].join('\n'),
        );
        if (report.counts.failed > 0) process.exitCode = 1;
      }),
    );

  const modules = program.command('modules').description('the PKCS#11 modules this workstation allows');
  modules
    .command('list')
    .description('the administrator\'s list (and the training lab\'s module): checks and a probe of each, nothing loaded here')
    .option('--json', 'print JSON')
    .action((options: { json?: boolean }) =>
      withTerminal(async (terminal) => {
        const survey = await surveyModules(terminal.modules);
        print(options.json, survey, () => formatModules(survey));
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
    .description('check that the log is the one this workstation keeps (not replaced or cut), that no entry was altered, removed or reordered, and every head the partition sealed')
    .addOption(new Option('--module <path>', 'with --token: the PKCS#11 module (default: the training lab\'s)'))
    .option('--token <label>', 'also check that the seals were made by this partition\'s audit key')
    .addOption(new Option('--serial <serial>', `also check against the audit key of the partition with this serial: ${SERIAL_HELP}`))
    .option('--json', 'print JSON')
    .action((options: PartitionOptions) =>
      withTerminal(async (terminal) => {
        const named = options.token !== undefined || options.serial !== undefined;
        if (named) await selectPartition(terminal, options);
        const trusted = named ? terminal.partition.auditSealKey() : null;
        const result = await terminal.audit.verify(trusted);
        print(options.json, result, () => (result.intact ? `Audit log intact: ${result.entries} entries verified. ${formatSeals(result.seals)}` : `AUDIT LOG DAMAGED: ${result.problem?.message}`));
        if (!result.intact) process.exitCode = 1;
      }),
    );
  partitionOptions(audit.command('export').description('export the audit log to USB media for an auditor: every entry, both chains, the partition-signed heads and the audit key (checked offline with verify-export)'))
    .requiredOption('--media <path>', 'the mounted USB stick (a folder)')
    .option('--since <when>', 'entries from this date or time (2026-11-30, 2026-11-30T14:00Z), or last-export: everything since the last export')
    .option('--until <when>', 'entries before this date or time (a date alone: to the end of that day)')
    .option('--pin-fd <n>', 'log in as crypto officer first (PIN from this descriptor), so the partition seals the head and the whole export is vouched for')
    .option('--final-try', FINAL_TRY_HELP)
    .action((options: PartitionOptions & { media: string; since?: string; until?: string; pinFd?: string }) =>
      withTerminal(async (terminal) => {
        await selectPartition(terminal, options).catch((error: unknown) => {
          // Without the partition the export still carries every seal and its key; only the header names no partition.
          if (options.token !== undefined || options.serial !== undefined || options.module !== undefined || options.pinFd !== undefined) throw error;
        });
        if (options.pinFd !== undefined) await loginCo(terminal, options);
        const report = await terminal.record.exportAudit({ media: resolve(options.media), since: options.since ?? null, until: options.until ?? null });
        print(options.json, report, () =>
          [report.path, `Entries ${report.from} to ${report.through} (${report.entries}); SHA-256 ${report.sha256}; read back and verified; recorded in entry ${report.recordedIn}.`, report.unsealed ? `Entries ${report.unsealed.from} to ${report.unsealed.through} are not sealed by the partition (log in as crypto officer with --pin-fd to seal them).` : 'Every entry is covered by a seal of the partition.'].join('\n'),
        );
      }),
    );
  audit
    .command('verify-export')
    .description('check an audit export offline: every entry, the chain, the partition\'s seals; names the first entry altered, removed, inserted or reordered (exit 1 when invalid)')
    .argument('<file>', 'the export file (.jsonl)')
    .addOption(new Option('--module <path>', 'with --token: the PKCS#11 module (default: the training lab\'s)'))
    .addOption(new Option('--token <label>', 'also check that this partition\'s audit key sealed it (read from the partition, no login)').conflicts('signer'))
    .addOption(new Option('--serial <serial>', `also check that the audit key of the partition with this serial sealed it: ${SERIAL_HELP}`).conflicts('signer'))
    .option('--signer <fingerprint>', 'also check that the audit key with this SHA-256 fingerprint (hex) sealed it')
    .option('--json', 'print JSON')
    .action(async (file: string, options: PartitionOptions & { signer?: string }) => {
      const signer = options.token !== undefined || options.serial !== undefined ? await withTerminal(async (terminal) => auditKeyOf(terminal, options)) : options.signer !== undefined ? usage(() => fingerprintArg(options.signer as string)) : null;
      // Without --token it needs no terminal: no database, keychain or HSM.
      const [{ verifyExport }, { readExportFile }] = await Promise.all([import('../core/audit/export-format'), import('../core/record/audit-export')]);
      const result = verifyExport(await readExportFile(resolve(file)), signer);
      print(options.json, result, () => formatExportVerification(result));
      if (!result.valid) process.exitCode = 1;
    });
  partitionOptions(audit.command('acknowledge').description('an officer acknowledges an audit alarm (a replaced, cut or unreadable log) with the crypto-officer PIN; recorded as the next entry'))
    .option('--pin-fd <n>', 'read the crypto-officer PIN from this file descriptor')
    .option('--final-try', FINAL_TRY_HELP)
    .action((options: PartitionOptions & { pinFd?: string }) =>
      withTerminal(async (terminal) => {
        if (!terminal.audit.alarm) throw new TesseraError('INVALID_REQUEST', 'The audit log has no alarm to acknowledge.');
        await selectPartition(terminal, options);
        const entry = await terminal.partition.acknowledgeAuditAlarm(await readPin(options.pinFd, 'Crypto-officer PIN: '), { finalTry: options.finalTry === true, finalTryOption: '--final-try' });
        print(options.json, { acknowledged: true, entry }, () => `Acknowledged in entry ${entry.seq}: ${String(entry.details.finding)} The log goes on from there.`);
      }),
    );
  const ceremony = program.command('ceremony').description('ceremonies run from a reviewed script, and their signed transcripts');
  partitionOptions(ceremony.command('run').description('run a ceremony script (YAML, docs/ceremonies.md) step by step; writes the transcript (JSON and PDF) signed by the partition'))
    .argument('<script>', 'the ceremony script (.yaml)')
    .option('--practice', 'a practice run on the training lab (or a partition whose label begins with PRACTICE): everything is marked PRACTICE')
    .option('--pins-from <fd>', 'card PINs, one line per card in the order the cards are taken, over the whole ceremony')
    .option('--pin-fd <n>', 'the crypto officer\'s PIN, for the steps and the transcript\'s signature')
    .option('--final-try', FINAL_TRY_HELP)
    .option('--new-pin-fd <n>', 'new PINs a step chooses (a crypto-officer PIN reset)')
    .option('--yes', 'answer every confirmation, manual step and exception as the administrator (runs without a human)')
    .option('--wait <seconds>', 'how long to wait for each card', '120')
    .action((file: string, options: PartitionOptions & { practice?: boolean; pinsFrom?: string; pinFd?: string; newPinFd?: string; yes?: boolean; wait: string }) =>
      withTerminal(async (terminal) => {
        const path = resolve(file);
        const [{ readScriptFile }, { runScript }] = await Promise.all([import('../core/record/script-desk'), import('./script-runner')]);
        const text = await readScriptFile(path);
        await selectPartition(terminal, options);
        const run = await terminal.record.openScript({ text, path }, options.practice === true);
        const view = await runScript(terminal, run, {
          ceremony: { cardPins: lines(options.pinsFrom, '--pins-from'), newPins: lines(options.newPinFd, '--new-pin-fd'), soPin: null, waitSeconds: waitSeconds(options.wait) },
          coPin: options.pinFd !== undefined ? await readPin(options.pinFd, '') : null,
          finalTry: options.finalTry === true,
          yes: options.yes === true,
        });
        const result = { outcome: view.transcript ? view.outcome : 'not begun', practice: view.practice, title: view.title, script: view.script, partition: view.partition, preconditions: view.preconditions, steps: view.steps, exceptions: view.exceptions, transcript: view.transcript };
        print(options.json, result, () =>
          view.transcript
            ? [`${view.practice ? 'PRACTICE — ' : ''}${view.title}: ${view.outcome}.`, `Transcript: ${view.transcript.json}`, `Printout:   ${view.transcript.pdf}`, `Digest ${view.transcript.digest}`].join('\n')
            : `Not begun: the preconditions are not met (${view.preconditions.filter((p) => !p.met).map((p) => p.detail).join(' ')}).`,
        );
        if (view.outcome !== 'completed' || !view.transcript) process.exitCode = 1;
      }),
    );
  ceremony
    .command('verify')
    .description('check a ceremony transcript offline: the partition\'s signature, that nothing was altered, the PDF beside it (exit 1 when altered)')
    .argument('<transcript>', 'the transcript (.transcript.json)')
    .option('--signer <fingerprint>', 'also check that the partition\'s audit key with this SHA-256 fingerprint signed it')
    .option('--json', 'print JSON')
    .action(async (file: string, options: { signer?: string; json?: boolean }) => {
      const [{ verifyTranscriptFile }, { formatTranscriptVerification }] = await Promise.all([import('../core/record/transcript'), import('./ceremony-verify')]);
      const result = await verifyTranscriptFile(resolve(file), options.signer !== undefined ? { signer: options.signer } : {});
      print(options.json, result, () => formatTranscriptVerification(result));
      if (!result.valid) process.exitCode = 1;
    });
  return program;
}

/** The ceremony's result of the expected kind, or its failure as an error. */
function ceremonyResult<K extends CeremonyResult['kind']>(view: CeremonyView, kind: K): Extract<CeremonyResult, { kind: K }> {
  if (view.result?.kind === kind) return view.result as Extract<CeremonyResult, { kind: K }>;
  if (view.error) throw new TesseraError(view.error.code, view.error.message, view.error.detail);
  throw new TesseraError('INVALID_REQUEST', view.prompt.text);
}

function formatPolicy(v: PolicyView): string {
  const lines = sideBySide(v.policy, v.policy, v.set);
  return [
    `Partition policy of “${v.partition.label}” (serial ${v.partition.serial}): ${v.version === 0 ? 'none recorded, the defaults apply' : `version ${v.version}${v.signedBy ? `, approved by ${v.signedBy.approvers.map((a) => a.holder).join(', ')} on ${v.signedBy.at}` : ''}${v.source === 'terminal' ? ' (from this terminal\'s copy: the partition lost its own)' : ''}`}.`,
    ...lines.map((l) => `  ${l.name.padEnd(24)} ${l.current}`),
    `Enforcement: ${v.enforcement.words}`,
    ...v.problems.map((p) => `! ${p}`),
  ].join('\n');
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

function formatModules(survey: ModuleSurvey): string {
  const lines = [`List of approved modules: ${survey.file}${survey.fileProblem ? `\n  ${survey.fileProblem}` : ''}`];
  if (survey.modules.length === 0) lines.push('No module may be used on this workstation.');
  for (const m of survey.modules) {
    lines.push(`${m.name}  ${m.path}${m.source === 'lab' ? '  (training lab)' : ''}`);
    if (m.reason) lines.push(`  REFUSED: ${m.reason}`);
    else if (m.probe?.usable) lines.push(`  usable: ${m.probe.description} ${m.probe.libraryVersion} by ${m.probe.manufacturer}, ${m.probe.slots} slot(s), ${m.probe.tokens} with a token`);
    else if (m.probe) lines.push(`  NOT USABLE: ${m.probe.error}`);
  }
  return lines.join('\n');
}

/** Longest label a text row shows; longer ones are cut with a marker naming their length. */
const LABEL_COLUMN = 64;

/** A label from core (already escaped) or from a record (escaped here), cut to fit one text line. */
function shownLabel(label: string, labelHex?: string): string {
  const shown = escapeLabel(label);
  return cutLabel(shown, LABEL_COLUMN, labelHex === undefined ? Buffer.byteLength(label, 'utf8') : labelHex.length / 2);
}

/**
 * For a certificate, what tells it apart when label and id repeat (a renewal, a CA filed under the
 * same name): "  (subject CN=…, O=…; serial 1002)", escaped like labels and cut; '' for other objects.
 */
function certificateWords(o: ObjectSummary): string {
  if (o.class !== 'certificate' || (o.subject === null && o.serialNumber === null)) return '';
  const subject = o.subject === null ? null : cutLabel(escapeLabel(o.subject), LABEL_COLUMN, Buffer.byteLength(o.subject, 'utf8'));
  return `  (${[subject === null ? null : `subject ${subject}`, o.serialNumber === null ? null : `serial ${o.serialNumber}`].filter((w) => w !== null).join('; ')})`;
}

/** One line per object, always: labels are escaped (no control character, no newline) and cut. */
function formatObjects(objects: ObjectSummary[]): string {
  // "!" marks an object with attributes the HSM failed to read; a note after the count names them (by id, never by label).
  const rows = objects.map((o) => `${o.class.padEnd(12)} ${(o.keyType ?? '').padEnd(14)} ${String(o.size ?? '').padStart(5)}  ${o.id.padEnd(8)} ${o.unreadable.length > 0 ? '!' : ' '} ${shownLabel(o.label, o.labelHex)}${certificateWords(o)}`);
  const notes = objects.filter((o) => o.unreadable.length > 0).map((o) => `! ${o.class} id ${o.id || '(none)'}: unreadable ${o.unreadable.map((u) => `${u.name} (${escapeLabel(u.reason)})`).join(', ')}`);
  return [`${'CLASS'.padEnd(12)} ${'TYPE'.padEnd(14)} ${'BITS'.padStart(5)}  ${'ID'.padEnd(8)}   LABEL`, ...rows, `${objects.length} objects`, ...notes].join('\n');
}

function formatObject(o: ObjectSummary & { attributes: AttributeView[]; withheld: { name: string; reason: string }[] }): string {
  const line = (name: string, value: string): string => `${name.padEnd(26)} ${escapeLabel(value)}`;
  return [
    line('label (hex)', o.labelHex),
    line('ref', o.ref),
    line('uri', o.uri),
    ...(o.subject !== null ? [line('subject', o.subject), line('issuer', o.issuer ?? ''), line('serial number', o.serialNumber ?? '')] : []),
    ...o.attributes.map((a) => line(a.name, a.value)),
    ...o.withheld.map((w) => line(w.name, `not shown: ${w.reason}`)),
  ].join('\n');
}

function formatReaders(snapshot: ReadersSnapshot): string {
  if (snapshot.readers.length === 0) return 'No card readers are connected.';
  return snapshot.readers.map((r) => `${r.name}: ${r.condition.replace('-', ' ')}${r.atr ? `  ATR ${r.atr}` : ''}`).join('\n');
}

/** The audit key's fingerprint of the partition named by --token (no login). */
async function auditKeyOf(terminal: Terminal, options: PartitionOptions): Promise<string> {
  await selectPartition(terminal, options);
  const key = terminal.partition.auditSealKey();
  if (!key.spki) throw new TesseraError('INVALID_REQUEST', `Partition “${key.partition.label}” (serial ${key.partition.serial}) holds no audit key: it never sealed a log.`);
  const { keyFingerprint } = await import('../core/audit/seal');
  return keyFingerprint(key.spki);
}

function fingerprintArg(value: string): string {
  const fp = value.replace(/[\s:]/g, '').toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(fp)) throw new TesseraError('INVALID_REQUEST', '--signer needs the audit key\'s SHA-256 fingerprint: 64 hex digits (spaces and colons allowed).');
  return fp;
}

function formatExportVerification(r: AuditExportVerification): string {
  if (!r.valid) return `INVALID: ${r.problem?.message ?? ''}`;
  const who = r.signer
    ? `Sealed by the audit key ${r.signer.fingerprint} through entry ${r.signer.sealedThrough}.`
    : r.seals.through !== null
      ? `Sealed through entry ${r.seals.through} by ${r.seals.keys.length === 1 ? 'the key' : 'the keys'} ${r.seals.keys.join(', ')}: the signer is unchecked (the file names its keys). Give --token LABEL, --serial SERIAL or --signer FINGERPRINT to check it against the partition's audit key.`
      : r.seals.verified > 0
        ? `Its ${r.seals.verified} seal(s) by ${r.seals.keys.join(', ')} cover only entries before ${r.from}, which are not in this file: only the chain was checked.`
        : 'No head in it is sealed by a partition: only the chain was checked.';
  const tail = r.unsealed ? ` Entries ${r.unsealed.from} to ${r.unsealed.through} are chained but not sealed${r.signer ? ' by that key' : ''}: nobody an auditor can check vouches for them.` : '';
  const old = r.seals.uncheckable > 0 ? ` ${r.seals.uncheckable} older seal(s) sign only the workstation's keyed chain and cannot be checked offline.` : '';
  return `Valid: entries ${r.from} to ${r.through} of log ${r.installation} (${r.entries} entries, every one checked). ${who}${tail}${old}`;
}

function formatSeals(seals: AuditSeals): string {
  const against = seals.partition ? ` against partition “${seals.partition.label}” (serial ${seals.partition.serial})` : '';
  if (seals.verified === 0) return `No head of the log was sealed by a partition yet${against ? ` (checked${against})` : ''}.`;
  return `${seals.verified} head${seals.verified === 1 ? '' : 's'} sealed by the partition verified${against}, the last covering entries up to ${seals.through}.`;
}

function formatAudit(entries: AuditEntryView[]): string {
  return entries.map((e) => `#${e.seq} ${e.time} ${e.outcome.toUpperCase().padEnd(7)} ${e.action} ${e.target} — ${e.actor}`).join('\n') || 'The audit log is empty.';
}

/**
 * Runs one command. `probe`: the module probe's process, started before this module was loaded
 * (main.ts); the command's module is probed in it.
 * @returns the exit code (0 success, 1 failure, 2 bad usage)
 */
export async function runProgram(argv: string[], probe?: StandbyProbe): Promise<number> {
  standby = probe;
  try {
    await buildProgram().parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? 0 : 2;
    }
    if (error instanceof UsageError) {
      process.stderr.write(`tessera: ${printable(error.message)}\n`);
      return 2;
    }
    const data = toErrorData(error);
    process.stderr.write(`tessera: ${printable(`${data.message}${data.detail ? ` [${data.detail}]` : ''}`)}\n`);
    return 1;
  } finally {
    releaseAfterCeremony();
  }
}
