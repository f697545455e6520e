// The `tessera` command as automation and auditors run it: its own process, JSON out, exit codes.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import type { AuditEntryView, ObjectSummary, PartitionView, ReadersSnapshot } from '../../src/shared/types';
import { LAB_USER_PIN } from '../lab/lab';
import { lab, parseObjectList, pkcs11Tool, root, tempHome, tessera } from './support';

const state = lab.state();
const key = (o: { kind?: string; class?: string; label: string; id: string }): string => `${o.kind ?? o.class}|${o.label}|${o.id}`;

describe('tessera CLI', () => {
  it('status --json describes the lab partition by default', () => {
    const result = tessera(['status', '--json'], { home: tempHome() });
    expect(result.status).toBe(0);
    const view = JSON.parse(result.stdout) as PartitionView;
    expect(view.token.label).toBe(state.tokenLabel);
    expect(view.token.serial).toMatch(/^[0-9a-f]{16}$/);
    expect(view.mechanisms.length).toBeGreaterThan(20);
  });

  it('objects --json agrees with pkcs11-tool, without and with --login --pin-fd', () => {
    const home = tempHome();
    const pub = tessera(['objects', '--json'], { home });
    expect(pub.status).toBe(0);
    const publicObjects = JSON.parse(pub.stdout) as ObjectSummary[];
    expect(publicObjects.map(key).sort()).toEqual(parseObjectList(pkcs11Tool(['--token-label', state.tokenLabel, '--list-objects'])).map(key).sort());

    // Listed first: the first crypto-officer session to end on a partition makes its audit key.
    const expected = parseObjectList(pkcs11Tool(['--token-label', state.tokenLabel, '--login', '--pin', LAB_USER_PIN, '--list-objects'])).map(key).sort();
    const all = tessera(['objects', '--json', '--login', '--pin-fd', '3', '--module', state.modulePath, '--token', state.tokenLabel], { home, fds: [`${LAB_USER_PIN}\n`] });
    expect(all.status).toBe(0);
    const objects = JSON.parse(all.stdout) as ObjectSummary[];
    expect(objects.map(key).sort()).toEqual(expected);
    for (const o of objects) expect(Object.keys(o)).toEqual(expect.arrayContaining(['label', 'class', 'id']));

    const audit = JSON.parse(tessera(['audit', 'list', '--json'], { home }).stdout) as AuditEntryView[];
    expect(audit.map((e) => `${e.action}:${e.outcome}`)).toEqual(['partition.logout:ok', 'audit.seal:ok', 'partition.login:ok']);
    expect(audit[2]?.actor).toMatch(/command line/);
  });

  it('fails with one line and a non-zero exit on a wrong PIN, and audits the attempt', () => {
    const home = tempHome();
    const result = tessera(['objects', '--login', '--pin-fd', '3'], { home, fds: ['definitely-wrong\n'] });
    expect(result.status).toBe(1);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/^tessera: The PIN is wrong\./);
    expect(result.stderr).not.toContain('definitely-wrong');
    const audit = JSON.parse(tessera(['audit', 'list', '--json'], { home }).stdout) as AuditEntryView[];
    expect(audit[0]).toMatchObject({ action: 'partition.login', outcome: 'failed' });
    expect(tessera(['audit', 'verify'], { home }).status).toBe(0);
  });

  it('explains bad arguments: a missing module, an unknown partition, a closed descriptor, a bad command', () => {
    const home = tempHome();
    const module = tessera(['status', '--module', '/no/such/module.so'], { home });
    expect(module.status).toBe(1);
    expect(module.stderr).toMatch(/^tessera: There is no PKCS#11 module at \/no\/such\/module\.so/);
    const token = tessera(['status', '--token', 'No Such Partition'], { home });
    expect(token.status).toBe(1);
    expect(token.stderr).toMatch(/No partition labelled "No Such Partition"/);
    const fd = tessera(['objects', '--login', '--pin-fd', '7'], { home });
    expect(fd.status).toBe(1);
    expect(fd.stderr).toMatch(/file descriptor 7/);
    expect(tessera(['format-everything'], { home }).status).toBe(2);
    expect(tessera(['audit', 'list', '--limit', 'many'], { home }).status).toBe(1);
  });

  it('readers --json lists the lab readers and the cards in them', async () => {
    if (!(lab.status().cards as { holder: string; inserted: boolean }[]).find((c) => c.holder === 'grace')?.inserted) await lab.insert('grace');
    try {
      const result = tessera(['readers', '--json'], { home: tempHome() });
      expect(result.status).toBe(0);
      const snapshot = JSON.parse(result.stdout) as ReadersSnapshot;
      expect(snapshot.service).toBe('running');
      const reader = lab.state().cards.find((c) => c.holder === 'grace')?.reader;
      expect(snapshot.readers.find((r) => r.name === reader)?.condition).toBe('card-present');
      expect(snapshot.readers).toHaveLength(6);
    } finally {
      await lab.remove('grace');
    }
  });

  it('works through npx, PIN descriptor included', () => {
    const out = execFileSync('bash', ['-c', `npx --no-install tessera objects --json --login --pin-fd 3 3<<<'${LAB_USER_PIN}'`], {
      cwd: root,
      env: { ...process.env, ...lab.env(), TESSERA_HOME: tempHome() },
      encoding: 'utf8',
    });
    expect((JSON.parse(out) as ObjectSummary[]).some((o) => o.class === 'private-key')).toBe(true);
  });
});
