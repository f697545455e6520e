import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type AuditRow, entryHash, entryMac, genesisHash, genesisMac, verifyChain } from '../../src/core/audit/chain';

const key = randomBytes(32);
const INSTALL = 'install-1';

function chain(n: number): AuditRow[] {
  const rows: AuditRow[] = [];
  let prevMac = genesisMac(key, INSTALL);
  let prevHash = genesisHash(INSTALL);
  for (let seq = 1; seq <= n; seq++) {
    const fields = { time: `2026-01-01T00:00:${String(seq).padStart(2, '0')}Z`, actor: 'officer', action: `act.${seq}`, target: 'Tessera Lab', outcome: 'ok' as const, details: { n: seq, note: 'x' } };
    const mac = entryMac(key, fields, prevMac);
    const hash = entryHash(seq, prevHash, fields);
    rows.push({ ...fields, seq, prevMac, mac, hash });
    prevMac = mac;
    prevHash = hash;
  }
  return rows;
}

function anchorOf(rows: AuditRow[]): { seq: number; mac: Buffer } {
  const last = rows.at(-1) as AuditRow;
  return { seq: last.seq, mac: last.mac };
}

const at = (rows: AuditRow[], i: number): AuditRow => rows[i] as AuditRow;

describe('audit chain verification', () => {
  it('accepts an intact chain, and an empty one', () => {
    const rows = chain(5);
    expect(verifyChain(rows, key, INSTALL, anchorOf(rows))).toEqual({ intact: true, entries: 5, problem: null });
    expect(verifyChain([], key, INSTALL, null).intact).toBe(true);
  });

  it('names an altered entry', () => {
    const rows = chain(5);
    rows[2] = { ...at(rows, 2), actor: 'mallory' };
    expect(verifyChain(rows, key, INSTALL, anchorOf(rows)).problem).toMatchObject({ seq: 3, kind: 'altered' });
    const detail = chain(5);
    detail[3] = { ...at(detail, 3), details: { n: 4, note: 'y' } };
    expect(verifyChain(detail, key, INSTALL, null).problem).toMatchObject({ seq: 4, kind: 'altered' });
  });

  it('does not accept a chain made with another key or for another installation', () => {
    const rows = chain(3);
    expect(verifyChain(rows, randomBytes(32), INSTALL, null).problem).toMatchObject({ seq: 1, kind: 'altered' });
    expect(verifyChain(rows, key, 'install-2', null).problem).toMatchObject({ seq: 1, kind: 'removed' });
  });

  it('names the entry after a removed one, also at the start', () => {
    const rows = chain(6);
    expect(verifyChain([...rows.slice(0, 2), ...rows.slice(3)], key, INSTALL, anchorOf(rows)).problem).toMatchObject({ seq: 4, kind: 'removed' });
    expect(verifyChain(rows.slice(1), key, INSTALL, anchorOf(rows)).problem).toMatchObject({ seq: 2, kind: 'removed' });
  });

  it('names the first entry out of order when entries are reordered', () => {
    const rows = chain(6);
    // Swap the seq numbers of entries 3 and 5, as an edit of the seq column would.
    const swapped = rows.map((r) => (r.seq === 3 ? { ...r, seq: 5 } : r.seq === 5 ? { ...r, seq: 3 } : r)).sort((a, b) => a.seq - b.seq);
    expect(verifyChain(swapped, key, INSTALL, null).problem).toMatchObject({ seq: 3, kind: 'reordered' });
  });

  it('detects entries cut off the end, thanks to the anchor kept outside the database', () => {
    const rows = chain(6);
    const anchor = anchorOf(rows);
    expect(verifyChain(rows.slice(0, 4), key, INSTALL, anchor).problem).toMatchObject({ seq: 4, kind: 'truncated' });
    expect(verifyChain([], key, INSTALL, anchor).problem).toMatchObject({ kind: 'truncated' });
    // An anchor that lags (the keychain write after the last commit was lost) is not an alarm.
    expect(verifyChain(rows, key, INSTALL, anchorOf(rows.slice(0, 5))).intact).toBe(true);
  });

  it('detects any single change, deletion or swap anywhere (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 12 }), fc.nat(), fc.nat(), fc.constantFrom('edit', 'delete', 'swap'), (n, a, b, how) => {
        const rows = chain(n);
        const anchor = anchorOf(rows);
        const i = a % n;
        const j = b % n;
        let tampered: AuditRow[];
        if (how === 'edit') tampered = rows.map((r, k) => (k === i ? { ...r, target: `${r.target}!` } : r));
        else if (how === 'delete') tampered = rows.filter((_, k) => k !== i);
        else {
          if (i === j) return;
          tampered = rows.map((r, k) => (k === i ? { ...at(rows, j), seq: r.seq } : k === j ? { ...at(rows, i), seq: r.seq } : r));
        }
        const result = verifyChain(tampered, key, INSTALL, anchor);
        expect(result.intact).toBe(false);
        expect(result.problem?.seq).toBe(how === 'delete' && i === n - 1 ? n - 1 : Math.min(i, how === 'swap' ? j : i) + (how === 'delete' ? 2 : 1));
      }),
    );
  });
});
