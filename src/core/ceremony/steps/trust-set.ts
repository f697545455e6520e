// Steps: deciding whether the chosen partition may rely on a backup set. Trust comes from the
// partition's side, never from a backup file: the sets this terminal recorded as the partition's
// (the current one and earlier generations) are trusted; any other set needs its fingerprint
// confirmed from the enrolment record kept in the safe and, when the partition trusts another set
// already, the approval of the partition's own SO quorum in the same ceremony. All of it happens
// before any backup-set card PIN is asked for. (docs/trust-model.md)
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
    if (sameFingerprint(input.fingerprint, expected)) return;
    refusal = input.fingerprint.trim() === '' ? 'Type the fingerprint from the enrolment record.' : `That is not the fingerprint of ${about}. Check the record and type it again, or cancel: a backup made with a set you do not know is not restored.`;
  }
}

/**
 * Whether the chosen partition may restore a backup made with the set its header names: the
 * partition's own set (a generation this terminal recorded) passes; any other needs the set's
 * fingerprint confirmed, and, when the partition trusts another set, its SO quorum's approval.
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
  const known = ctx.store.generation(token.serial, 'backup', claimed.set, claimed.generation);
  if (known) {
    if (!sameKeys(known, h) || descriptorHash(known) !== claimed.descriptorHash) {
      throw new TesseraError('BACKUP_INVALID', `This backup names the backup set of “${token.label}” but was not made with its keys: it is forged or altered. ${nothing}`);
    }
    return { how: 'trusted', ...base };
  }
  const about = `the backup set of “${h.partition.label}” (serial ${h.partition.serial}) that made this backup`;
  // The partition's own set, known here only from its public anchor: anyone with a session could
  // have written that, so the record from the safe vouches for it.
  if (!current || current.trusted.set === claimed.set) {
    run.notice('warning', current ? `This terminal has no record of the backup set of “${token.label}”: its fingerprint is checked against the enrolment record before anything is read.` : `“${token.label}” trusts no backup set yet (a fresh partition): the fingerprint of the set that made this backup is checked against its enrolment record before anything is read.`);
    await confirmFingerprint(run, print, about, trustSet, nothing);
    return { how: 'fingerprint', ...base };
  }
  // The partition trusts another set: one person with a foreign set's card must not replace its keys.
  const so = ctx.trust('so');
  if (!so) throw new TesseraError('CARD_ERROR', `This backup was made with a backup set that “${token.label}” does not trust, and the partition has no SO card set to approve it. ${nothing}`);
  if (so.source !== 'terminal' || !so.descriptor) {
    throw new TesseraError('CARD_ERROR', `This backup was made with a backup set that “${token.label}” does not trust. Its SO quorum must approve it, but this terminal has no record of the partition's SO card set that the HSM accepted: log in as security officer once on this terminal first. ${nothing}`);
  }
  run.notice('warning', `This backup was made with a backup set that “${token.label}” does not trust (it trusts its own set). Restoring it needs the fingerprint from the set's enrolment record and the approval of ${so.descriptor.m} of the partition's SO card holders.`);
  await confirmFingerprint(run, print, about, trustSet, nothing);
  const quorum = await collectQuorum(run, { purpose: 'so', trusted: so.trusted, tokenSerial: token.serial, descriptor: so.descriptor, retryWrongPin: options.retryWrongPin, of: ` (SO card set of “${token.label}”, to approve this backup's set)` });
  // The commitment check inside collectQuorum is the proof; the credential itself is not needed.
  wipe(quorum.secret);
  return { how: 'fingerprint and SO quorum', ...base, approvers: quorum.holders, approverCards: [...quorum.cards.values()] };
}

function sameKeys(d: CardSetDescriptor, h: BackupHeader): boolean {
  return d.backup !== undefined && d.backup.escrowPublic === h.escrow.publicKey && fingerprint(Buffer.from(d.backup.signingKey, 'base64')) === h.signer.fingerprint && d.backup.signingKey === h.signer.publicKey;
}
