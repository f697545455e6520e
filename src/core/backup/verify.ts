// Verifying a backup anywhere, without cards: framing, order, counts, checksum, signature, and the
// manifest beside it. What it does not need: the partition, the cards, the terminal's records.
import { existsSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { BackupSummary, BackupVerification } from '../../shared/types';
import { TesseraError } from '../errors';
import { setFingerprint } from '../quorum/card-set';
import { type BackupHeader, MAGIC, MANIFEST_SUFFIX, MAX_FILE_BYTES, type ParsedBackup, verifyBytesAsync } from './format';
import { checkManifest } from './manifest';
import { readBackupFile } from './media';

export function summaryOf(h: BackupHeader): BackupSummary {
  return { backupId: h.backupId, created: h.created, partition: { label: h.partition.label, serial: h.partition.serial }, objects: h.objects, excluded: h.excluded, signer: h.signer.fingerprint, escrow: h.escrow.fingerprint, setFingerprint: setFingerprint({ escrowPublic: h.escrow.publicKey, signingKey: h.signer.publicKey }), keyWrap: h.mechanisms.keyWrap.name };
}

/**
 * Reads a backup file and checks it without cards: framing, order, counts, checksum, signature, and
 * the manifest beside it when there is one. The one check both `backup verify` and a restore use.
 * @throws TesseraError MEDIA_ERROR or BACKUP_INVALID when the file cannot be read at all.
 */
export async function inspectBackupFile(file: string): Promise<{ verification: BackupVerification; backup: ParsedBackup | null }> {
  // A file that does not even start like a backup is not read whole (it may be up to 1 GiB of anything).
  const head = await readBackupFile(file, MAX_FILE_BYTES, MAGIC.length);
  if (!head.equals(MAGIC)) return { verification: { file, valid: false, problem: 'This is not a Tessera backup file.', sha256: null, size: head.length, backup: null, manifest: existsSync(`${file}${MANIFEST_SUFFIX}`) ? 'disagrees' : 'missing' }, backup: null };
  const bytes = await readBackupFile(file, MAX_FILE_BYTES);
  const verdict = await verifyBytesAsync(bytes);
  const manifestPath = `${file}${MANIFEST_SUFFIX}`;
  if (!verdict.valid) {
    const verification: BackupVerification = { file, valid: false, problem: verdict.problem, sha256: null, size: bytes.length, backup: verdict.header ? summaryOf(verdict.header) : null, manifest: existsSync(manifestPath) ? 'disagrees' : 'missing' };
    return { verification, backup: null };
  }
  const b = verdict.backup;
  let manifest: BackupVerification['manifest'] = 'missing';
  let problem: string | null = null;
  if (existsSync(manifestPath)) {
    problem = checkManifest(readFileSync(manifestPath, 'utf8'), b, basename(file));
    manifest = problem ? 'disagrees' : 'agrees';
  }
  return { verification: { file, valid: problem === null, problem, sha256: b.sha256, size: b.size, backup: summaryOf(b.header), manifest }, backup: problem === null ? b : null };
}

/**
 * A backup file authenticated completely, as a restore needs it before the first card is read.
 * @throws TesseraError BACKUP_INVALID (or MEDIA_ERROR when it cannot be read) naming the problem.
 */
export async function authenticate(file: string): Promise<ParsedBackup> {
  const { verification, backup } = await inspectBackupFile(file);
  if (!backup) throw new TesseraError('BACKUP_INVALID', `${verification.problem} Nothing was restored.`);
  return backup;
}

/** The verdict on a backup file (never throws); with `partitionSigner`, also whether that partition signed it. */
export async function verifyBackupFile(file: string, partitionSigner?: string): Promise<BackupVerification> {
  let result: BackupVerification;
  try {
    result = (await inspectBackupFile(file)).verification;
  } catch (error) {
    const message = error instanceof TesseraError ? error.message : 'The file could not be read.';
    return { file, valid: false, problem: message, sha256: null, size: 0, backup: null, manifest: 'missing', signerChecked: partitionSigner !== undefined };
  }
  result.signerChecked = partitionSigner !== undefined;
  if (partitionSigner !== undefined && result.sha256 !== null) {
    result.ofPartition = result.backup !== null && partitionSigner === result.backup.signer;
    if (!result.ofPartition) {
      result.valid = false;
      result.problem = 'This backup was not signed by the backup-signing key of the partition named: it is from another partition, or forged.';
    }
  }
  return result;
}
