// Benchmark (not a test): backup and restore of N RSA-2048 + N EC P-256 + N AES-256 keys through
// core (the ceremonies the app and the CLI run), against bare pkcs11js loops of C_WrapKey and
// C_UnwrapKey over the same keys, in one run. The backup is measured in ROUNDS rounds, each the bare
// loop then core (this machine's speed drifts by tens of per cent within a minute: a ratio is only
// meaningful between runs made side by side); the restore once. Prints the times, the ratios
// (target 1.3x), the peak memory, and the longest stall of the main event loop while core works
// (target < 50 ms).
//   npm run bench:backup        (KEYS=200 npm run bench:backup for a quicker run; ROUNDS=9 for more
//                                rounds; RESTORE=0 to skip the restore)
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { CeremonyInput } from '../src/core/ceremony/run';
import type { CeremonyStart } from '../src/shared/ceremonies';
import { Terminal } from '../src/core/terminal';
import type { CeremonyView } from '../src/shared/types';
import { LabError } from '../tests/lab/lab';
import { PhaseStalls, labForBench } from './lab-bench';

const KEYS = Number(process.env.KEYS ?? 1000);
const ROUNDS = Number(process.env.ROUNDS ?? 5);
const RESTORE = process.env.RESTORE !== '0';
const root = resolve(import.meta.dirname, '..');
const tsx = join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs');
const CARD = 'bench-backup';
const CARD_PIN = 'bench-backup-pin';
const fmt = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

/**
 * Runs a ceremony to its end, answering PINs and confirmations at once. `ms` is the whole ceremony;
 * `from` the time from the prompt whose text starts with `phase` to the end (the part after the
 * officers' last answer: the write of a backup, the unwrap loop of a restore).
 */
async function ceremony(terminal: Terminal, start: CeremonyStart, phase: string, split = '', stalls?: PhaseStalls): Promise<{ view: CeremonyView; ms: number; from: number; split: number }> {
  const begin = performance.now();
  let phaseStart = begin;
  let splitAt = 0;
  terminal.ceremonies.start(start, { retryWrongPin: false });
  let handled = 0;
  let phaseName = '';
  for (;;) {
    const view = terminal.ceremonies.running()?.snapshot() as CeremonyView;
    // A phase is a prompt's text (counts in it blanked, so "writing 120/3000" is one phase).
    const name = `${start.kind}: ${view.prompt.text.replace(/\d+/g, '#').slice(0, 90)}`;
    if (name !== phaseName) {
      phaseName = name;
      stalls?.phase(name);
      if (process.env.BENCH_VERBOSE) console.error(`  [${(performance.now() - begin).toFixed(0)} ms] ${name}`);
    }
    if (['done', 'failed', 'cancelled'].includes(view.prompt.kind)) {
      stalls?.end();
      if (view.prompt.kind !== 'done') throw new Error(`${start.kind}: ${view.prompt.text}`);
      const end = performance.now();
      return { view, ms: end - begin, from: end - phaseStart, split: splitAt ? splitAt - phaseStart : 0 };
    }
    if (view.prompt.seq > handled) {
      handled = view.prompt.seq;
      if (view.prompt.text.startsWith(phase)) phaseStart = performance.now();
      if (split && view.prompt.text.startsWith(split)) splitAt = performance.now();
      const p = view.prompt.kind;
      const input: CeremonyInput | null =
        p === 'choose-pin' ? { kind: 'pin', pin: Buffer.from(CARD_PIN), repeat: Buffer.from(CARD_PIN) } : p === 'enter-pin' ? { kind: 'pin', pin: Buffer.from(CARD_PIN) } : p === 'confirm' ? { kind: 'confirm' } : null;
      if (input) terminal.ceremonies.provide(view.id, input);
      continue;
    }
    await new Promise<void>((done) => {
      const stop = terminal.ceremonies.onCeremony(() => {
        stop();
        done();
      });
    });
  }
}

async function main(): Promise<void> {
  const { lab } = await labForBench();
  const state = lab.state();
  const env = { ...process.env, SOFTHSM2_CONF: state.softhsmConf };
  const label = `Bench Backup ${KEYS}`;
  let fresh = false;
  try {
    await lab.newPartition(label);
    fresh = true;
    console.log(`Filling "${label}" with ${KEYS} RSA-2048 + ${KEYS} EC P-256 + ${KEYS} AES-256 keys, once...`);
    execFileSync(process.execPath, [tsx, join(root, 'bench', 'fill-backup.ts'), state.modulePath, state.softhsmConf, label, state.userPin, String(KEYS)], { stdio: 'inherit', env });
  } catch (error) {
    if (!(error instanceof LabError && /exists already/.test(error.message))) throw error;
    console.log(`Reusing "${label}".`);
  }
  for (const card of state.cards) if (card.reader) await lab.remove(card.holder);
  if (!state.cards.some((c) => c.holder === CARD)) await lab.newCard(CARD);
  else if (fresh) await lab.blankCard(CARD);
  await lab.insert(CARD);

  const tag = Date.now().toString(36);
  const bareTarget = (await lab.newPartition(`Bench bare ${tag}`)).label;
  const coreTarget = (await lab.newPartition(`Bench core ${tag}`)).label;
  const bareSessions = (): number =>
    (JSON.parse(execFileSync(process.execPath, [tsx, join(root, 'bench', 'bare-wrap-sessions.ts'), state.modulePath, state.softhsmConf, label, state.userPin], { env, encoding: 'utf8' })) as { wrap: number }).wrap;
  const bareRun = (target?: string): { keys: number; wrap: number; unwrap: number } =>
    JSON.parse(execFileSync(process.execPath, [tsx, join(root, 'bench', 'bare-backup.ts'), state.modulePath, state.softhsmConf, label, state.userPin, ...(target ? [target] : [])], { env, encoding: 'utf8' })) as { keys: number; wrap: number; unwrap: number };

  const media = mkdtempSync(join(tmpdir(), 'tessera-bench-usb-'));
  const terminal = await Terminal.open({ home: mkdtempSync(join(tmpdir(), 'tessera-bench-')), frontEnd: 'cli', mediaStandIns: [media] });
  const stalls = new PhaseStalls();
  try {
    await terminal.readers.start();
    await terminal.partition.selectByLabel(state.modulePath, label);
    await terminal.partition.login(Buffer.from(state.userPin));
    if (!terminal.backup.backupSet()) await ceremony(terminal, { kind: 'backup-set', holders: ['bench'], threshold: 1 }, '', '', stalls);
    // A reused partition's set is known to this fresh terminal only from the partition's anchor:
    // its fingerprint is given as the CLI's --trust-set would give it (no officer at the bench).
    const trustSet = terminal.backup.backupSet()?.fingerprint;
    const rounds: { bare: number; two: number; core: number; split: number; whole: number }[] = [];
    let keys = 0;
    let backup: Awaited<ReturnType<typeof ceremony>> | null = null;
    for (let round = 0; round < ROUNDS; round++) {
      const bare = bareRun();
      const two = bareSessions();
      keys = bare.keys;
      backup = await ceremony(terminal, { kind: 'backup', media, trustSet }, 'Back up', 'Reading the backup back', stalls);
      rounds.push({ bare: bare.wrap, two, core: backup.from, split: backup.split, whole: backup.ms });
    }
    const report = backup?.view.result?.kind === 'backup' ? backup.view.result.report : null;
    await terminal.partition.logout();

    console.log(`\nBackup and restore of ${keys} keys (${KEYS} RSA-2048, ${KEYS} EC P-256, ${KEYS} AES-256)`);
    console.log(`  BACKUP, ${ROUNDS} rounds (each: the bare C_WrapKey loop on one session; the same loop split over two`);
    console.log('    sessions on two threads, as core wraps; then core after the officers confirm: wrap on two sessions,');
    console.log('    encrypt, sign, write, fsync, rename, read back, verify, manifest)');
    console.log('    round   bare loop   bare, 2 sessions   core      core/bare   core/bare 2 sessions   (core: wrapping, encrypting, writing + reading back, verifying)');
    rounds.forEach((r, i) => console.log(`    ${String(i + 1).padStart(5)}   ${fmt(r.bare)}      ${fmt(r.two)}             ${fmt(r.core)}    ${(r.core / r.bare).toFixed(2)}x       ${(r.core / r.two).toFixed(2)}x                  (${fmt(r.split)} + ${fmt(r.core - r.split)})`));
    const ratio = median(rounds.map((r) => r.core / r.bare));
    const ratioTwo = median(rounds.map((r) => r.core / r.two));
    console.log(`    median  ${fmt(median(rounds.map((r) => r.bare)))}      ${fmt(median(rounds.map((r) => r.two)))}             ${fmt(median(rounds.map((r) => r.core)))}    ${ratio.toFixed(2)}x       ${ratioTwo.toFixed(2)}x   (medians of the rounds' ratios)`);
    console.log(`    target: core within 1.30x of the bare C_WrapKey loop: ${ratio <= 1.3 ? 'met' : 'NOT met'} (${ratio.toFixed(2)}x); against the bare loop on two sessions: ${ratioTwo.toFixed(2)}x`);
    console.log(`    core, whole ceremony incl. the preview (every attribute of every object read): median ${fmt(median(rounds.map((r) => r.whole)))}`);
    let counts: { restored: number; failed: number } | null = null;
    if (RESTORE) {
      const bare = bareRun(bareTarget);
      await terminal.partition.selectByLabel(state.modulePath, coreTarget);
      await terminal.partition.login(Buffer.from(state.userPin));
      const restore = await ceremony(terminal, { kind: 'restore', file: report?.file ?? '', onConflict: 'skip', trustSet }, 'Restoring', '', stalls);
      counts = restore.view.result?.kind === 'restore' ? restore.view.result.report.counts : null;
      await terminal.partition.logout();
      console.log('  RESTORE');
      console.log(`    bare C_UnwrapKey loop (token objects, minimal template)      ${fmt(bare.unwrap)}`);
      console.log(`    core unwrap loop (full template, each key checked, attributes compared)  ${fmt(restore.from)}   ratio ${(restore.from / bare.unwrap).toFixed(2)}x (target <= 1.30x)`);
      console.log(`    core, whole ceremony (read + verify file, 1 card incl. its 256 MiB KDF, decrypt, survey target)  ${fmt(restore.ms)}   ratio ${(restore.ms / bare.unwrap).toFixed(2)}x`);
    }
    console.log(`  backup file ${((report?.size ?? 0) / 1e6).toFixed(1)} MB, ${report?.objects} objects${counts ? `; restored ${counts.restored}, failed ${counts.failed}` : ''}`);
    console.log(`  peak memory (max RSS of this process) ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`);
    const longest = (kind: string): number => Math.max(0, ...stalls.phases.filter((p) => p.name.startsWith(`${kind}:`)).map((p) => p.ms));
    console.log(`  longest event-loop stall: backup ${longest('backup').toFixed(1)} ms, restore ${longest('restore').toFixed(1)} ms   (target < 50 ms)`);
    console.log('  longest event-loop stall per phase (each ceremony prompt):');
    console.log(stalls.report());
  } finally {
    await lab.remove(CARD);
    await terminal.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
