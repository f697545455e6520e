import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { type AuditRow, entryHash, entryMac, genesisHash, genesisMac } from '../../src/core/audit/chain';
import { keyFingerprint, sealDetails, sealStatement, verifySeals } from '../../src/core/audit/seal';
import { decodeLegacyAnchor, decodeRecord, encodeRecord } from '../../src/core/audit/terminal-record';

const key = randomBytes(32);
const INSTALL = 'install-1';
const partitionKey = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const spki = partitionKey.publicKey.export({ format: 'der', type: 'spki' });

/** A chain of `n` entries with a seal (signed by `signer`) appended after each seq in `sealAfter`. */
function chain(n: number, sealAfter: number[], signer = partitionKey): AuditRow[] {
  const rows: AuditRow[] = [];
  let prevMac = genesisMac(key, INSTALL);
  let prevHash = genesisHash(INSTALL);
  const push = (action: string, details: AuditRow['details']): void => {
    const fields = { time: '2026-01-01T00:00:00Z', actor: 'officer', action, target: 'Tessera Lab', outcome: 'ok' as const, details };
    const mac = entryMac(key, fields, prevMac);
    const hash = entryHash(rows.length + 1, prevHash, fields);
    rows.push({ ...fields, seq: rows.length + 1, prevMac, mac, hash });
    prevMac = mac;
    prevHash = hash;
  };
  for (let i = 1; i <= n; i++) {
    push(`act.${i}`, { n: i });
    if (sealAfter.includes(i)) {
      const head = rows.at(-1) as AuditRow;
      const signature = sign('sha256', sealStatement(INSTALL, head.seq, head.mac, head.hash ?? undefined), { key: signer.privateKey, dsaEncoding: 'ieee-p1363' });
      push('audit.seal', sealDetails(head.seq, head.mac, signer.publicKey.export({ format: 'der', type: 'spki' }), signature, 'serial-1', head.hash ?? undefined));
    }
  }
  return rows;
}

const trusted = { partition: { label: 'Tessera Lab', serial: 'serial-1' }, spki };

describe('sealed heads', () => {
  it('the signed bytes are the documented JSON array', () => {
    const mac = Buffer.alloc(32, 0xab);
    expect(sealStatement('id-1', 7, mac).toString('utf8')).toBe(`["tessera-audit-head-v1","id-1",7,"${'ab'.repeat(32)}"]`);
  });

  it('verify, with the log\'s own keys and against the partition\'s', () => {
    const rows = chain(5, [2, 5]);
    expect(verifySeals(rows, INSTALL, null)).toEqual({ problem: null, seals: { verified: 2, through: 6, keys: [keyFingerprint(spki)], partition: null } });
    expect(verifySeals(rows, INSTALL, trusted).seals).toMatchObject({ verified: 2, partition: { serial: 'serial-1', key: keyFingerprint(spki) } });
  });

  it('name the range an entry changed under a seal lies in', () => {
    const rows = chain(6, [2, 5]);
    // Entry 4 replaced by a forger with the chain's key: every mac from 4 on differs.
    const forged = rows.map((r) => (r.seq >= 4 && r.action !== 'audit.seal' ? { ...r, mac: randomBytes(32) } : r));
    expect(verifySeals(forged, INSTALL, null).problem).toMatchObject({ kind: 'seal-broken', seq: 6, message: expect.stringContaining('an entry from 3 to 6 was altered') });
  });

  it('refuse a seal by another key when checked against the partition, and an altered seal', () => {
    const mallory = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const rows = chain(3, [3], mallory);
    expect(verifySeals(rows, INSTALL, null).problem).toBeNull();
    expect(verifySeals(rows, INSTALL, trusted).problem).toMatchObject({ kind: 'seal-broken', seq: 4, message: expect.stringMatching(/not the audit key of partition “Tessera Lab”/) });
    const honest = chain(3, [3]);
    const seal = honest[3] as AuditRow;
    honest[3] = { ...seal, details: { ...seal.details, headSeq: 2, headMac: (honest[1] as AuditRow).mac.toString('hex') } };
    expect(verifySeals(honest, INSTALL, null).problem).toMatchObject({ kind: 'seal-broken', seq: 4, message: expect.stringMatching(/signature .* does not match/) });
    honest[3] = { ...seal, details: { ...seal.details, signature: 'zz' } };
    expect(verifySeals(honest, INSTALL, null).problem).toMatchObject({ kind: 'seal-broken', message: expect.stringMatching(/cannot be read/) });
  });
});

describe('the terminal record', () => {
  it('round-trips, and anything else decodes to null, never to a guess', () => {
    const record = { installationId: 'id-1', head: { seq: 3, mac: Buffer.alloc(32, 1) } };
    expect(decodeRecord(encodeRecord(record))).toEqual(record);
    expect(decodeRecord(encodeRecord({ installationId: 'id-1', head: null }))).toEqual({ installationId: 'id-1', head: null });
    for (const bad of ['', 'null', '[]', '{"format":"tessera-terminal-v1","installationId":"x","head":{"seq":0,"mac":"00"}}', '{"installationId":"x","head":null}', '{"seq":1,"mac":"ab"}']) {
      expect(decodeRecord(Buffer.from(bad))).toBeNull();
    }
    expect(decodeLegacyAnchor(Buffer.from(JSON.stringify({ seq: 2, mac: 'ab'.repeat(32) })))).toEqual({ seq: 2, mac: Buffer.alloc(32, 0xab) });
    expect(decodeLegacyAnchor(Buffer.from('garbage'))).toBeNull();
  });
});
