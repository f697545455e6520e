// Restoring a backup into the chosen partition (the same one, or a fresh one after a disaster), and
// reading a backup's full contents. The whole file is authenticated first (backup/verify.ts), then a
// quorum of the backup's key set is collected (steps/quorum.ts): the cards' set must be the one the
// header names, and its signing key the one that signed the file, so nobody who only knows the
// escrow public key can make a backup a restore accepts. Every entry is decrypted before the first
// object is written. Objects already in the partition exactly as backed up are recognised, so an
// interrupted restore run again completes without duplicates; a conflict (same id or label, other
// contents) is skipped, or replaced after a confirmation naming it. Each restored key is checked.
import type { CeremonyStartOf } from '../../shared/ceremonies';
import type { CeremonyResult, RestoreLine, RestoreOutcome, RestoreOutcomeKind, RestoreReport } from '../../shared/types';
import { type BackupKeys, decapsulate, escrowPublic, fingerprint, wipeKeys } from '../backup/escrow';
import { type EntryBody, type ParsedBackup, openEntry } from '../backup/format';
import { CLASS_CODES, type CapturedObject, capture, differences, isKey, survey, template } from '../backup/objects';
import { pacer } from '../backup/pacer';
import { type ObjectEntry, checkKey, indexByIdAndLabel, sameContents } from '../backup/restore-checks';
import { authenticate, summaryOf } from '../backup/verify';
import { chooseKeyWrap, destroyQuietly, importWrapKey } from '../backup/wrap';
import { TesseraError } from '../errors';
import type { Handle } from '../hsm/pkcs11-adapter';
import type { Session } from '../hsm/session';
import type { CardRecord } from '../quorum/card-record';
import { wipe } from '../secrets';
import type { CeremonyContext, RunOptions } from './context';
import type { CeremonyRun } from './run';
import { confirm } from './steps/confirm';
import { crashPoint } from './steps/crash-points';
import { type Approvers, approvalsFor, collectApprovals } from './steps/approvals';
import { changeDigest } from '../policy/policy';
import { IntentSteps } from './steps/intent';
import { type SetApproval, approveBackupSet } from './steps/trust-set';
import { type CardSetDescriptor, descriptorHash } from '../quorum/card-set';
import { collectQuorum } from './steps/quorum';
import { replacedWords } from './steps/rotate-cards';

export const RESTORE_INTENT = 'restore';
type RestoreParams = Omit<CeremonyStartOf<'restore'>, 'kind'>;

export async function restore(run: CeremonyRun, ctx: CeremonyContext, params: RestoreParams, options: RunOptions): Promise<Extract<CeremonyResult, { kind: 'restore' }>> {
  const { partition, audit } = ctx;
  const session = partition.coSession();
  const token = partition.token();
  const target = `${token.label} (serial ${token.serial})`;

  run.working('Verifying the backup file…');
  const backup = await authenticate(params.file);
  const h = backup.header;
  const mechanism = chooseKeyWrap(partition, 'unwrap', h.mechanisms.keyWrap);
  await audit.append({ actor: ctx.actor, action: 'backup.restore.start', target, outcome: 'ok', details: { backupId: h.backupId, from: `${h.partition.label} (serial ${h.partition.serial})` } });

  run.stepTo(1);
  const approval = await approveBackupSet(run, ctx, h, params.trustSet, options);
  run.stepTo(2);
  const { keys, holders, cards } = await backupKeys(run, ctx, backup, options, true);
  let wrapKey: Handle | null = null;
  let intent: IntentSteps<{ backupId: string; file: string; target: string }> | null = null;
  try {
    run.working('Opening the backup…');
    const bodies = await openAll(backup, keys);

    run.stepTo(3);
    const paced = pacer();
    const existing = await survey(session, (template) => ctx.partition.find(template), paced);
    const lines: ReturnType<typeof lineFor>[] = [];
    const index = indexByIdAndLabel(existing);
    for (const b of bodies) {
      lines.push(lineFor(session, b, index));
      await paced();
    }
    // Invalidated keys keep their label and id: a restored key beside one would share them.
    const bin = ctx.trash.open(token.serial);
    const twins = lines.filter((l) => bin.some((k) => k.id === l.line.id && l.line.id !== ''));
    if (twins.length > 0) run.notice('warning', `${twins.map((l) => `“${l.line.label}” (id ${l.line.id})`).join(', ')}: an invalidated key in the trash bin has the same id${twins.length === 1 ? '' : 's'}. Invalidated keys still take space and keep their label and id; restoring beside them gives two keys with one id. Reactivate or destroy the invalidated key first if that is not wanted.`);
    run.show({ kind: 'restore-choice', backup: summaryOf(h), objects: lines.map((l) => l.line) });
    const { selected, replace } = await choose(run, params, lines.map((l) => l.line));
    let approvers: Approvers = [];
    let digest: string | null = null;
    const count = approvalsFor(ctx, 'restore');
    if (count > 0) {
      // The partition policy asks SO-set holders to approve restores: they see the exact change's digest.
      digest = changeDigest({ action: 'restore', partition: token.serial, backupId: h.backupId, selected: [...selected].sort((a, b) => a - b), replace: [...replace].sort((a, b) => a - b) });
      run.notice('info', `The partition policy asks ${count} holders of the SO card set to approve this restore (approvals.restore). Digest of this restore: ${digest}.`);
      approvers = await collectApprovals(run, ctx, { count, digest, what: `restoring backup ${h.backupId} into “${token.label}”`, ...options });
    }
    ctx.policy.refuse('restore');

    if (replace.size > 0) {
      const named = lines.filter((l) => replace.has(l.line.index)).map((l) => `“${l.line.conflictWith ?? l.line.label}”`);
      const s = named.length === 1 ? '' : 's';
      await confirm(run, `Replace ${named.length} object${s} in partition “${token.label}”: ${named.join(', ')}? Each is destroyed after its replacement from the backup is restored and checked.`, `Replace ${named.length} object${s} in “${token.label}”`, 'destroys');
    }

    run.stepTo(4);
    run.show(null);
    run.working('Restoring…');
    wrapKey = importWrapKey(session, keys.wrapKey);
    intent = new IntentSteps(ctx.intents, RESTORE_INTENT, 'restoring', { backupId: h.backupId, file: params.file, target: token.serial });
    const outcomes: RestoreOutcome[] = [];
    let lastShown = 0;
    // The bar counts the objects that are written (what the button and the report count), not the
    // lines that are only reported (already there, skipped, not in the backup).
    const toWrite = lines.filter((l) => writes(l.line, selected, replace)).length;
    let written = 0;
    for (const [i, { line, entry, conflict }] of lines.entries()) {
      run.checkCancelled();
      outcomes.push(await restoreOne(session, mechanism.value, wrapKey, line, entry, conflict, selected.has(line.index), replace.has(line.index)));
      crashPoint(`restore:object-${i + 1}`);
      if (writes(line, selected, replace)) written++;
      if (performance.now() - lastShown > 100 || i === lines.length - 1) {
        run.progress(written, toWrite);
        lastShown = performance.now();
      }
      await paced();
    }
    intent.finish('done');

    const counts = { restored: 0, replaced: 0, 'already-present': 0, skipped: 0, 'not-selected': 0, excluded: 0, failed: 0 } satisfies Record<RestoreOutcomeKind, number>;
    for (const o of outcomes) counts[o.outcome]++;
    const report: RestoreReport = { backupId: h.backupId, file: params.file, source: { label: h.partition.label, serial: h.partition.serial }, target: { label: token.label, serial: token.serial }, counts, objects: outcomes };
    await audit.append({ actor: ctx.actor, action: 'backup.restore', target, outcome: counts.failed > 0 ? 'failed' : 'ok', details: { backupId: h.backupId, holders: holders.join(', '), cards: cards.join(', '), ...approvalDetails(approval), ...(digest ? { digest, approvers: approvers.map((a) => a.holder).join(', '), approverCards: approvers.map((a) => a.card).join(', ') } : {}), ...counts } });
    if (counts.failed > 0) run.notice('error', `${counts.failed} object${counts.failed === 1 ? '' : 's'} could not be restored; see the report.`);
    return { kind: 'restore', report };
  } finally {
    // Stopped (cancelled) half way: the objects restored so far stay; running the restore again completes it.
    intent?.finish('stopped');
    wipeKeys(keys);
    if (wrapKey) {
      try {
        destroyQuietly(ctx.partition.coSession(), wrapKey);
      } catch {
        // logged out meanwhile: the session object went with the login
      }
    }
  }
}

/** The full listing of a backup: needs the quorum (entries are encrypted), not a partition. */
export async function listBackup(run: CeremonyRun, ctx: CeremonyContext, params: { file: string }, options: RunOptions): Promise<Extract<CeremonyResult, { kind: 'backup-list' }>> {
  run.working('Verifying the backup file…');
  const backup = await authenticate(params.file);
  run.stepTo(1);
  const { keys, holders } = await backupKeys(run, ctx, backup, options);
  try {
    const bodies = await openAll(backup, keys);
    run.stepTo(2);
    const h = backup.header;
    const objects: RestoreLine[] = bodies.map((b) => ({ index: b.index, class: b.class, label: b.label, id: b.id, state: b.kind === 'excluded' ? 'excluded' : 'new', ...(b.kind === 'excluded' ? { reason: b.reason } : {}) }));
    await ctx.audit.append({ actor: ctx.actor, action: 'backup.list', target: `${h.partition.label} (serial ${h.partition.serial})`, outcome: 'ok', details: { backupId: h.backupId, holders: holders.join(', ') } });
    return { kind: 'backup-list', backup: summaryOf(h), objects };
  } finally {
    wipeKeys(keys);
  }
}

/**
 * A quorum of the backup's key set, and the backup's keys opened with the escrow key it rebuilds.
 * `onPartition`: the chosen partition is the restore's target (a listing needs none).
 */
async function backupKeys(run: CeremonyRun, ctx: CeremonyContext, backup: ParsedBackup, options: RunOptions, onPartition = false): Promise<{ keys: BackupKeys; holders: string[]; cards: string[] }> {
  const h = backup.header;
  // A later generation of the set in force (re-split with the same keys) is the one asked for: the
  // old generation's shares still on cards are not used (a replaced card holds one), and are retired.
  const later = (d: CardSetDescriptor | null): CardSetDescriptor | null => (d && d.set === h.backupSet.set && d.generation > h.backupSet.generation && d.backup?.escrowPublic === h.escrow.publicKey && d.backup.signingKey === h.signer.publicKey ? d : null);
  // The backup's own partition says which generation is in force (its anchors, checked against this
  // terminal's record): a terminal that never recorded the later generation, or whose record was
  // edited, would otherwise ask for the backup's generation. Old shares are retired only on its word.
  const vouched = onPartition && ctx.partition.partition().serial === h.partition.serial ? later(ctx.trust('backup')?.descriptor ?? null) : null;
  const inForce = vouched ?? later(ctx.store.active(h.partition.serial, 'backup'));
  const quorum = await collectQuorum(run, {
    purpose: 'backup',
    trusted: inForce ? { set: inForce.set, generation: inForce.generation, descriptorHash: descriptorHash(inForce) } : { set: h.backupSet.set, generation: h.backupSet.generation, descriptorHash: h.backupSet.descriptorHash },
    descriptor: inForce,
    ...(vouched ? { retire: true } : {}),
    tokenSerial: h.partition.serial,
    retryWrongPin: options.retryWrongPin,
    of: ` (backup key set of “${h.partition.label}”)`,
    accept: (record) => signedByItsSet(record, backup),
    // A later generation of the set that re-split the same escrow key reads older backups too.
    laterGeneration: (d) => d.backup?.escrowPublic === h.escrow.publicKey && d.backup.signingKey === h.signer.publicKey && !ctx.store.abandonedGeneration(d),
    replaced: replacedWords(ctx),
  });
  try {
    if (!escrowPublic(quorum.secret).equals(Buffer.from(h.escrow.publicKey, 'base64'))) {
      throw new TesseraError('CARD_ERROR', "The cards do not rebuild the backup set's escrow key. Nothing was restored.", 'escrow key mismatch');
    }
    return { keys: decapsulate(quorum.secret, Buffer.from(h.ephemeralPublic, 'base64'), Buffer.from(h.escrow.publicKey, 'base64')), holders: quorum.holders, cards: [...quorum.cards.values()] };
  } finally {
    wipe(quorum.secret);
  }
}

/** What the audit entry says about the set that approved a restore. */
function approvalDetails(a: SetApproval): Record<string, string | number> {
  return { set: a.set, generation: a.generation, setFingerprint: a.fingerprint, trust: a.how, ...(a.approvers.length > 0 ? { approvedBy: a.approvers.join(', '), approverCards: a.approverCards.join(', ') } : {}) };
}

/** The backup's signer and escrow key must be the ones its card set names. */
function signedByItsSet(record: CardRecord, backup: ParsedBackup): void {
  const h = backup.header;
  const keys = record.descriptor.backup;
  if (record.descriptor.purpose !== 'backup' || !keys || fingerprint(Buffer.from(keys.signingKey, 'base64')) !== h.signer.fingerprint || keys.escrowPublic !== h.escrow.publicKey) {
    throw new TesseraError('BACKUP_INVALID', 'This backup was not signed by the backup-signing key its card set names: it is forged, or altered. Nothing was restored.');
  }
}

/** Every entry decrypted and checked before anything is written: one bad entry stops the restore. */
async function openAll(backup: ParsedBackup, keys: BackupKeys): Promise<EntryBody[]> {
  const paced = pacer();
  const bodies: EntryBody[] = [];
  for (const e of backup.entries) {
    const body = openEntry(e, keys.contentKey, backup.header.backupId);
    if (!body) throw new TesseraError('BACKUP_INVALID', `Entry ${e.index + 1} of the backup does not open with the backup's key: it was altered. Nothing was restored.`);
    if (body.kind === 'object' && isKey(body.class) !== (body.wrapped !== undefined)) throw new TesseraError('BACKUP_INVALID', `Entry ${e.index + 1} is inconsistent. Nothing was restored.`);
    bodies.push(body);
    await paced();
  }
  return bodies;
}

function lineFor(session: Session, body: EntryBody, existing: Map<string, CapturedObject[]>): { line: RestoreLine; entry: ObjectEntry | null; conflict: CapturedObject | null } {
  const base = { index: body.index, class: body.class, label: body.label, id: body.id };
  if (body.kind === 'excluded') return { line: { ...base, state: 'excluded', reason: body.reason }, entry: null, conflict: null };
  const candidates = [...(body.id !== '' ? (existing.get(`${body.class} id ${body.id}`) ?? []) : []), ...(body.label !== '' ? (existing.get(`${body.class} label ${body.label}`) ?? []) : [])];
  const same = [...new Set(candidates)];
  const identical = same.find((o) => o.id === body.id && o.label === body.label && sameContents(session, o, body));
  if (identical) return { line: { ...base, state: 'identical' }, entry: body, conflict: null };
  const conflict = same[0] ?? null;
  if (conflict) return { line: { ...base, state: 'conflict', conflictWith: `${conflict.label || '(no label)'} (id ${conflict.id || 'none'})` }, entry: body, conflict };
  return { line: { ...base, state: 'new' }, entry: body, conflict: null };
}

async function choose(run: CeremonyRun, params: RestoreParams, lines: RestoreLine[]): Promise<{ selected: Set<number>; replace: Set<number> }> {
  const restorable = lines.filter((l) => l.state !== 'excluded');
  if (params.onConflict !== 'ask') {
    const only = params.only?.map((id) => id.toLowerCase());
    if (only && !only.every((id) => restorable.some((l) => l.id === id))) {
      throw new TesseraError('INVALID_REQUEST', `The backup holds no object with id ${only.filter((id) => !restorable.some((l) => l.id === id)).join(', ')}. Nothing was restored.`);
    }
    const selected = new Set(restorable.filter((l) => !only || only.includes(l.id)).map((l) => l.index));
    const replace = new Set(params.onConflict === 'replace' ? lines.filter((l) => l.state === 'conflict' && selected.has(l.index)).map((l) => l.index) : []);
    return { selected, replace };
  }
  const valid = new Set(restorable.map((l) => l.index));
  let refusal: string | undefined;
  for (;;) {
    const input = await run.ask(
      { kind: 'choose-objects', text: 'Choose what to restore. Objects already in the partition as backed up are kept; for a conflict, choose to skip it or replace the object in the partition.', ...(refusal ? { refusal } : {}) },
      'choose',
    );
    const selected = new Set((input.only ?? [...valid]).filter((i) => valid.has(i)));
    const replace = new Set(input.replace.filter((i) => selected.has(i) && lines[i]?.state === 'conflict'));
    // A choice that writes nothing would end in a report of nothing done: say so and ask again.
    if (lines.some((l) => writes(l, selected, replace))) return { selected, replace };
    refusal =
      selected.size === 0
        ? 'No object is chosen: choose at least one, or cancel the restore.'
        : 'Nothing would be restored: every object chosen is already in the partition as backed up, or is a conflict you chose to skip. Choose another object, choose to replace a conflict, or cancel the restore.';
  }
}

/** Whether restoring `line` writes an object: chosen, and new or a conflict to replace. */
export function writes(line: RestoreLine, selected: Set<number>, replace: Set<number>): boolean {
  return selected.has(line.index) && (line.state === 'new' || (line.state === 'conflict' && replace.has(line.index)));
}

async function restoreOne(session: Session, mechanism: number, wrapKey: Handle, line: RestoreLine, entry: ObjectEntry | null, conflict: CapturedObject | null, selected: boolean, replace: boolean): Promise<RestoreOutcome> {
  const out = (outcome: RestoreOutcomeKind, check: string | null = null, notPreserved: string[] = [], message?: string): RestoreOutcome => ({ ...line, outcome, check, notPreserved, ...(message ? { message } : {}) });
  if (!entry) return out('excluded', null, [], line.reason);
  if (!selected) return out('not-selected');
  if (line.state === 'identical') return out('already-present', 'passed: the partition holds this object exactly as backed up');
  if (line.state === 'conflict' && !replace) return out('skipped', null, [], `Skipped: the partition holds another object with the same id or label (${line.conflictWith}).`);
  let handle: Handle;
  try {
    handle = entry.wrapped ? await session.unwrapKey(mechanism, wrapKey, Buffer.from(entry.wrapped, 'base64'), template(entry)) : session.createObject(template(entry));
  } catch (error) {
    return out('failed', null, [], `The HSM refused to recreate it${error instanceof TesseraError && error.detail ? ` (${error.detail})` : ''}.`);
  }
  // One read of what the partition made of it serves both the key check and the report.
  const now = capture(session, handle, CLASS_CODES[entry.class], entry.keyType);
  const check = isKey(entry.class) && now ? checkKey(session, now, entry) : { ok: true, text: 'passed: its value matches the backup' };
  if (!check.ok) {
    destroyQuietly(session, handle);
    return out('failed', `FAILED: ${check.text}`, [], 'The recreated key did not match the backup; it was removed again.');
  }
  const notPreserved = differences(now, entry);
  if (replace && conflict) {
    try {
      session.destroyObject(conflict.handle);
    } catch {
      return out('restored', check.text, notPreserved, `Restored, but the object it replaces (${line.conflictWith}) could not be destroyed.`);
    }
    return out('replaced', check.text, notPreserved);
  }
  return out('restored', check.text, notPreserved);
}
