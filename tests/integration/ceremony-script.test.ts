// Ceremonies run from scripts, on the lab, through the CLI as an administrator would run them
// unattended (--pins-from, --pin-fd, --yes): the shipped practice script end to end (SO login with
// 2 of alice, bob, carol; backup to the lab's media; audit export; logout), its transcript checked
// by `ceremony verify`, by pdftotext and against the audit log; a failing step with an exception;
// preconditions that stop a run before anything is recorded; a bad script named by its line.
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ScriptRunView } from '../../src/shared/script-run';
import type { TranscriptFile } from '../../src/shared/transcript';
import { LAB_USER_PIN } from '../lab/lab';
import { seedPartition } from '../lab/seed';
import { blankCards, removeAll } from './ceremony-driver';
import { lab, openTerminal, root, tempHome, tessera } from './support';

const tag = Date.now().toString(36);
const practice = join(root, 'resources', 'ceremonies', 'practice-backup.yaml');
// One PIN for the three cards: the CLI takes cards in the order the readers list them, and the
// test does not depend on which two of the three it takes.
const cardPins = ['script-pin-1234', 'script-pin-1234', 'script-pin-1234'];
let cards: string[];
let label: string;
let serial: string;
let home: string;

interface RunResult extends Pick<ScriptRunView, 'practice' | 'title' | 'steps' | 'exceptions' | 'transcript' | 'preconditions'> {
  outcome: string;
}
interface AuditLine {
  seq: number;
  action: string;
  outcome: string;
  details: Record<string, unknown>;
}
const audit = (): AuditLine[] => JSON.parse(tessera(['audit', 'list', '--limit', '1000', '--json'], { home }).stdout) as AuditLine[];

function run(script: string, extra: string[] = [], pins = cardPins.slice(0, 2)): { status: number | null; result: RunResult; stderr: string } {
  const out = tessera(['ceremony', 'run', script, '--token', label, '--pins-from', '3', '--pin-fd', '4', '--yes', '--wait', '10', '--json', ...extra], { home, fds: [`${pins.join('\n')}\n`, `${LAB_USER_PIN}\n`] });
  return { status: out.status, result: JSON.parse(out.stdout || '{}') as RunResult, stderr: out.stderr };
}

function scriptFile(text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'script-')), 'ceremony.yaml');
  writeFileSync(file, text);
  return file;
}

beforeAll(async () => {
  await removeAll();
  const created = await lab.newPartition(`Script ${tag}`);
  ({ label, serial } = created);
  const state = lab.state();
  seedPartition(state.modulePath, state.softhsmConf, label, LAB_USER_PIN);
  cards = await blankCards('script', 3);
  for (const card of cards) await lab.insert(card);
  home = tempHome();
  const adopted = tessera(['adopt', '--token', label, '--holders', 'alice,bob,carol', '--threshold', '2', '--so-pin-fd', '3', '--pins-from', '4', '--wait', '15', '--json'], { home, fds: [`${created.soPin}\n`, `${cardPins.join('\n')}\n`] });
  expect(adopted.status, adopted.stderr).toBe(0);
  const set = tessera(['backup-set', 'create', '--token', label, '--holders', 'alice,bob,carol', '--threshold', '2', '--pins-from', '3', '--pin-fd', '4', '--json'], { home, fds: [`${cardPins.join('\n')}\n`, `${LAB_USER_PIN}\n`] });
  expect(set.status, set.stderr).toBe(0);
}, 180_000);

afterAll(async () => {
  await removeAll();
});

describe('tessera ceremony run', () => {
  it('runs the practice script end to end unattended: a transcript signed by the partition, PRACTICE everywhere, hashed into the audit log', () => {
    const before = audit()[0]?.seq ?? 0;
    const { status, result, stderr } = run(practice, ['--practice']);
    expect(status, stderr).toBe(0);
    expect(result).toMatchObject({ outcome: 'completed', practice: true, title: 'Practice backup of the training partition', exceptions: [] });
    expect(result.steps.map((s) => [s.do, s.state])).toEqual([
      ['so-login', 'done'],
      ['backup', 'done'],
      ['audit-export', 'done'],
      ['logout', 'done'],
    ]);
    const holders = result.steps[0]?.cards.map((c) => c.holder) ?? [];
    expect(holders).toHaveLength(2);
    expect(new Set(holders).size).toBe(2);
    for (const h of holders) expect(['alice', 'bob', 'carol']).toContain(h);
    expect(result.steps[1]?.details.join(' ')).toMatch(/The SO session was ended first.*The backup file .* read back and verified/);
    const transcript = result.transcript as NonNullable<RunResult['transcript']>;
    expect(transcript.json).toMatch(/PRACTICE-practice-backup-of-the-training-partition-.*\.transcript\.json$/);
    expect(existsSync(transcript.pdf)).toBe(true);
    expect(stderr).toMatch(/\[PRACTICE\] Step 1 of 4/);

    // Offline check: valid, practice, the PDF beside it matches.
    const verified = tessera(['ceremony', 'verify', transcript.json, '--json'], { home: tempHome() });
    expect(verified.status, verified.stderr).toBe(0);
    expect(JSON.parse(verified.stdout)).toMatchObject({ valid: true, practice: true, pdf: 'matches', digest: transcript.digest });

    // The printout names every officer and says PRACTICE on every page.
    const text = execFileSync('pdftotext', ['-layout', transcript.pdf, '-'], { encoding: 'utf8' });
    for (const name of ['alice', 'bob', 'carol', 'dana', 'erin', 'frank']) expect(text).toContain(name);
    const pages = text.split('\f').filter((p) => p.trim().length > 0);
    expect(pages.length).toBeGreaterThan(0);
    for (const page of pages) expect(page).toMatch(/PRACTICE/);
    const file = JSON.parse(readFileSync(transcript.json, 'utf8')) as TranscriptFile;
    expect(text).toContain(file.transcript.script.sha256.slice(0, 32));
    expect(file.transcript.script.sha256).toBe(createHash('sha256').update(readFileSync(practice)).digest('hex'));
    expect(file.transcript.partition).toMatchObject({ label, serial, script: { label: 'Tessera Lab' } });

    // Every entry the run wrote says practice; the transcript's hashes are the log's last words before the seal.
    const entries = audit().filter((e) => e.seq > before);
    expect(entries.length).toBeGreaterThan(8);
    const marked = entries.filter((e) => e.details.practice === true);
    // The SO logout and the final seal/logout (after the transcript, unmarked) aside, every entry says PRACTICE.
    expect(marked.map((e) => e.action)).toEqual(expect.arrayContaining(['ceremony.script.start', 'so.login', 'backup.create', 'audit.export', 'ceremony.step', 'ceremony.transcript']));
    const recorded = entries.find((e) => e.action === 'ceremony.transcript') as AuditLine;
    expect(recorded.details).toMatchObject({ jsonSha256: createHash('sha256').update(readFileSync(transcript.json)).digest('hex'), pdfSha256: createHash('sha256').update(readFileSync(transcript.pdf)).digest('hex'), digest: transcript.digest });
    expect(entries.filter((e) => e.seq > recorded.seq).sort((a, b) => a.seq - b.seq).map((e) => e.action)).toEqual(['audit.seal', 'partition.logout']);

    // An altered transcript fails: one step's outcome changed.
    const altered = join(mkdtempSync(join(tmpdir(), 'altered-')), 'altered.transcript.json');
    const edited = { ...file, transcript: { ...file.transcript, steps: file.transcript.steps.map((s, i) => (i === 1 ? { ...s, details: ['Nothing happened.'] } : s)) } };
    writeFileSync(altered, JSON.stringify(edited, null, 2));
    copyFileSync(transcript.pdf, join(altered, '..', file.pdf.file));
    const refused = tessera(['ceremony', 'verify', altered], { home: tempHome() });
    expect(refused.status).toBe(1);
    expect(refused.stdout).toMatch(/NOT VALID: The transcript was altered/);
  }, 240_000);

  it('records the exception of a failed step and goes on when the script says so', () => {
    const script = scriptFile(`tessera-ceremony: 1
title: Exception drill
partition: { label: Tessera Lab, serial: "0000000000000000" }
roster:
  administrator: dana
  witnesses: [erin]
  officers:
    - { name: frank, roles: [crypto-officer] }
steps:
  - do: backup
    media: /nonexistent/stick
    on-exception: continue
  - do: manual
    by: erin
    text: The witness notes the missing stick on the exception sheet
  - do: audit-export
    media: lab
  - do: logout
`);
    const { status, result, stderr } = run(script, ['--practice'], []);
    expect(status, stderr).toBe(0);
    expect(result.outcome).toBe('completed');
    expect(result.steps.map((s) => s.state)).toEqual(['failed', 'confirmed', 'done', 'done']);
    expect(result.steps[0]?.details.join(' ')).toMatch(/media is not there/);
    expect(result.exceptions).toHaveLength(1);
    expect(result.exceptions[0]).toMatchObject({ step: 1, by: 'dana', then: 'continued', text: expect.stringMatching(/Step 1 did not succeed/) });
    const pdf = execFileSync('pdftotext', [(result.transcript as NonNullable<RunResult['transcript']>).pdf, '-'], { encoding: 'utf8' });
    expect(pdf).toMatch(/Step 1 did not succeed/);
    expect(audit().some((e) => e.action === 'ceremony.exception' && e.details.step === 1 && e.details.then === 'continued')).toBe(true);
  }, 180_000);

  it('stops at a failed step whose script says stop; the transcript says stopped and the command fails', () => {
    const script = scriptFile(`tessera-ceremony: 1
title: Stop drill
partition: { label: Tessera Lab, serial: "0000000000000000" }
roster:
  administrator: dana
  witnesses: []
  officers:
    - { name: frank, roles: [crypto-officer] }
steps:
  - do: key-invalidate
    id: "ffff"
  - do: logout
`);
    const { status, result } = run(script, ['--practice'], []);
    expect(status).toBe(1);
    expect(result.outcome).toBe('stopped');
    expect(result.steps.map((s) => s.state)).toEqual(['failed', 'todo']);
    expect(result.transcript).not.toBeNull();
    const verified = tessera(['ceremony', 'verify', (result.transcript as NonNullable<RunResult['transcript']>).json, '--json'], { home: tempHome() });
    expect(JSON.parse(verified.stdout)).toMatchObject({ valid: true, outcome: 'stopped' });
  }, 120_000);

  it('does not begin when a precondition is not met (another partition, another card set) and records nothing', () => {
    const before = audit()[0]?.seq ?? 0;
    const text = readFileSync(practice, 'utf8').replace('threshold: 2 }', 'threshold: 3 }');
    const { status, result } = run(scriptFile(text), ['--practice']);
    expect(status).toBe(1);
    expect(result.outcome).toBe('not begun');
    expect(result.preconditions.find((p) => p.what === 'SO card set')).toMatchObject({ met: false, detail: expect.stringMatching(/is 2 of alice, bob, carol; the script expects 3 of alice, bob, carol/) });
    // Not in practice: the script's partition must be the chosen one.
    const real = run(practice);
    expect(real.status).toBe(1);
    expect(real.result.preconditions[0]).toMatchObject({ what: 'partition', met: false, detail: expect.stringMatching(/The script is for “Tessera Lab” \(serial 0000000000000000\)/) });
    expect(audit()[0]?.seq ?? 0).toBe(before);
  }, 120_000);

  it('a run killed between steps is said at the next start and recorded as interrupted; no transcript pretends otherwise', () => {
    const killed = tessera(['ceremony', 'run', practice, '--token', label, '--practice', '--pins-from', '3', '--pin-fd', '4', '--yes', '--wait', '10', '--json'], { home, fds: [`${cardPins.slice(0, 2).join('\n')}\n`, `${LAB_USER_PIN}\n`], env: { TESSERA_TEST_CRASH_AT: 'ceremony-script:step-3' } });
    expect(killed.signal).toBe('SIGKILL');
    const next = tessera(['audit', 'list', '--limit', '1', '--json'], { home });
    expect(next.status).toBe(0);
    expect(next.stderr).toMatch(/The ceremony “Practice backup of the training partition” \(practice-backup\.yaml\), begun .*, was interrupted at step 3: no transcript was written/);
    const interrupted = audit().find((e) => e.action === 'ceremony.interrupted') as AuditLine;
    expect(interrupted).toMatchObject({ outcome: 'failed', details: { reached: 'step-3', practice: true } });
    // Said once: the next start has nothing more to say.
    expect(tessera(['audit', 'list', '--limit', '1'], { home }).stderr).not.toMatch(/interrupted/);
  }, 120_000);

  it('in the window, a script opens only from the offered media or the examples, and its steps use only offered media', async () => {
    const state = lab.state();
    const terminal = await openTerminal(home, 'gui');
    const onStick = join(state.mediaDir, `window-${tag}.yaml`);
    writeFileSync(onStick, `tessera-ceremony: 1
title: Window drill
partition: { label: Tessera Lab, serial: "0000000000000000" }
roster:
  administrator: dana
  witnesses: []
  officers:
    - { name: frank, roles: [crypto-officer] }
steps:
  - do: audit-export
    media: /tmp
    on-exception: continue
  - do: audit-export
    media: lab
`);
    try {
      await terminal.partition.selectByLabel(state.modulePath, label);
      const listed = await terminal.scripts.list();
      expect(listed.map((f) => f.name)).toEqual(expect.arrayContaining([`window-${tag}.yaml`, 'practice-backup.yaml']));
      const elsewhere = scriptFile(readFileSync(onStick, 'utf8'));
      await expect(terminal.scripts.open(elsewhere, true)).rejects.toMatchObject({ code: 'INVALID_REQUEST', message: expect.stringMatching(/Open a script from the media or the examples/) });
      const view = await terminal.scripts.open(onStick, true);
      const run = terminal.scripts.with(view.id);
      await run.begin();
      // A run that has begun keeps the desk until its transcript is written.
      await expect(terminal.scripts.open(onStick, true)).rejects.toMatchObject({ message: expect.stringMatching(/has begun and its transcript is not written yet/) });
      const failed = await run.runStep();
      expect(failed).toMatchObject({ waiting: 'exception', steps: [expect.objectContaining({ state: 'failed', details: [expect.stringMatching(/The script names \/tmp, which is not a USB stick the terminal offers/)] }), expect.anything()] });
      await run.recordException('The script named a folder, not the stick.', 'dana');
      const exported = await run.runStep();
      expect(exported.steps[1]).toMatchObject({ state: 'done' });
      expect(exported.waiting).toBe('sign');
      await expect(run.finish()).rejects.toMatchObject({ code: 'NOT_LOGGED_IN' });
      await terminal.partition.login(Buffer.from(LAB_USER_PIN));
      const ended = await run.finish();
      expect(ended).toMatchObject({ waiting: 'ended', outcome: 'completed', exceptions: [expect.objectContaining({ step: 1, then: 'continued' })] });
      expect(() => terminal.scripts.close('00000000-0000-4000-8000-000000000000')).toThrow(/not the one open/);
      terminal.scripts.close(view.id);
      expect(terminal.scripts.current()).toBeNull();
    } finally {
      rmSync(onStick, { force: true });
      await terminal.close();
    }
  }, 120_000);

  it('a card PIN given wrong in advance stops the SO login, and is not taken for a refusal by the HSM', () => {
    const wrong = tessera(['so-login', '--token', label, '--pins-from', '3', '--wait', '10', '--json'], { home, fds: ['not-the-pin\nnot-the-pin\n'] });
    expect(wrong.status).toBe(1);
    expect(wrong.stderr).toMatch(/PIN wrong/);
    const right = tessera(['so-login', '--token', label, '--pins-from', '3', '--wait', '10', '--json'], { home, fds: [`${cardPins.slice(0, 2).join('\n')}\n`] });
    expect(right.stderr).not.toMatch(/refused an SO login/);
    expect(right.status, right.stderr).toBe(0);
  }, 120_000);

  it('refuses a script with a mistake, naming its line, before anything happens', () => {
    const bad = scriptFile(readFileSync(practice, 'utf8').replace('do: backup', 'do: backpu'));
    const out = tessera(['ceremony', 'run', bad, '--token', label, '--practice', '--yes'], { home });
    expect(out.status).toBe(1);
    expect(out.stderr).toMatch(/ceremony\.yaml line \d+, column \d+: steps\[2\]\.do: "backpu" is not an operation/);
  });
});
