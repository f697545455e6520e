// Keys through their life in the partition: invalidated by the crypto officer ("delete" while key
// invalidation is on: every usage attribute off, the key kept, its record in the trash bin), listed
// from the bin, reactivated under an SO quorum (every usage attribute exactly as recorded, read back
// and checked), or destroyed for good under the approvals the policy asks for (one key or many,
// reported per key). On a generic PKCS#11 module the SO cannot reach private keys (a R/W SO session
// sees public objects only, PKCS#11 v2.40 section 5.5): the crypto officer's session makes the change,
// the SO quorum's cards approve it (steps/approvals.ts), and the partition policy is enforced by the
// terminal first (policy/enforcement.ts).
import type { CeremonyStartOf } from '../../shared/ceremonies';
import type { CeremonyResult, InvalidatedKeyView, KeyChangeReport } from '../../shared/types';
import { TesseraError, toErrorData } from '../errors';
import { type KeyGroup, findKey, invalidateObjects, isInvalidated, setUsage } from '../keys/key-objects';
import { type InvalidationRecord, partitionRecords, removePartitionRecords, sameRecord, viewOf, writePartitionRecord } from '../keys/trash-bin';
import { SIGNING_LABEL } from '../backup/signing-key';
import { AUDIT_KEY_LABEL } from '../partition/audit-key';
import { changeDigest } from '../policy/policy';
import type { CeremonyContext, RunOptions } from './context';
import type { CeremonyRun } from './run';
import { approvalsFor, collectApprovals } from './steps/approvals';
import { briefing } from './steps/confirm';
import { crashPoint } from './steps/crash-points';
import { IntentSteps } from './steps/intent';

export const DESTROY_INTENT = 'key-destroy';
export const REACTIVATE_INTENT = 'key-reactivate';
interface KeyIntent {
  partition: string;
  ids: string[];
  /** Keys finished so far. */
  done: string[];
}

const target = (ctx: CeremonyContext): string => {
  const t = ctx.partition.partition();
  return `${t.label} (serial ${t.serial})`;
};

/**
 * Invalidates the key with CKA_ID `id` (hex) in the crypto officer's session: its record (usage
 * attributes exactly as they are) goes to the partition and the database first, then every usage
 * attribute is turned off. Done again after a crash, it finishes from the record already written
 * (never recording the turned-off attributes as what the key was).
 * @throws TesseraError NOT_LOGGED_IN; POLICY_REFUSED (read-only, object destruction off, key
 *   invalidation off); OBJECT_NOT_FOUND; INVALID_REQUEST (an id shared by several keys; already in
 *   the bin); HSM_ERROR when the token refuses the change (e.g. an unmodifiable key).
 */
export async function invalidateKey(ctx: CeremonyContext, id: string): Promise<InvalidatedKeyView> {
  const session = ctx.partition.coSession();
  ctx.policy.refuse('invalidate');
  const serial = ctx.partition.partition().serial;
  const key = findKey(session, id);
  refuseOwnKey(ctx, key, 'invalidated');
  const existing = partitionRecords(ctx.partition).find((r) => r.record?.id === id)?.record ?? null;
  const recorded = ctx.trash.open(serial).find((r) => r.id === id) ?? null;
  // A key whose every usage is off and that either record names is in the bin: its record (what it
  // was) is never replaced by the turned-off attributes.
  if (isInvalidated(key) && (existing || recorded)) {
    const r = (existing ?? recorded) as InvalidationRecord;
    throw new TesseraError('INVALID_REQUEST', `The key “${key.label}” (id ${id}) is in the trash bin already (invalidated on ${when(r.at)} by ${r.by})${existing ? '' : "; the partition's record of it is missing (removed outside the terminal): see the trash bin"}.`);
  }
  // The partition's record is taken up again only where a crash left it: written, and the key's
  // usage still exactly as it says (or already off, object by object). Anything else was written
  // outside the terminal and never says what the key was.
  if (existing && !matchesRecord(key, existing)) throw new TesseraError('INVALID_REQUEST', `The partition holds a trash-bin record of “${key.label}” (id ${id}) that does not match the key: it was written outside the terminal. Nothing was changed; remove that record first (it is a private data object labelled “Tessera invalidated key”).`);
  // A database row alone is stale (the key left the bin elsewhere): ended before a new record is made.
  if (!existing) ctx.trash.settle(serial, id, 'gone', ctx.actor);
  const record: InvalidationRecord = existing ?? {
    format: 'tessera-invalidated-key-v1',
    partition: serial,
    id,
    label: key.label,
    objects: key.objects.map((o) => ({ class: o.class, keyType: o.keyType, label: o.label, usage: o.usage })),
    by: ctx.actor,
    at: new Date().toISOString(),
  };
  try {
    if (!existing) writePartitionRecord(ctx.partition, record);
    ctx.trash.add(record);
    crashPoint('key-invalidate:recorded');
    invalidateObjects(session, key);
  } catch (error) {
    await ctx.audit.append({ actor: ctx.actor, action: 'key.invalidate', target: target(ctx), outcome: 'failed', details: { id, label: key.label, error: toErrorData(error).code } });
    throw error;
  }
  ctx.trash.add(record);
  const after = findKey(session, id);
  if (!isInvalidated(after)) throw new TesseraError('HSM_ERROR', `The partition did not turn off every usage of “${key.label}” (id ${id}). It is in the trash bin, but still usable: check it with the listing.`);
  await ctx.audit.append({ actor: ctx.actor, action: 'key.invalidate', target: target(ctx), outcome: 'ok', details: { id, label: key.label, objects: key.objects.map((o) => o.class).join(', '), usage: usageWords(record) } });
  return { ...viewOf(record, ['partition', 'terminal'], null), state: 'invalidated' };
}

/**
 * The trash bin of the chosen partition: this terminal's records, and with the crypto officer
 * logged in the partition's too (they must agree) and each key's state (still invalidated, usable
 * again, gone). Records found only on the partition are recorded in the database; destroys a crash
 * interrupted are finished for keys whose objects are all gone.
 * @throws TesseraError TOKEN_NOT_SELECTED; what the partition answers.
 */
export async function listInvalidated(ctx: CeremonyContext): Promise<InvalidatedKeyView[]> {
  const serial = ctx.partition.partition().serial;
  const loggedIn = ctx.partition.loggedIn;
  if (loggedIn) await finishInterruptedDestroys(ctx);
  const mine = ctx.trash.open(serial);
  if (!loggedIn) return mine.map((r) => viewOf(r, ['terminal'], null));
  const session = ctx.partition.coSession();
  const theirs = partitionRecords(ctx.partition);
  const out: InvalidatedKeyView[] = [];
  const ids = [...new Set([...mine.map((r) => r.id), ...theirs.flatMap((r) => (r.record ? [r.record.id] : []))])];
  for (const id of ids) {
    const own = mine.find((r) => r.id === id) ?? null;
    const onPartition = theirs.find((r) => r.record?.id === id)?.record ?? null;
    const record = (onPartition ?? own) as InvalidationRecord;
    let problem: string | null = null;
    if (own && onPartition && !sameRecord(own, onPartition)) problem = "The partition's record of this key differs from this terminal's: one of them was changed outside the terminal. It cannot be reactivated until that is explained.";
    if (own && !onPartition) problem = "The partition's trash bin no longer lists this key: another terminal reactivated or destroyed it, or its record was removed outside the terminal.";
    const view = viewOf(record, [...(onPartition ? ['partition' as const] : []), ...(own ? ['terminal' as const] : [])], problem);
    try {
      const key = findKey(session, id);
      view.state = isInvalidated(key) ? 'invalidated' : 'usable-again';
      if (!isInvalidated(key)) {
        view.problem ??= sameUsage(key, record)
          ? 'Every usage attribute is on again, exactly as recorded (a reactivation a crash interrupted): reactivate it to clear its record.'
          : 'Some of its usage attributes are on, not as recorded: the key or its record was changed outside the terminal.';
      }
      // A record only the partition holds is learned while it describes a key in the bin.
      if (onPartition && !own && view.state === 'invalidated') ctx.trash.add(onPartition);
    } catch (error) {
      if (!(error instanceof TesseraError) || error.code !== 'OBJECT_NOT_FOUND') throw error;
      view.state = 'missing';
      view.problem ??= 'Its objects are no longer in the partition (destroyed outside the terminal, or by a destroy a crash interrupted). Destroy it here to clear the record.';
    }
    out.push(view);
  }
  for (const bad of theirs.filter((r) => r.problem)) {
    out.push({ id: '', label: '(unreadable record)', objects: [], invalidatedBy: '', invalidatedAt: '', recordedOn: ['partition'], state: 'not-checked', problem: `A trash-bin record on the partition is not trusted: ${bad.problem}.` });
  }
  return out;
}

type KeyResult<K extends 'key-reactivate' | 'key-destroy'> = Extract<CeremonyResult, { kind: K }>;

/** The bin's record of `id`, as the partition holds it and the terminal agrees with. */
async function binRecord(ctx: CeremonyContext, id: string): Promise<{ record: InvalidationRecord; view: InvalidatedKeyView }> {
  const view = (await listInvalidated(ctx)).find((v) => v.id === id);
  if (!view) throw new TesseraError('OBJECT_NOT_FOUND', `No key with id ${id} is in the trash bin of “${ctx.partition.partition().label}”.`);
  const record = partitionRecords(ctx.partition).find((r) => r.record?.id === id)?.record;
  if (!record) throw new TesseraError('INVALID_REQUEST', view.problem ?? `The partition holds no record of key ${id}.`);
  if (view.problem && view.state !== 'usable-again') throw new TesseraError('INVALID_REQUEST', `Key “${view.label}” (id ${id}): ${view.problem}`);
  // Usable again: only exactly as recorded (a reactivation cut short); anything else was changed outside.
  if (view.state === 'usable-again' && !sameUsage(findKey(ctx.partition.coSession(), id), record)) throw new TesseraError('INVALID_REQUEST', `Key “${view.label}” (id ${id}): ${view.problem ?? 'its usage is not as recorded'} Nothing is reactivated from this record.`);
  return { record, view };
}

/** The ceremony's steps, as declared in src/shared/ceremonies.ts. */
const REACTIVATE = { key: 0, quorum: 1, reactivate: 2 } as const;

/**
 * Reactivates a key from the trash bin: its record is shown (each usage attribute that comes back)
 * with the digest, a quorum of the SO set approves, the crypto officer's session sets every usage
 * attribute exactly as recorded, reads them back and compares, then the key leaves the bin.
 * Recorded as `key.reactivate` with the approvers, their cards and the digest.
 * @throws TesseraError POLICY_REFUSED (read-only); OBJECT_NOT_FOUND (not in the bin, or its objects
 *   gone); INVALID_REQUEST (records that disagree); HSM_ERROR when the attributes read back differ;
 *   CARD_ERROR; CeremonyCancelled.
 */
export async function reactivateKey(run: CeremonyRun, ctx: CeremonyContext, start: CeremonyStartOf<'key-reactivate'>, options: RunOptions): Promise<KeyResult<'key-reactivate'>> {
  const session = ctx.partition.coSession();
  const token = ctx.partition.partition();
  run.stepTo(REACTIVATE.key);
  ctx.policy.refuse('reactivate');
  const { record, view } = await binRecord(ctx, start.id);
  const key = findKey(session, start.id);
  const digest = changeDigest({ action: 'reactivate', partition: token.serial, id: record.id, objects: record.objects });
  run.show({ kind: 'key-change', action: 'reactivate', keys: [view], digest });
  await briefing(run, [`Reactivate “${record.label}” (id ${record.id}) in “${token.label}” (serial ${token.serial}): every usage attribute comes back exactly as it was before ${record.by} invalidated it on ${when(record.at)}:`, ...record.objects.map((o) => `  ${classWords(o.class)} “${o.label}”: ${onWords(o.usage)}`), `Digest of this change: ${digest}.`, `Who must be present: ${approvalsFor(ctx, null)} holders of the SO card set, with their cards.`].join('\n'));

  run.stepTo(REACTIVATE.quorum);
  const approvers = await collectApprovals(run, ctx, { count: approvalsFor(ctx, null), digest, what: `reactivating “${record.label}”`, ...options });

  run.stepTo(REACTIVATE.reactivate);
  ctx.policy.refuse('reactivate');
  if (ctx.partition.partition().serial !== token.serial) throw new TesseraError('TOKEN_NOT_FOUND', 'The partition changed while the cards were read. Nothing was changed.');
  const intent = new IntentSteps<KeyIntent>(ctx.intents, REACTIVATE_INTENT, 'setting', { partition: token.serial, ids: [record.id], done: [] });
  try {
    run.working(`Reactivating “${record.label}”…`);
    setUsage(session, key, record.objects);
    const after = findKey(session, record.id);
    const differs = record.objects.flatMap((o) => {
      const now = after.objects.find((a) => a.class === o.class);
      return Object.entries(o.usage).filter(([name, value]) => now?.usage[name] !== value).map(([name, value]) => `${o.class} ${name}: recorded ${value ? 'on' : 'off'}, now ${now?.usage[name] === undefined ? 'not given' : now.usage[name] ? 'on' : 'off'}`);
    });
    if (differs.length > 0) throw new TesseraError('HSM_ERROR', `The partition did not take every usage attribute of “${record.label}” back as recorded (${differs.join('; ')}). It stays in the trash bin.`);
    run.wrote(`“${record.label}” is usable again.`);
    intent.advance('set', intent.data, 'set');
    removePartitionRecords(ctx.partition, record.id);
    ctx.trash.settle(token.serial, record.id, 'reactivated', ctx.actor);
    await ctx.audit.append({ actor: ctx.actor, action: 'key.reactivate', target: target(ctx), outcome: 'ok', details: { id: record.id, label: record.label, usage: usageWords(record), digest, approvers: approvers.map((a) => a.holder).join(', '), cards: approvers.map((a) => a.card).join(', ') } });
    intent.finish('done');
  } catch (error) {
    intent.finish('failed');
    throw error;
  }
  const report: KeyChangeReport = { partition: { label: token.label, serial: token.serial }, action: 'reactivate', digest, approvers, keys: [{ id: record.id, label: record.label, outcome: 'reactivated', detail: null }] };
  return { kind: 'key-reactivate', report };
}

const DESTROY = { keys: 0, approvals: 1, destroy: 2 } as const;

/**
 * Destroys keys for good (C_DestroyObject on each object: private or secret key first, the public
 * key last): a confirmation names each key, with the digest; the approvals the policy asks for
 * (`approvals.destroy`, at least the SO quorum) are taken; then each key is destroyed and its record
 * removed, reported (and recorded, `key.destroy`) per key. While key invalidation is on only keys in
 * the trash bin are destroyed. A crash leaves each key whole or destroyed; a key left with only its
 * public key is finished by the next destroy or listing.
 * @throws TesseraError POLICY_REFUSED (read-only, object destruction off); OBJECT_NOT_FOUND;
 *   INVALID_REQUEST (a key not in the bin); CARD_ERROR; CeremonyCancelled.
 */
export async function destroyKeys(run: CeremonyRun, ctx: CeremonyContext, start: CeremonyStartOf<'key-destroy'>, options: RunOptions): Promise<KeyResult<'key-destroy'>> {
  const session = ctx.partition.coSession();
  const token = ctx.partition.partition();
  run.stepTo(DESTROY.keys);
  const state = ctx.policy.state();
  ctx.policy.refuse('destroy', state);
  const ids = [...new Set(start.ids)];
  const bin = await listInvalidated(ctx);
  const plan: { id: string; label: string; key: KeyGroup | null; view: InvalidatedKeyView }[] = [];
  for (const id of ids) {
    const inBin = bin.find((v) => v.id === id) ?? null;
    let key: KeyGroup | null = null;
    try {
      key = findKey(session, id);
    } catch (error) {
      if (!(error instanceof TesseraError) || error.code !== 'OBJECT_NOT_FOUND' || !inBin) throw error;
    }
    if (key) refuseOwnKey(ctx, key, 'destroyed');
    // In the bin means invalidated (every usage off) or already gone; a record beside a usable key is not enough.
    if (inBin && inBin.state !== 'invalidated' && inBin.state !== 'missing') throw new TesseraError('INVALID_REQUEST', `“${inBin.label}” (id ${id}) is listed in the trash bin but is not invalidated: ${inBin.problem ?? 'its usage is on'} Nothing was destroyed.`);
    if (!inBin && state.policy.settings['key-invalidation']) throw new TesseraError('INVALID_REQUEST', `“${key?.label ?? id}” (id ${id}) is not in the trash bin. While key invalidation is on, a key is invalidated first (Keys → Delete), then destroyed from the trash bin.`);
    const view: InvalidatedKeyView = inBin ?? { id, label: key?.label ?? '', objects: (key?.objects ?? []).map((o) => ({ class: o.class, keyType: o.keyType, label: o.label, usage: o.usage })), invalidatedBy: '', invalidatedAt: '', recordedOn: [], state: 'not-checked', problem: null };
    plan.push({ id, label: view.label, key, view });
  }
  const digest = changeDigest({ action: 'destroy', partition: token.serial, keys: plan.map((p) => ({ id: p.id, label: p.label, objects: (p.key?.objects ?? []).map((o) => o.class) })) });
  run.show({ kind: 'key-change', action: 'destroy', keys: plan.map((p) => p.view), digest });
  const count = approvalsFor(ctx, 'destroy');
  await briefing(
    run,
    [
      `Destroy ${plan.length === 1 ? 'this key' : `these ${plan.length} keys`} in “${token.label}” (serial ${token.serial}) for good. Nobody can bring ${plan.length === 1 ? 'it' : 'them'} back, except from a backup that holds ${plan.length === 1 ? 'it' : 'them'} (only extractable keys are backed up):`,
      ...plan.map((p) => `  “${p.label}” (id ${p.id}): ${p.key ? p.key.objects.map((o) => classWords(o.class)).join(' and ') : 'its objects are gone already; its record is cleared'}`),
      `Digest of this change: ${digest}.`,
      `Approvals needed: ${count} holders of the SO card set (the partition policy's approvals.destroy), each with their card.`,
    ].join('\n'),
  );

  run.stepTo(DESTROY.approvals);
  const approvers = await collectApprovals(run, ctx, { count, digest, what: `destroying ${plan.length === 1 ? `“${plan[0]?.label}”` : `${plan.length} keys`}`, ...options });

  run.stepTo(DESTROY.destroy);
  ctx.policy.refuse('destroy');
  if (ctx.partition.partition().serial !== token.serial) throw new TesseraError('TOKEN_NOT_FOUND', 'The partition changed while the cards were read. Nothing was destroyed.');
  const intent = new IntentSteps<KeyIntent>(ctx.intents, DESTROY_INTENT, 'destroying', { partition: token.serial, ids: plan.map((p) => p.id), done: [] });
  const keys: KeyChangeReport['keys'] = [];
  let n = 0;
  for (const p of plan) {
    n += 1;
    run.progress(n - 1, plan.length);
    run.working(`Destroying “${p.label}” (${n} of ${plan.length})…`);
    try {
      const fresh = p.key ? findKeyOrNull(session, p.id) : null;
      // Private or secret key first: a key cut short keeps only its public half, which tells.
      for (const o of fresh?.objects ?? []) session.destroyObject(o.handle);
      crashPoint(`${DESTROY_INTENT}:key-${n}`);
      removePartitionRecords(ctx.partition, p.id);
      ctx.trash.settle(token.serial, p.id, 'destroyed', ctx.actor);
      intent.advance('destroying', { ...intent.data, done: [...intent.data.done, p.id] });
      await ctx.audit.append({ actor: ctx.actor, action: 'key.destroy', target: target(ctx), outcome: 'ok', details: { id: p.id, label: p.label, objects: (fresh?.objects ?? []).map((o) => o.class).join(', ') || 'none left', digest, approvers: approvers.map((a) => a.holder).join(', '), cards: approvers.map((a) => a.card).join(', ') } });
      run.wrote(`“${p.label}” (id ${p.id}) was destroyed.`, `destroyed-${p.id}`);
      keys.push({ id: p.id, label: p.label, outcome: 'destroyed', detail: null });
    } catch (error) {
      const e = toErrorData(error);
      await ctx.audit.append({ actor: ctx.actor, action: 'key.destroy', target: target(ctx), outcome: 'failed', details: { id: p.id, label: p.label, error: e.code, digest } });
      keys.push({ id: p.id, label: p.label, outcome: 'failed', detail: e.message });
      run.notice('error', `“${p.label}” (id ${p.id}) was not destroyed: ${e.message}`, e.detail);
    }
  }
  run.progress(plan.length, plan.length);
  intent.finish('done');
  return { kind: 'key-destroy', report: { partition: { label: token.label, serial: token.serial }, action: 'destroy', digest, approvers, keys } };
}

function findKeyOrNull(session: ReturnType<CeremonyContext['partition']['coSession']>, id: string): KeyGroup | null {
  try {
    return findKey(session, id);
  } catch (error) {
    if (error instanceof TesseraError && error.code === 'OBJECT_NOT_FOUND') return null;
    throw error;
  }
}

/**
 * Destroys a crash interrupted, finished where the approvals were given: a key of the interrupted
 * destroy whose private or secret key is gone has its public key (if left) and record removed, and
 * is recorded as destroyed; a key still whole stays in the bin. Needs the crypto officer's session.
 */
async function finishInterruptedDestroys(ctx: CeremonyContext): Promise<void> {
  const serial = ctx.partition.partition().serial;
  const session = ctx.partition.coSession();
  for (const intent of ctx.intents.unfinished<KeyIntent>(DESTROY_INTENT)) {
    // Only what a start found interrupted (recoverKeyChanges): a destroy under way in this process is its own business.
    if (intent.data.partition !== serial || intent.step !== 'interrupted') continue;
    const finished: string[] = [];
    // Nothing is destroyed here (the intent is only a database row): a key whose objects are all
    // gone has its record cleared; a key cut short (its public key left) stays in the bin, to be
    // destroyed again under the approvals.
    for (const id of intent.data.ids.filter((i) => !intent.data.done.includes(i))) {
      if (findKeyOrNull(session, id)) continue;
      removePartitionRecords(ctx.partition, id);
      ctx.trash.settle(serial, id, 'destroyed', ctx.actor);
      finished.push(id);
      await ctx.audit.append({ actor: ctx.actor, action: 'key.destroy', target: target(ctx), outcome: 'ok', details: { id, finished: 'a destroy a crash interrupted: the key was gone, its record is cleared' } });
    }
    ctx.intents.finish(intent, 'recovered');
  }
}

/** At start: what a crash interrupted, in officers' words (the partition is finished at the next crypto-officer listing). */
export async function recoverKeyChanges(ctx: CeremonyContext): Promise<string[]> {
  const said: string[] = [];
  for (const intent of ctx.intents.unfinished<KeyIntent>(DESTROY_INTENT)) {
    // Left open for the next crypto-officer listing to finish; said (and recorded) once.
    if (intent.step === 'interrupted') continue;
    ctx.intents.step(intent, 'interrupted');
    said.push(`A destroy of ${intent.data.ids.length} key(s) in the partition with serial ${intent.data.partition} was interrupted after ${intent.data.done.length}. Open the trash bin with the crypto officer logged in: the records of keys already gone are cleared; keys still there (whole, or with only their public key left) stay in the bin, to be destroyed again.`);
    await ctx.audit.append({ actor: ctx.actor, action: 'key.destroy.recover', target: intent.data.partition, outcome: 'ok', details: { keys: intent.data.ids.join(', '), done: intent.data.done.join(', ') } });
  }
  for (const intent of ctx.intents.unfinished<KeyIntent>(REACTIVATE_INTENT)) {
    ctx.intents.finish(intent, 'interrupted');
    said.push(`A reactivation of key ${intent.data.ids.join(', ')} in the partition with serial ${intent.data.partition} was interrupted. Open the trash bin: if the key is usable again, reactivate it once more to clear its record; otherwise it is still in the bin.`);
    await ctx.audit.append({ actor: ctx.actor, action: 'key.reactivate.recover', target: intent.data.partition, outcome: 'ok', details: { keys: intent.data.ids.join(', '), step: intent.step } });
  }
  return said;
}

/** Whether each object's usage is exactly as recorded, or (a crash half way through invalidating) all off. */
function matchesRecord(key: KeyGroup, record: InvalidationRecord): boolean {
  return key.objects.every((o) => {
    const was = record.objects.find((r) => r.class === o.class);
    if (!was) return false;
    const off = Object.values(o.usage).every((v) => !v);
    return off || Object.entries(o.usage).every(([name, value]) => (was.usage[name] ?? false) === value);
  });
}

/** Whether every object's usage is exactly as recorded (attributes the record names). */
function sameUsage(key: KeyGroup, record: InvalidationRecord): boolean {
  return record.objects.every((r) => {
    const now = key.objects.find((o) => o.class === r.class);
    return !!now && Object.entries(r.usage).every(([name, value]) => now.usage[name] === value) && Object.entries(now.usage).every(([name, value]) => (r.usage[name] ?? false) === value);
  });
}

/** The terminal's own keys (the audit key, the backup-signing key) are not officers' keys to delete. */
function refuseOwnKey(ctx: CeremonyContext, key: KeyGroup, what: string): void {
  // The partition's backup set (its anchor) names the signing key even on a terminal without records; the label too.
  const signingKeyId = ctx.store.active(ctx.partition.partition().serial, 'backup')?.backup?.signingKeyId ?? trustedSigningKeyId(ctx);
  if (key.objects.some((o) => o.label === SIGNING_LABEL)) throw new TesseraError('INVALID_REQUEST', `“${key.label}” (id ${key.id}) is labelled as the partition's backup-signing key: it is not ${what} here (rotate the backup key set instead).`);
  if (key.objects.some((o) => o.label === AUDIT_KEY_LABEL)) throw new TesseraError('INVALID_REQUEST', `“${key.label}” (id ${key.id}) is the partition's audit key: it seals the audit log and is not ${what} here.`);
  if (signingKeyId && key.id === signingKeyId) throw new TesseraError('INVALID_REQUEST', `“${key.label}” (id ${key.id}) is the partition's backup-signing key: it is not ${what} here (rotate the backup key set instead).`);
}

function trustedSigningKeyId(ctx: CeremonyContext): string | null {
  try {
    return ctx.trust('backup')?.descriptor?.backup?.signingKeyId ?? null;
  } catch {
    return null;
  }
}

/** "private key", "secret key", "public key". */
function classWords(c: string): string {
  return c.replace('-', ' ');
}

/** "2026-11-30 14:14 UTC": a record's ISO time, in words officers read (their locale: the window's business). */
function when(iso: string): string {
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})/.exec(iso);
  return m ? `${m[1]} ${m[2]} UTC` : iso;
}

/** "CKA_SIGN on, CKA_DECRYPT off" for each object. */
function usageWords(record: InvalidationRecord): string {
  return record.objects.map((o) => `${o.class}: ${Object.entries(o.usage).map(([k, v]) => `${k} ${v ? 'on' : 'off'}`).join(', ')}`).join('; ');
}

function onWords(usage: Record<string, boolean>): string {
  const on = Object.entries(usage).filter(([, v]) => v).map(([k]) => k);
  return on.length > 0 ? `${on.join(', ')} on (the others off)` : 'every usage stays off (it had none)';
}
