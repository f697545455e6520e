// Verifying a backup anywhere, without cards: framing, order, counts, checksum, signature, and the
// manifest beside it. What it does not need: the partition, the cards, the terminal's records.
import { existsSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { BackupSummary, BackupVerification } from '../../shared/types';
import { TesseraError } from '../errors';
import { type BackupHeader, MANIFEST_SUFFIX, MAX_FILE_BYTES, verifyBytes } from './format';
import { checkManifest } from './manifest';
import { readBackupFile } from './media';

export function summaryOf(h: BackupHeader): BackupSummary {
  return { backupId: h.backupId, created: h.created, partition: { label: h.partition.label, serial: h.partition.serial }, objects: h.objects, excluded: h.excluded, signer: h.signer.fingerprint, escrow: h.escrow.fingerprint, keyWrap: h.mechanisms.keyWrap.name };
}

export async function verifyBackupFile(file: string, partitionSigner?: string): Promise<BackupVerification> {
  let bytes: Buffer;
  try {
    bytes = await readBackupFile(file, MAX_FILE_BYTES);
  } catch (error) {
    const message = error instanceof TesseraError ? error.message : 'The file could not be read.';
    return { file, valid: false, problem: message, sha256: null, size: 0, backup: null, manifest: 'missing' };
  }
  const verdict = verifyBytes(bytes);
  const manifestPath = `${file}${MANIFEST_SUFFIX}`;
  if (!verdict.valid) {
    return { file, valid: false, problem: verdict.problem, sha256: null, size: bytes.length, backup: verdict.header ? summaryOf(verdict.header) : null, manifest: existsSync(manifestPath) ? 'disagrees' : 'missing' };
  }
  const b = verdict.backup;
  let manifest: BackupVerification['manifest'] = 'missing';
  let problem: string | null = null;
  if (existsSync(manifestPath)) {
    problem = checkManifest(readFileSync(manifestPath, 'utf8'), b, basename(file));
    manifest = problem ? 'disagrees' : 'agrees';
  }
  const result: BackupVerification = { file, valid: problem === null, problem, sha256: b.sha256, size: b.size, backup: summaryOf(b.header), manifest };
  if (partitionSigner !== undefined) {
    result.ofPartition = partitionSigner === b.header.signer.fingerprint;
    if (!result.ofPartition) {
      result.valid = false;
      result.problem = 'This backup was not signed by the backup-signing key of the partition named: it is from another partition, or forged.';
    }
  }
  return result;
}
