// Backing up the partition to removable media. Officers first see what goes in and what cannot
// (with the reason), then confirm. Keys leave the HSM only wrapped (C_WrapKey under the backup's
// own key); everything is written atomically (backup/media.ts AtomicFile); then the file is read
// back from the media and verified completely, and only then are officers told it is done. A
// signed manifest goes beside it, and the backup into the catalogue and audit log.
import { createHash, randomUUID } from 'node:crypto';
import { unlink } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { CeremonyStartOf } from '../../shared/ceremonies';
import type { BackupObjectLine, BackupReport, CeremonyResult } from '../../shared/types';
import { activeBackupSet } from '../backup/backup-set';
import { type BackupKeys, KEM_NAME, encapsulate, fingerprint, wipeKeys } from '../backup/escrow';
import { type BackupHeader, type EntryBody, EntrySealer, FILE_EXTENSION, MANIFEST_SUFFIX, type PreparedEntry, fileEnd, fileStart, prepareEntry } from '../backup/format';
import { checkManifest, manifestBytes, manifestFor, renderManifest } from '../backup/manifest';
import { AtomicFile, StickGone, mediaAt, readFromMedium, writeAtomically } from '../backup/media';
import { type CapturedObject, exclusion, isKey, keyCheck, survey } from '../backup/objects';
import { pacer, turn } from '../backup/pacer';
import { ReadBack } from '../backup/read-back';
import { CKM_ECDSA, signData, signingKeyTemplate } from '../backup/signing-key';
import { chooseKeyWrap, destroyQuietly, importWrapKey, inOrder } from '../backup/wrap';
import { TesseraError } from '../errors';
import { CKK } from '../hsm/constants';
import type { Handle } from '../hsm/pkcs11-adapter';
import { descriptorHash, setFingerprint } from '../quorum/card-set';
import type { CeremonyContext } from './context';
import type { CeremonyRun } from './run';
import { confirm } from './steps/confirm';
import { crashPoint } from './steps/crash-points';
import { IntentSteps } from './steps/intent';
import { confirmFingerprint } from './steps/trust-set';

export const BACKUP_INTENT = 'backup';
export interface BackupIntent {
  backupId: string;
  media: string;
  file: string;
  partition: string;
}

const FLUSH_BYTES = 1 << 20;

/** Before anything is read: the partition has a backup key set. */
export function precheckBackup(ctx: CeremonyContext): void {
  ctx.policy.refuse('backup');
  if (!ctx.trust('backup')) throw new TesseraError('INVALID_REQUEST', 'This partition has no backup key set yet. Create it first (Backup → Create the backup key set).');
}

export async function backup(run: CeremonyRun, ctx: CeremonyContext, params: Pick<CeremonyStartOf<'backup'>, 'media' | 'trustSet'>): Promise<Extract<CeremonyResult, { kind: 'backup' }>> {
  const { partition, audit } = ctx;
  const session = partition.coSession();
  const token = partition.token();
  const target = `${token.label} (serial ${token.serial})`;
  ctx.policy.refuse('backup');
  // Each search of a large partition is one long call: the event loop gets a turn around each.
  await turn();
  const set = activeBackupSet(partition, ctx.store, ctx.intents);
  if (!set) throw new TesseraError('INVALID_REQUEST', 'This partition has no backup key set yet. Create it first (Backup → Create the backup key set).');
  if (ctx.trust('backup')?.source === 'partition') {
    // Known only from the partition's public anchor, which anyone with a session could have
    // replaced: the enrolment record from the safe vouches for the key new backups are encrypted to.
    run.notice('info', `This terminal has no record of the backup set of “${token.label}”, only the partition's own note of it: its fingerprint is checked against the enrolment record before anything is written.`);
    await confirmFingerprint(run, setFingerprint(set.backup), `the backup set of “${token.label}” (serial ${token.serial})`, params.trustSet, 'Nothing was written.');
    ctx.store.save(set, 'active');
    await audit.append({ actor: ctx.actor, action: 'backupset.vouched', target, outcome: 'ok', details: { set: set.set, generation: set.generation, setFingerprint: setFingerprint(set.backup), by: 'fingerprint' } });
  }
  // A search of a large partition is one long call: it runs on the HSM worker.
  const signer = (await partition.find(signingKeyTemplate(set.backup.signingKeyId)))[0] ?? null;
  if (!signer) throw new TesseraError('HSM_ERROR', "The partition's backup-signing key is missing. Backups of this partition cannot be signed.");
  await turn();
  const mechanism = chooseKeyWrap(partition, 'wrap');
  const media = await mediaAt(params.media, ctx.mediaStandIns);

  run.working('Looking at what the partition holds…');
  // The wrap loop's threads start now, not after the officers confirm.
  partition.readyWrapLanes();
  const paced = pacer();
  const objects = await survey(session, (template) => partition.find(template), paced);
  const publicKeys = new Map(objects.filter((o) => o.class === 'public-key').map((o) => [`${o.keyType}:${o.id}`, o]));
  const plan = objects.map((o) => ({ o, reason: exclusion(o, { signingKeyId: set.backup.signingKeyId }) }));
  // Nothing is skipped silently: what cannot go in (not extractable, Tessera's own objects) is listed with why.
  const included = plan.filter((p) => p.reason === null).map((p) => p.o);
  const excluded = plan.filter((p): p is { o: CapturedObject; reason: string } => p.reason !== null);
  const line = (o: CapturedObject, reason?: string): BackupObjectLine => ({ class: o.class, label: o.label, id: o.id, ...(reason ? { reason } : {}), ...(!reason && o.unreadable.length > 0 ? { unreadable: o.unreadable } : {}) });
  // An attribute the token will not read costs only that attribute: the object is backed up without
  // it, and the officers are told which, before they confirm (a restored object will lack it).
  const incomplete = included.filter((o) => o.unreadable.length > 0);
  for (const o of incomplete) run.notice('warning', `“${o.label || '(no label)'}” (${o.class}, id ${o.id || 'none'}) is backed up without attributes the HSM would not read; a restore cannot bring them back: ${o.unreadable.join('; ')}.`);
  // Every entry is checked against what a restore accepts and its JSON made now, before the officers
  // are asked: an object a restore would refuse stops the backup before anything is written, and
  // once they confirm only the wrapped keys are put in (the main thread keeps up with the HSM).
  const entries = [...included.map((o) => ({ o, reason: null as string | null })), ...excluded.map((e) => ({ o: e.o, reason: e.reason as string | null }))];
  const prepared: PreparedEntry[] = [];
  for (const [index, { o, reason }] of entries.entries()) {
    const body: EntryBody = reason
      ? { kind: 'excluded', index, class: o.class, label: o.label, id: o.id, reason }
      : { kind: 'object', index, class: o.class, label: o.label, id: o.id, keyType: o.keyType, attributes: o.attributes, ...(isKey(o.class) ? { check: keyCheck(o, publicKeys) } : {}) };
    const entry = prepareEntry(body, !reason && isKey(o.class));
    if (!entry) throw new TesseraError('INTERNAL', `Entry ${index + 1} of the backup (“${o.label || '(no label)'}”) is not one a restore would accept. Nothing was written.`);
    prepared.push(entry);
    await paced();
  }
  const estimatedBytes = 4096 + objects.length * 600 + included.filter((o) => isKey(o.class)).length * 2000 + included.reduce((n, o) => n + o.attributes.reduce((m, a) => m + (typeof a.value === 'string' ? a.value.length : 8), 0), 0);

  // Cancelled while the partition was read: no preview of a backup that will not be made.
  run.checkCancelled();
  run.stepTo(1);
  run.show({ kind: 'backup-preview', media, included: included.map((o) => line(o)), excluded: excluded.map((e) => line(e.o, e.reason)), estimatedBytes });
  if (media.free < estimatedBytes) throw new TesseraError('MEDIA_ERROR', `The USB stick has ${megabytes(media.free)} free; this backup needs about ${megabytes(estimatedBytes)}. Nothing was written.`);
  try {
    await confirm(
      run,
      `Back up ${included.length} objects of partition “${token.label}” to ${media.label}? ${excluded.length === 0 ? 'Nothing is left out.' : `${excluded.length} cannot be backed up; they are listed with the reason.`}${incomplete.length === 0 ? '' : ` ${incomplete.length} ${incomplete.length === 1 ? 'goes' : 'go'} in without attributes the HSM would not read (listed).`} Keys leave the HSM only wrapped; reading them needs ${set.m} of the ${set.n} backup-set cards.`,
      `Back up ${included.length} objects to ${media.label}`,
      'keeps',
    );
  } finally {
    // Confirmed, the preview has done its job (and is not copied with every progress update);
    // cancelled, "What goes into the backup" under "Cancelled" would read as if it had gone.
    run.show(null);
  }

  run.stepTo(2);
  run.working('Writing the backup…');
  const backupId = randomUUID();
  const created = new Date().toISOString();
  const encapsulated = encapsulate(Buffer.from(set.backup.escrowPublic, 'base64'));
  const keys: BackupKeys = encapsulated.keys;
  let wrapKey: Handle | null = null;
  let file: AtomicFile | null = null;
  let readBack: ReadBack | null = null;
  let wrapped: AsyncGenerator<Buffer[], void, undefined> | null = null;
  const signingKey = Buffer.from(set.backup.signingKey, 'base64');
  const header: BackupHeader = {
    format: 'tessera-backup',
    version: 1,
    backupId,
    created,
    partition: token,
    entries: included.length + excluded.length,
    objects: included.length,
    excluded: excluded.length,
    mechanisms: { keyWrap: mechanism, kem: KEM_NAME, content: 'AES-256-GCM', signature: 'ECDSA-P256-SHA256' },
    escrow: { publicKey: set.backup.escrowPublic, fingerprint: fingerprint(Buffer.from(set.backup.escrowPublic, 'base64')) },
    ephemeralPublic: encapsulated.ephemeralPublic.toString('base64'),
    signer: { publicKey: set.backup.signingKey, fingerprint: fingerprint(signingKey), id: set.backup.signingKeyId },
    backupSet: { set: set.set, generation: set.generation, descriptorHash: descriptorHash(set) },
  };
  const fileName = `tessera-${safeName(token.label)}-${created.replace(/[-:]/g, '').replace(/\..*/, '')}-${backupId.slice(0, 8)}${FILE_EXTENSION}`;
  const finalPath = join(params.media, fileName);
  const intent = new IntentSteps<BackupIntent>(ctx.intents, BACKUP_INTENT, 'writing', { backupId, media: params.media, file: fileName, partition: token.serial });
  try {
    await audit.append({ actor: ctx.actor, action: 'backup.start', target, outcome: 'ok', details: { backupId, media: media.label, objects: included.length, excluded: excluded.length } });
    wrapKey = importWrapKey(session, keys.wrapKey);
    const hash = createHash('sha256');
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    const out = (file = await AtomicFile.create(finalPath));
    // Each megabyte written is read back from the medium and checked while the HSM wraps the keys
    // after it (the wrap loop is the slowest part; this thread would otherwise wait for it).
    const back = (readBack = new ReadBack(out, estimatedBytes));
    let written = 0;
    const put = async (chunk: Buffer, force = false): Promise<void> => {
      hash.update(chunk);
      pending.push(chunk);
      pendingBytes += chunk.length;
      if (force || pendingBytes >= FLUSH_BYTES) {
        const data = Buffer.concat(pending);
        pending = [];
        pendingBytes = 0;
        await out.write(data);
        written += data.length;
        back.written(written);
      }
    };
    await put(fileStart(header));
    // The keys are wrapped on the HSM worker, in order, while this thread seals, checks and writes
    // the entries before them: the two run side by side (one CPU each) instead of one after the other.
    const toWrap = included.filter((o) => isKey(o.class));
    wrapped = partition.wrapKeys(mechanism.value, wrapKey, toWrap.map((o) => ({ handle: o.handle, room: o.keyType === CKK.RSA ? 16384 : 4096 })));
    const nextWrapped = inOrder(wrapped, (index, error) => wrapRefused(toWrap[index] as CapturedObject, error));
    let lastShown = 0;
    const sealer = new EntrySealer(keys.contentKey, backupId);
    for (const [index, entry] of prepared.entries()) {
      run.checkCancelled();
      // Every entry is opened with the content key here, from the bytes about to be written: the
      // read-back then proves the medium gives back these very bytes (SHA-256 of the whole file).
      const sealed = sealer.seal(entry, entry.tail ? await nextWrapped() : null);
      if (!sealed) throw new TesseraError('INTERNAL', `Entry ${index + 1} of the backup does not open after sealing. Nothing was left on the media.`);
      await put(sealed);
      if (index === 0) crashPoint('backup:writing');
      // The bar counts the objects backed up (what the report counts); the entries that only name what
      // was left out come after them and are not progress.
      if (index < included.length && (performance.now() - lastShown > 100 || index === included.length - 1)) {
        run.progress(index + 1, included.length);
        lastShown = performance.now();
      }
      await paced();
    }
    const digest = Buffer.from(hash.copy().digest());
    const signature = session.sign(CKM_ECDSA, signer, digest);
    await put(fileEnd({ entries: entries.length, sha256: digest.toString('hex'), signature: signature.toString('base64') }), true);
    // No flush of a read-back may run on the file as it is committed.
    await back.settle();
    await out.commit(() => {
      crashPoint('backup:before-rename');
      run.checkCancelled();
    });
    file = null;
    intent.advance('written', intent.data, 'after-rename');

    run.stepTo(3);
    run.working('Reading the backup back from the media and verifying it…');
    const parsed = await verifyReadBack(back, finalPath, hash.digest('hex'));
    const manifest = manifestFor(parsed, fileName);
    const manifestPath = `${finalPath}${MANIFEST_SUFFIX}`;
    try {
      const rendered = renderManifest(manifest, signData(session, signer, manifestBytes(manifest)));
      await writeAtomically(manifestPath, rendered);
      // Read back from the stick itself, like the backup: the manifest is what an auditor checks first.
      const back = await readFromMedium(manifestPath, 1 << 24, 'manifest');
      const wrong = !back.bytes.equals(rendered) ? 'the manifest read back differs from what was written' : checkManifest(back.bytes.toString('utf8'), parsed, fileName);
      if (wrong) {
        await unlink(manifestPath).catch(() => undefined);
        throw new TesseraError('MEDIA_ERROR', 'The manifest read back from the USB stick is not what was written.', wrong);
      }
    } catch (error) {
      const detail = error instanceof TesseraError ? error.detail : undefined;
      if (error instanceof StickGone) throw new StickGone(`The backup file ${fileName} was written and verified, but the USB stick was removed, or failed, before its manifest was written beside it and read back. Insert the stick again and back up again.`, error.detail);
      throw new TesseraError('MEDIA_ERROR', `The backup file ${fileName} was written and verified, but its manifest could not be written beside it. Check the USB stick, then back up again.`, detail);
    }
    ctx.catalogue.add({ backupId, tokenSerial: token.serial, tokenLabel: token.label, created, fileName, mediaLabel: media.label, sha256: parsed.sha256, size: parsed.size, objects: included.length, excluded: excluded.length, signer: header.signer.fingerprint, backupSet: set.set, verifiedAt: new Date().toISOString() });
    intent.finish('done');
    await audit.append({ actor: ctx.actor, action: 'backup.create', target, outcome: 'ok', details: { backupId, file: fileName, media: media.label, sha256: parsed.sha256, objects: included.length, excluded: excluded.length } });
    const report: BackupReport = {
      backupId,
      created,
      partition: { label: token.label, serial: token.serial },
      objects: included.length,
      excluded: excluded.length,
      signer: header.signer.fingerprint,
      escrow: header.escrow.fingerprint,
      setFingerprint: setFingerprint(set.backup),
      keyWrap: mechanism.name,
      file: finalPath,
      manifest: manifestPath,
      sha256: parsed.sha256,
      size: parsed.size,
      left: excluded.map((e) => line(e.o, e.reason)),
      incomplete: incomplete.map((o) => line(o)),
    };
    return { kind: 'backup', report };
  } finally {
    // The worker stops wrapping (and is waited for) before the wrap key is destroyed.
    await wrapped?.return();
    // A read-back under way ends before the file it reads is removed.
    await readBack?.settle();
    // Whatever stopped the backup (cancel, full or pulled media, HSM), no partial file stays.
    await file?.abort();
    intent.finish(run.isCancelled ? 'cancelled' : 'failed');
    wipeKeys(keys);
    if (wrapKey) {
      try {
        destroyQuietly(ctx.partition.coSession(), wrapKey);
      } catch {
        // logged out meanwhile: the session object is gone with the login
      }
    }
  }
}

/** The HSM's refusal to wrap `o`, in officers' words. */
function wrapRefused(o: CapturedObject, error: TesseraError): TesseraError {
  return new TesseraError('HSM_ERROR', `The HSM would not wrap “${o.label}” (id ${o.id || 'none'}). Nothing was left on the media.`, error.detail);
}

/**
 * The file as the media gave it back (ReadBack: most of it while it was written, the rest now that
 * it is committed at `path`): framing, counts, checksum and signature, and the SHA-256 of every
 * byte against the bytes written, whose every entry was opened before it was written: the file
 * holds what was sealed. A bad one is removed.
 */
async function verifyReadBack(back: ReadBack, path: string, writtenSha: string) {
  try {
    const verdict = await back.verdict(path);
    const fails = !verdict.valid ? verdict.problem : verdict.backup.sha256 !== writtenSha ? 'checksum differs' : null;
    if (fails || !verdict.valid) throw new TesseraError('MEDIA_ERROR', 'The backup read back from the USB stick is not what was written: the stick is unreliable. The file was removed; use another stick.', fails ?? undefined);
    return verdict.backup;
  } catch (error) {
    const removed = await unlink(path).then(
      () => true,
      () => false,
    );
    // Pulled out after the commit: the file may be on the stick, whole but never checked.
    if (error instanceof StickGone) {
      throw new StickGone(`The USB stick was removed, or failed, while the backup was read back from it, so the backup could not be checked.${removed ? ' The file was removed.' : ` The file ${basename(path)} may still be on the stick, unchecked: do not rely on it.`} Insert the stick again and back up again.`, error.detail);
    }
    throw error;
  }
}

function megabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(bytes < 1e7 ? 1 : 0)} MB`;
}

function safeName(label: string): string {
  return label.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40) || 'partition';
}
