// A backup file's header for unit tests of the format: the fields a real backup writes, with the
// escrow key, signer and ephemeral key the test made.
import type { BackupHeader } from '../../src/core/backup/format';
import { fingerprint } from '../../src/core/backup/escrow';

/** A header of `count` entries (all objects, none excluded) naming `escrowPub` (raw X25519) and `spki` (the signer's DER SPKI). */
export function testHeader(o: { backupId: string; created: string; count: number; escrowPub: Buffer; spki: Buffer; ephemeralPublic: Buffer }): BackupHeader {
  return {
    format: 'tessera-backup',
    version: 1,
    backupId: o.backupId,
    created: o.created,
    partition: { label: 'P', serial: '0123456789abcdef', manufacturer: 'M', model: 'X' },
    entries: o.count,
    objects: o.count,
    excluded: 0,
    mechanisms: { keyWrap: { name: 'CKM_AES_KEY_WRAP_PAD', value: 0x210a }, kem: 'X25519-HKDF-SHA256', content: 'AES-256-GCM', signature: 'ECDSA-P256-SHA256' },
    escrow: { publicKey: o.escrowPub.toString('base64'), fingerprint: fingerprint(o.escrowPub) },
    ephemeralPublic: o.ephemeralPublic.toString('base64'),
    signer: { publicKey: o.spki.toString('base64'), fingerprint: fingerprint(o.spki), id: 'aa' },
    backupSet: { set: 'ab'.repeat(16), generation: 1, descriptorHash: 'cd'.repeat(32) },
  };
}
