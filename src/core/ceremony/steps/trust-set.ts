// Steps: deciding whether the chosen partition may rely on a backup set. Trust comes from the
// partition's side, never from a backup file: the sets this terminal recorded as the partition's
// (the current one and earlier generations) are trusted; any other set needs its fingerprint
// confirmed from the enrolment record kept in the safe and, wherever the partition has an SO card
// set, the approval of its SO quorum in the same ceremony. All of it happens before any backup-set
// card PIN is asked for. (docs/trust-model.md)
import type { BackupHeader } from '../../backup/format';
import { fingerprint } from '../../backup/escrow';
import { TesseraError } from '../../errors';
import { type CardSetDescriptor, descriptorHash, sameFingerprint, setFingerprint } from '../../quorum/card-set';
import { wipe } from '../../secrets';
import type { CeremonyContext, RunOptions } from '../context';
import type { CeremonyRun } from '../run';
import { collectQuorum } from './quorum';

/** How the partition came to accept a backup's set, for the audit log and the summary. */
export interface SetApproval {
  how: 'trusted' | 'fingerprint' | 'fingerprint and SO quorum';
  set: string;
  generation: number;
  fingerprint: string;
  /** The SO quorum that approved a set the partition did not trust (holders and card serials). */
  approvers: string[];
  approverCards: string[];
}

/**
 * Officers confirm `expected` by typing the fingerprint printed on the set's enrolment record; a
 * mismatch is said where it was typed, and asked again (or cancelled). With `given` (the CLI's
 * --trust-set) nothing is asked: a wrong one stops the ceremony.
 * @throws TesseraError BACKUP_INVALID when `given` is not `expected`; CeremonyCancelled.
 */
export async function confirmFingerprint(run: CeremonyRun, expected: string, about: string, given: string | undefined, stopped: string): Promise<void> {
  if (given !== undefined) {
    if (sameFingerprint(given, expected)) return;
    throw new TesseraError('BACKUP_INVALID', `The fingerprint given is not the one of ${about}. ${stopped}`);
  }
  let refusal: string | undefined;
  for (;;) {
    const input = await run.ask(
      {
        kind: 'confirm-fingerprint',
        text: `Take the enrolment record of ${about} from the safe and type the fingerprint printed on it. Continue only if it is the record of a set you trust.`,
        about,
        ...(refusal ? { refusal } : {}),
      },
      'fingerprint',
    );
    if (sameFingerprint(input.fingerprint, expected)) {
      run.notice('info', `The fingerprint matches the enrolment record of ${about}.`);
      return;
    }
    refusal = input.fingerprint.trim() === '' ? 'Type the fingerprint from the enrolment record.' : `That is not the fingerprint of ${about}. Check the record and type it again, or cancel: nothing is done with a set that is not on your record.`;
  }
}

/**
 * Whether the chosen partition may restore a backup made with the set its header names. Trusted:
 * the partition's current backup set as this terminal recorded it (checked against the partition's
 * anchor), or an earlier generation of that set this terminal recorded. Any other set (a set known
 * only from a public anchor included, which anyone with a session could have planted) needs its
 * fingerprint confirmed from the enrolment record; and, when the partition has an SO card set, the
 * approval of its SO quorum in the same ceremony: one person with a set's card must not replace a
 * partition's keys. A partition that trusts another backup set and has no SO card set refuses.
 * @throws TesseraError BACKUP_INVALID when the backup claims the partition's set with other keys,
 *   or the fingerprint given is wrong; CARD_ERROR when no SO quorum can approve; CeremonyCancelled.
 */
export async function approveBackupSet(run: CeremonyRun, ctx: CeremonyContext, h: BackupHeader, trustSet: string | undefined, options: RunOptions): Promise<SetApproval> {
  const token = ctx.partition.partition();
  const claimed = h.backupSet;
  const print = setFingerprint({ escrowPublic: h.escrow.publicKey, signingKey: h.signer.publicKey });
  const base = { set: claimed.set, generation: claimed.generation, fingerprint: print, approvers: [], approverCards: [] };
  const nothing = 'Nothing was restored.';
  // The partition's records stop the ceremony here when they disagree (two anchors, another terminal's set).
  const current = ctx.trust('backup');
  const recorded = recordedGeneration(ctx, current, claimed);
  if (recorded) {
    if (!sameKeys(recorded, h) || descriptorHash(recorded) !== claimed.descriptorHash) {
      throw new TesseraError('BACKUP_INVALID', `This backup names the backup set of “${token.label}” but was not made with its keys: it is forged or altered. ${nothing}`);
    }
    return { how: 'trusted', ...base };
  }
  const about = `the backup set of “${h.partition.label}” (serial ${h.partition.serial}) that made this backup`;
  const so = ctx.trust('so');
  if (!so) {
    const same = current && current.trusted.set === claimed.set && current.trusted.generation === claimed.generation && current.trusted.descriptorHash === claimed.descriptorHash;
    if (current && !same) throw new TesseraError('CARD_ERROR', `This backup was made with a backup set that “${token.label}” does not trust, and the partition has no SO card set to approve it. ${nothing}`);
    // A fresh partition (disaster recovery): nothing in it to protect yet but what the record vouches for.
    run.notice('info', `“${token.label}” trusts no backup set that this terminal recorded: the fingerprint of the set that made this backup is checked against its enrolment record before anything is read.`);
    await confirmFingerprint(run, print, about, trustSet, nothing);
    return { how: 'fingerprint', ...base };
  }
  if (so.source !== 'terminal' || !so.descriptor) {
    throw new TesseraError('CARD_ERROR', `This backup was made with a backup set that “${token.label}” does not trust (this terminal has no record of it). Its SO quorum must approve it, but this terminal has no record of the partition's SO card set that the HSM accepted: log in as security officer once on this terminal first. ${nothing}`);
  }
  run.notice('info', `This backup was made with a backup set that “${token.label}” does not trust${current ? '' : ' (the partition has none that this terminal recorded)'}. Restoring it needs the fingerprint from that set's enrolment record and the approval of ${so.descriptor.m} of the partition's SO card holders.`);
  await confirmFingerprint(run, print, about, trustSet, nothing);
  const quorum = await collectQuorum(run, { purpose: 'so', trusted: so.trusted, tokenSerial: token.serial, descriptor: so.descriptor, retryWrongPin: options.retryWrongPin, of: ` (SO card set of “${token.label}”, to approve this backup's set)` });
  // The commitment check inside collectQuorum is the proof; the credential itself is not needed.
  wipe(quorum.secret);
  return { how: 'fingerprint and SO quorum', ...base, approvers: quorum.holders, approverCards: [...quorum.cards.values()] };
}

/**
 * The generation the backup names, if it is the partition's current backup set as this terminal
 * recorded it (the trusted-set lookup checked that record against the partition's anchor), or an
 * earlier generation of that same set that this terminal recorded; null otherwise. A row in the
 * database alone (another set, or a generation after the current one) never counts.
 */
function recordedGeneration(ctx: CeremonyContext, current: ReturnType<CeremonyContext['trust']>, claimed: BackupHeader['backupSet']): CardSetDescriptor | null {
  if (!current || current.source !== 'terminal' || !current.descriptor || claimed.set !== current.trusted.set) return null;
  if (claimed.generation === current.trusted.generation) return current.descriptor;
  if (claimed.generation > current.trusted.generation) return null;
  return ctx.store.generation(ctx.partition.partition().serial, 'backup', claimed.set, claimed.generation);
}

function sameKeys(d: CardSetDescriptor, h: BackupHeader): boolean {
  return d.backup !== undefined && d.backup.escrowPublic === h.escrow.publicKey && fingerprint(Buffer.from(d.backup.signingKey, 'base64')) === h.signer.fingerprint && d.backup.signingKey === h.signer.publicKey;
}
