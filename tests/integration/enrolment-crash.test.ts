// A power cut at any step of an enrolment never locks the officers out: the CLI is killed (SIGKILL,
// at a named step) while it adopts a partition, and the next start finishes or rolls back. Checked
// from outside: pkcs11-tool logs in with whichever SO PIN should work, and a quorum of the cards does.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/core/store/database';
import { removeAll } from './ceremony-driver';
import { lab, pinLogsIn, tempHome, tessera } from './support';

const pins = 'crash-pin-111\ncrash-pin-222\ncrash-pin-333\n';

/** Whether the SO can log in with this PIN (an independent client; a wrong PIN costs one try). */
const soPinWorks = (label: string, soPin: string): boolean => pinLogsIn(label, soPin, 'so');

async function setUp(step: string): Promise<{ label: string; soPin: string; home: string; cards: string[] }> {
  await removeAll();
  const created = await lab.newPartition(`Crash ${step.replace('adopt:', '')} ${Date.now().toString(36)}`.slice(0, 32));
  const cards = ['a', 'b', 'c'].map((x) => `crash-${x}`);
  const known = new Set(lab.state().cards.map((c) => c.holder));
  for (const card of cards) {
    if (known.has(card)) await lab.blankCard(card);
    else await lab.newCard(card);
    await lab.insert(card);
  }
  return { label: created.label, soPin: created.soPin, home: tempHome(), cards };
}

function adopt(home: string, label: string, soPin: string, crashAt?: string): ReturnType<typeof tessera> {
  return tessera(['adopt', '--token', label, '--holders', 'ann,ben,cid', '--threshold', '2', '--so-pin-fd', '3', '--pins-from', '4', '--wait', '20', '--json'], {
    home,
    fds: [`${soPin}\n`, pins],
    env: crashAt ? { TESSERA_TEST_CRASH_AT: crashAt } : {},
  });
}

function soLogin(home: string, label: string): ReturnType<typeof tessera> {
  return tessera(['so-login', '--token', label, '--pins-from', '3', '--wait', '20', '--json'], { home, fds: [pins] });
}

describe('an enrolment killed at each step', () => {
  it.each(['adopt:started', 'adopt:card-1', 'adopt:card-2', 'adopt:card-3'])('rolls back when killed while cards are written (%s): the old SO PIN still works', async (step) => {
    const { label, soPin, home } = await setUp(step);
    const crashed = adopt(home, label, soPin, step);
    expect(crashed.signal).toBe('SIGKILL');
    const list = tessera(['cards', 'list', '--token', label, '--json'], { home });
    expect(list.status).toBe(0);
    expect(list.stderr).toMatch(/rolled back: the partition is as it was/);
    expect(JSON.parse(list.stdout)).toBeNull();
    expect(soPinWorks(label, soPin)).toBe(true);
    const audit = JSON.parse(tessera(['audit', 'list', '--json'], { home }).stdout) as { action: string; details: Record<string, unknown> }[];
    expect(audit[0]).toMatchObject({ action: 'cardset.enrol.recover', details: { result: 'rolled back before the SO PIN was changed' } });
    // The officers can adopt again, with blank cards.
    for (const card of ['crash-a', 'crash-b', 'crash-c']) {
      await lab.remove(card);
      await lab.blankCard(card);
      await lab.insert(card);
    }
    const again = adopt(home, label, soPin);
    expect(again.status, again.stderr).toBe(0);
    expect(soLogin(home, label).status).toBe(0);
  });

  it('a card whose enrolment was killed after its PIN changed is named as such, and the next adoption finishes it with the PIN chosen, at no try', async () => {
    const { label, soPin, home } = await setUp('adopt:card-2-pin-set');
    const crashed = adopt(home, label, soPin, 'adopt:card-2-pin-set');
    expect(crashed.signal).toBe('SIGKILL');
    // Only ben's card in a reader: the check names what stopped on it, and asks for no PIN.
    await lab.remove('crash-a');
    await lab.remove('crash-c');
    const check = tessera(['cards', 'check', '--token', label, '--json'], { home });
    const report = JSON.parse(check.stdout) as { name: string; interrupted: { holder: string } | null; triesLeft: number; pinCorrect: boolean | null };
    expect(report).toMatchObject({ name: "ben's card (enrolment not finished)", interrupted: { holder: 'ben' }, triesLeft: 3, pinCorrect: null });
    await lab.insert('crash-a');
    await lab.insert('crash-c');
    // Adopting again takes the cards as they are: ann's (written for the rolled-back set) and ben's
    // (its PIN is the one ben chose) keep their PINs; cid's is still blank.
    const again = adopt(home, label, soPin);
    expect(again.status, again.stderr).toBe(0);
    // (Taken as a blank card, ben's would have been refused: its PIN is no longer the blank-card PIN.)
    expect(soLogin(home, label).status).toBe(0);
    await removeAll();
    await lab.insert('crash-b');
    const after = JSON.parse(tessera(['cards', 'check', '--token', label, '--pin-fd', '3', '--json'], { home, fds: ['crash-pin-222\n'] }).stdout) as { current: boolean; pinCorrect: boolean; shareIntact: boolean; interrupted: unknown };
    expect(after).toMatchObject({ current: true, pinCorrect: true, shareIntact: true, interrupted: null });
  });

  it('a card written for an enrolment that was rolled back is named as such, and its holder makes it blank again (tessera cards reset)', async () => {
    const { label, soPin, home } = await setUp('reset');
    expect(adopt(home, label, soPin, 'adopt:card-1').signal).toBe('SIGKILL');
    await lab.remove('crash-b');
    await lab.remove('crash-c');
    // ann's card holds a share of the rolled-back set: named, and offered to be made blank.
    const check = JSON.parse(tessera(['cards', 'check', '--token', label, '--json'], { home }).stdout) as { interrupted: { holder: string } | null; problem: string };
    expect(check).toMatchObject({ interrupted: { holder: 'ann' }, problem: expect.stringMatching(/^Its enrolment was cancelled or rolled back/) });
    const wrong = tessera(['cards', 'reset', '--token', label, '--pin-fd', '3'], { home, fds: ['not-anns-pin\n'] });
    expect(wrong.status).toBe(1);
    expect(wrong.stderr).toMatch(/ann's card: PIN wrong, 2 tries left/);
    const reset = tessera(['cards', 'reset', '--token', label, '--pin-fd', '3', '--json'], { home, fds: ['crash-pin-111\n'] });
    expect(reset.status, reset.stderr).toBe(0);
    const blank = JSON.parse(tessera(['cards', 'check', '--token', label, '--json'], { home }).stdout) as { blank: boolean; card: string | null };
    expect(blank).toMatchObject({ blank: true, card: null });
    await removeAll();
  });

  it('stops at a wrong PIN given in advance (--pins-from) rather than trying the next line on another card; bad options exit 2', async () => {
    const { label, soPin, home } = await setUp('pins-from');
    const adopted = adopt(home, label, soPin);
    expect(adopted.status, adopted.stderr).toBe(0);
    const login = tessera(['so-login', '--token', label, '--pins-from', '3', '--wait', '20', '--json'], { home, fds: ['not-anns-pin\ncrash-pin-111\ncrash-pin-222\n'] });
    expect(login.status).toBe(1);
    expect(login.stderr).toMatch(/ann's card: PIN wrong, 2 tries left\. Stopped there: a PIN given in advance is not tried again, nor on another card\./);
    expect(login.stderr).not.toMatch(/ben's card: PIN wrong/);
    expect(JSON.parse(login.stdout)).toMatchObject({ loggedIn: false, error: { code: 'PIN_INCORRECT' } });
    const usage = tessera(['adopt', '--token', label, '--holders', 'x,y', '--threshold', 'x'], { home });
    expect(usage.status).toBe(2);
    expect(usage.stderr).toMatch(/^tessera: Check the options: --threshold is not a number\./);
  });

  it('rolls back when killed just before the SO PIN changed: the first quorum login finds the PIN unchanged', async () => {
    const { label, soPin, home } = await setUp('before-set-pin');
    const crashed = adopt(home, label, soPin, 'adopt:before-set-pin');
    expect(crashed.signal).toBe('SIGKILL');
    const first = tessera(['cards', 'list', '--token', label], { home });
    expect(first.stderr).toMatch(/interrupted while the SO PIN was being changed\. Log in as SO with the new cards to finish it/);
    const login = soLogin(home, label);
    expect(login.status).toBe(1);
    expect(JSON.parse(login.stdout)).toMatchObject({ loggedIn: false, error: { code: 'PIN_INCORRECT', message: expect.stringMatching(/had not changed the SO PIN yet: it is rolled back/) } });
    expect(soPinWorks(label, soPin)).toBe(true);
  });

  it.each(['adopt:after-set-pin', 'adopt:after-anchor'])('finishes when killed after the SO PIN changed (%s): a quorum of the new cards logs in, the old PIN does not', async (step) => {
    const { label, soPin, home } = await setUp(step);
    const crashed = adopt(home, label, soPin, step);
    expect(crashed.signal).toBe('SIGKILL');
    const login = soLogin(home, label);
    expect(login.status, login.stderr).toBe(0);
    expect(JSON.parse(login.stdout)).toMatchObject({ loggedIn: true, holders: ['ann', 'ben'] });
    const list = JSON.parse(tessera(['cards', 'list', '--token', label, '--json'], { home }).stdout) as { m: number; n: number; source: string };
    expect(list).toMatchObject({ m: 2, n: 3, source: 'terminal' });
    expect(execFileSync('pkcs11-tool', ['--module', lab.state().modulePath, '--token-label', label, '--list-objects'], { env: { ...process.env, SOFTHSM2_CONF: lab.state().softhsmConf }, encoding: 'utf8' })).toContain('Tessera card set (so)');
    expect(soPinWorks(label, soPin)).toBe(false);
  });
});

describe('a forged intent in the database', () => {
  it('makes the terminal present a wrong SO credential at most once: further SO logins wait until an officer acknowledges the refusal', async () => {
    const { label, soPin, home } = await setUp('forged-intent');
    // A real adoption killed before C_SetPIN leaves cards and an intent; someone with the database
    // file then moves the intent on, as if the SO PIN had been changed (it was not).
    const crashed = adopt(home, label, soPin, 'adopt:before-set-pin');
    expect(crashed.signal).toBe('SIGKILL');
    const db = openDatabase(join(home, 'tessera.db'));
    try {
      expect(db.prepare("UPDATE intents SET step = 'so-pin-changed' WHERE kind = 'adopt' AND done = 0").run().changes).toBe(1);
    } finally {
      db.close();
    }
    const first = soLogin(home, label);
    expect(first.status).toBe(1);
    expect(JSON.parse(first.stdout)).toMatchObject({ loggedIn: false, error: { code: 'PIN_INCORRECT', message: expect.stringMatching(/acknowledges it/) } });
    // The second try is refused by the terminal before any card is read: the token sees nothing.
    const second = soLogin(home, label);
    expect(second.status).toBe(1);
    expect(JSON.parse(second.stdout)).toMatchObject({ loggedIn: false, error: { code: 'PIN_LOCKED', message: expect.stringMatching(/The HSM refused an SO login from this terminal \(.*cards of ann, ben: PIN_INCORRECT\)\. No SO login is tried/) } });
    expect(second.stderr).not.toMatch(/card read/);
    const logins = (JSON.parse(tessera(['audit', 'list', '--json'], { home }).stdout) as { action: string; outcome: string; details: Record<string, unknown> }[]).filter((e) => e.action === 'so.login');
    expect(logins.map((e) => e.outcome).slice(0, 2)).toEqual(['refused', 'failed']);
    expect(logins[0]?.details).toMatchObject({ error: 'PIN_LOCKED' });
    // The partition's own SO PIN still works: only one wrong credential reached it.
    expect(soPinWorks(label, soPin)).toBe(true);
    // Deleting the terminal's count from the database does not lift the hold: the audit log decides.
    const db2 = openDatabase(join(home, 'tessera.db'));
    try {
      db2.prepare('DELETE FROM so_login_failures').run();
    } finally {
      db2.close();
    }
    const third = soLogin(home, label);
    expect(JSON.parse(third.stdout)).toMatchObject({ loggedIn: false, error: { code: 'PIN_LOCKED' } });
    const shown = JSON.parse(tessera(['cards', 'list', '--token', label, '--json'], { home }).stdout) as { refusedLogins: number } | null;
    expect(shown?.refusedLogins).toBe(1);
    const ack = tessera(['so-acknowledge', '--token', label, '--json'], { home });
    expect(ack.status, ack.stderr).toBe(0);
    expect(JSON.parse(ack.stdout)).toMatchObject({ kind: 'so-acknowledge', failures: 1, failure: expect.stringMatching(/cards of ann, ben: PIN_INCORRECT/) });
    const audit = JSON.parse(tessera(['audit', 'list', '--limit', '1', '--json'], { home }).stdout) as { action: string; details: Record<string, unknown> }[];
    expect(audit[0]).toMatchObject({ action: 'so.login.acknowledged', details: { failures: 1 } });
    const none = tessera(['so-acknowledge', '--token', label], { home });
    expect(none.status).toBe(1);
    expect(none.stderr).toMatch(/No refused SO login of this terminal on .* waits to be acknowledged/);
  });
});
