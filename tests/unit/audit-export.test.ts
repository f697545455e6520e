// The export format and its offline check, without the lab: chains built here with the documented
// rules, seals signed with a P-256 key made by node:crypto (it stands in for the partition's audit
// key, which the integration tests use through PKCS#11).
import { createHash, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type AuditFields, type AuditRow, entryHash, entryMac, genesisHash, genesisMac } from '../../src/core/audit/chain';
import { EXPORT_FORMAT, type ExportHeader, exportText, verifyExport } from '../../src/core/audit/export-format';
import { sealDetails, sealStatement } from '../../src/core/audit/seal';

const INSTALL = '0b6f9a4e-5d1c-4f3e-9a61-2b7c8d9e0f11';
const key = randomBytes(32);
const partition = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const spki = partition.publicKey.export({ format: 'der', type: 'spki' });
const fp = createHash('sha256').update(spki).digest('hex');

/** A log of `n` entries with a v2 seal after each seq in `sealAfter` (seals count as entries). */
function log(n: number, sealAfter: number[], signer = partition, v1 = false): AuditRow[] {
  const rows: AuditRow[] = [];
  let prevMac = genesisMac(key, INSTALL);
  let prevHash = genesisHash(INSTALL);
  const push = (action: string, details: AuditFields['details']): void => {
    const seq = rows.length + 1;
    const fields: AuditFields = { time: `2026-11-30T10:00:${String(seq).padStart(2, '0')}.000Z`, actor: 'officer', action, target: 'Lab (serial 1)', outcome: 'ok', details };
    const mac = entryMac(key, fields, prevMac);
    const hash = entryHash(seq, prevHash, fields);
    rows.push({ ...fields, seq, prevMac, mac, hash });
    prevMac = mac;
    prevHash = hash;
  };
  for (let i = 1; i <= n; i++) {
    push('test.step', { step: i, note: i === 2 ? 'tab\there, newline\nthere, “quotes”' : 'x' });
    if (sealAfter.includes(i)) {
      const head = rows.at(-1) as AuditRow;
      const hash = v1 ? undefined : (head.hash as Buffer);
      const signature = sign('sha256', sealStatement(INSTALL, head.seq, head.mac, hash), { key: signer.privateKey, dsaEncoding: 'ieee-p1363' });
      push('audit.seal', sealDetails(head.seq, head.mac, signer.publicKey.export({ format: 'der', type: 'spki' }), signature, 'serial-1', hash));
    }
  }
  return rows;
}

function exported(rows: AuditRow[], from = 1): Buffer {
  const part = rows.filter((r) => r.seq >= from);
  const previous = from === 1 ? genesisHash(INSTALL) : (rows[from - 2]?.hash as Buffer);
  const header: ExportHeader = {
    format: EXPORT_FORMAT,
    hashChain: 'tessera-audit-hash-v1',
    installation: INSTALL,
    exported: '2026-11-30T11:00:00.000Z',
    from,
    through: (part.at(-1) as AuditRow).seq,
    count: part.length,
    previousHash: previous.toString('hex'),
    headHash: ((part.at(-1) as AuditRow).hash as Buffer).toString('hex'),
    period: { since: null, until: null, sinceLastExport: false },
    partition: null,
  };
  return exportText(header, part);
}

const lines = (bytes: Buffer): string[] => bytes.toString('utf8').split('\n').slice(0, -1);
const join = (l: string[]): Buffer => Buffer.from(`${l.join('\n')}\n`);

describe('audit export format', () => {
  it('verifies a whole export, its seals, and says which entries no seal covers', () => {
    const result = verifyExport(exported(log(6, [3])));
    // 6 steps + 1 seal after step 3 (seq 4): the seal covers 1..3 and itself; 5..7 are unsealed.
    expect(result).toMatchObject({ valid: true, from: 1, through: 7, entries: 7, seals: { verified: 1, through: 3, keys: [fp], uncheckable: 0 }, unsealed: { from: 5, through: 7 }, problem: null });
    expect(verifyExport(exported(log(6, [3, 6])))).toMatchObject({ valid: true, unsealed: null, seals: { verified: 2, through: 7 } });
  });

  it('with a signer: valid only when that key sealed it', () => {
    const rows = log(4, [4]);
    expect(verifyExport(exported(rows), fp)).toMatchObject({ valid: true, signer: { fingerprint: fp, sealedThrough: 4 } });
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const forged = log(4, [4], other);
    expect(verifyExport(exported(forged))).toMatchObject({ valid: true });
    expect(verifyExport(exported(forged), fp)).toMatchObject({ valid: false, problem: { kind: 'signer' } });
  });

  it('an export of a later period checks from the hash it starts after; seals of earlier heads still verify', () => {
    const rows = log(8, [2, 8]);
    expect(verifyExport(exported(rows, 5))).toMatchObject({ valid: true, from: 5, through: 10, seals: { verified: 1 } });
  });

  it('seals made before the public chain are counted as uncheckable, not trusted', () => {
    expect(verifyExport(exported(log(3, [3], partition, true)))).toMatchObject({ valid: true, seals: { verified: 0, uncheckable: 1 }, unsealed: { from: 1, through: 4 } });
  });

  it('names renumbered entries, an edited header and an appended line', () => {
    const good = lines(exported(log(5, [5])));
    const renumbered = good.map((l, i) => (i === 3 ? l.replace('"seq":3', '"seq":9') : l));
    expect(verifyExport(join(renumbered)).problem).toMatchObject({ kind: 'altered', seq: 3, line: 4 });
    const header = JSON.parse(good[0] as string) as ExportHeader;
    expect(verifyExport(join([JSON.stringify({ ...header, through: header.through + 1, count: header.count + 1 }), ...good.slice(1)])).problem).toMatchObject({ kind: 'truncated' });
    expect(verifyExport(join([JSON.stringify({ ...header, count: 2 }), ...good.slice(1)])).problem).toMatchObject({ kind: 'malformed', line: 1 });
    expect(verifyExport(join([...good, good[2] as string])).problem).toMatchObject({ kind: 'reordered' });
  });

  it('accepts only the one canonical spelling of an entry', () => {
    const good = lines(exported(log(3, [])));
    const respelled = good.map((l, i) => {
      if (i !== 2) return l;
      const e = JSON.parse(l) as { entry: string };
      // Same fields, other spelling (spaces): the hash no longer follows, and nobody may choose which text is hashed.
      return JSON.stringify({ ...e, entry: JSON.stringify(JSON.parse(e.entry), null, 1) });
    });
    expect(verifyExport(join(respelled)).problem).toMatchObject({ kind: 'altered', seq: 2 });
  });

  it('never throws on arbitrary bytes or damaged lines', () => {
    const good = lines(exported(log(4, [2])));
    fc.assert(
      fc.property(fc.nat({ max: good.length - 1 }), fc.string(), fc.uint8Array({ maxLength: 200 }), (at, text, bytes) => {
        const damaged = good.map((l, i) => (i === at ? `${l.slice(0, l.length / 2)}${text}` : l));
        expect(verifyExport(join(damaged)).valid).toBe(false);
        expect(() => verifyExport(Buffer.from(bytes))).not.toThrow();
      }),
      { numRuns: 200 },
    );
  });
});
